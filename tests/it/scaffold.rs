//! `new-migration` says where it wrote the file. The whole path from `cargo
//! new` to a binary that migrates on launch is `new_project.rs`.

use crate::support::{scratch_dir, xtask, TempDir};

/// `new-migration --dir /abs/path` run from elsewhere says where the file
/// went: a path that opens from where the command ran.
#[test]
fn new_migration_names_the_file_it_wrote() {
    let elsewhere = TempDir(scratch_dir("scaffold-cwd"));
    let target = TempDir(scratch_dir("scaffold-dir"));
    let dir = target.0.join("db").join("migrations");
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.display().to_string();
    let run = xtask(
        &elsewhere.0,
        &[
            "new-migration",
            "-m",
            "first",
            "--rev-id",
            "bbbbbbbbbbb1",
            "--dir",
            &dir_text,
        ],
    )
    .ok();
    let written = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "sql"))
        .expect("a migration file was written");
    assert!(
        run.stdout
            .starts_with(&format!("created {} ", written.display())),
        "{run:?}"
    );
}

/// `new-migration --variant postgresql` writes a variant of each section
/// beside the default; in a history that declares its dialects, a variant
/// for another one is refused before anything is written; `show` names the
/// variants and the checksum each dialect records; a folder command on a
/// database of an undeclared dialect is refused with the declaration's fix.
#[test]
fn variants_are_written_declared_and_refused() {
    let target = TempDir(scratch_dir("scaffold-variants"));
    let dir = target.0.join("migrations");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("alembix.toml"), "dialects = [\"postgresql\"]\n").unwrap();
    let dir_text = dir.display().to_string();
    let refused = xtask(
        &target.0,
        &[
            "new-migration",
            "-m",
            "events",
            "--rev-id",
            "ccccccccccc1",
            "--variant",
            "mysql",
            "--dir",
            &dir_text,
        ],
    )
    .code(1);
    assert!(
        refused
            .all()
            .contains("a `mysql` variant, but the history declares postgresql only"),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "nothing was written"
    );

    std::fs::write(
        dir.join("alembix.toml"),
        "dialects = [\"sqlite\", \"postgresql\"]\n",
    )
    .unwrap();
    xtask(
        &target.0,
        &[
            "new-migration",
            "-m",
            "events",
            "--rev-id",
            "ccccccccccc1",
            "--variant",
            "postgresql",
            "--dir",
            &dir_text,
        ],
    )
    .ok();
    let written = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "sql"))
        .expect("a migration file was written");
    let text = std::fs::read_to_string(&written).unwrap();
    let markers: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("-- migrate:"))
        .collect();
    assert_eq!(
        markers,
        [
            "-- migrate:upgrade",
            "-- migrate:upgrade postgresql",
            "-- migrate:downgrade",
            "-- migrate:downgrade postgresql"
        ]
    );
    let filled = text
        .replace(
            "-- migrate:upgrade\n",
            "-- migrate:upgrade\nCREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT);\n",
        )
        .replace(
            "-- migrate:upgrade postgresql\n",
            "-- migrate:upgrade postgresql\nCREATE TABLE events (id BIGSERIAL PRIMARY KEY);\n",
        )
        .replace(
            "-- migrate:downgrade\n",
            "-- migrate:downgrade\nDROP TABLE events;\n",
        )
        .replace(
            "-- migrate:downgrade postgresql\n",
            "-- migrate:downgrade postgresql\nDROP TABLE events;\n",
        );
    std::fs::write(&written, filled).unwrap();

    let show = xtask(&target.0, &["show", "ccccccccccc1", "--dir", &dir_text]).ok();
    assert!(show.stdout.contains("Variants: postgresql"), "{show:?}");
    assert!(
        show.stdout.contains("Checksum (postgresql): sha256:"),
        "{show:?}"
    );

    let db = target.0.join("app.sqlite");
    let url = format!("sqlite://{}", db.display());
    xtask(
        &target.0,
        &["upgrade", "heads", "--dir", &dir_text, "--db", &url],
    )
    .ok();
    let sql = xtask(
        &target.0,
        &[
            "upgrade",
            "heads",
            "--sql",
            "--dialect",
            "postgresql",
            "--dir",
            &dir_text,
        ],
    )
    .ok();
    assert!(sql.stdout.contains("BIGSERIAL"), "{sql:?}");
    let mysql = xtask(
        &target.0,
        &[
            "upgrade",
            "heads",
            "--sql",
            "--dialect",
            "mysql",
            "--dir",
            &dir_text,
        ],
    )
    .code(1);
    assert!(mysql.all().contains("written for sqlite, postgresql (the dialects its alembix.toml declares); the database is mysql"), "{mysql:?}");
}
