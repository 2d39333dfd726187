//! `cargo xtask new-migration` and `merge` write files that the next build of an
//! embedding crate accepts; a second head fails that build as documented, and
//! the merge fixes it.
//!
//! The crate is a scratch copy under `CARGO_TARGET_TMPDIR` whose `main.rs` is
//! the README's "embed in your own binary" example; it is built with this
//! workspace's target dir, so only the scratch crate itself compiles. Slow, so
//! there is one test, and it runs in the default-feature suite only (the server
//! suites build the runtime with other features).

use crate::support::{cargo, scratch_dir, target_dir, xtask, Run, TempDir};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The README's example: a binary that embeds its migrations, migrates on
/// launch, and mounts the command set as `migrate`.
const MAIN_RS: &str = r#"use clap::{Parser, Subcommand};
use alembix::cli::{MigrateArgs, Runner};
use alembix::{Config, Database, EmbeddedMigrations, Migrator};
use std::process::ExitCode;

static MIGRATIONS: EmbeddedMigrations = alembix::embed_migrations!("migrations");

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Alembic's commands over the migrations built into this binary.
    Migrate(MigrateArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Some(Command::Migrate(args)) => Runner::embedded(&MIGRATIONS).run(&args.command).into(),
        None => match launch() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn launch() -> Result<(), alembix::Error> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://app.sqlite".into());
    let migrator = Migrator::from_embedded(&MIGRATIONS, Config::default())?;
    let report = migrator.launch(&mut Database::connect(&url)?)?;
    println!("at {}: {} migration(s) applied", report.rows_after.join(", "), report.steps.len());
    Ok(())
}
"#;

const BUILD_RS: &str = "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n";

struct Scratch {
    dir: PathBuf,
    name: &'static str,
}

impl Scratch {
    fn new(name: &'static str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir).expect("clean the scratch crate");
        }
        fs::create_dir_all(dir.join("src")).expect("src");
        fs::create_dir_all(dir.join("migrations")).expect("migrations");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nalembix = {{ path = {:?} }}\nclap = {{ version = \"4\", features = [\"derive\"] }}\n\n[workspace]\n",
            workspace.join("alembix").display().to_string()
        );
        fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
        // The workspace's lock file pins the same versions: nothing to resolve.
        fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock file");
        fs::write(dir.join("src/main.rs"), MAIN_RS).expect("main.rs");
        fs::write(dir.join("build.rs"), BUILD_RS).expect("build.rs");
        Scratch { dir, name }
    }

    fn migrations(&self) -> PathBuf {
        self.dir.join("migrations")
    }

    fn write(&self, file: &str, text: &str) {
        fs::write(self.migrations().join(file), text).expect("write migration");
    }

    /// Puts SQL into the empty sections of the file `new-migration` wrote.
    fn fill(&self, revision: &str, upgrade: &str, downgrade: &str) {
        let path = fs::read_dir(self.migrations())
            .expect("read migrations")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(&format!("_{revision}.sql")))
            })
            .unwrap_or_else(|| panic!("no file for {revision}"));
        let text = fs::read_to_string(&path).expect("read");
        let text = text
            .replace(
                "-- migrate:upgrade\n",
                &format!("-- migrate:upgrade\n{upgrade}\n"),
            )
            .replace(
                "-- migrate:downgrade\n",
                &format!("-- migrate:downgrade\n{downgrade}\n"),
            );
        fs::write(&path, text).expect("write");
    }

    fn build(&self) -> Run {
        let output = cargo()
            .args(["build", "--quiet", "--manifest-path"])
            .arg(self.dir.join("Cargo.toml"))
            .output()
            .expect("run cargo build");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(target_dir().join("debug").join(self.name))
            .args(args)
            .current_dir(&self.dir)
            .env_remove("DATABASE_URL")
            .output()
            .expect("run the scratch binary");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn xtask(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        let dir = self.migrations().display().to_string();
        all.extend_from_slice(&["--dir", &dir]);
        xtask(&self.dir, &all)
    }
}

#[test]
fn new_migration_and_merge_feed_the_next_build() {
    if cfg!(any(feature = "postgres", feature = "mysql")) {
        eprintln!("skipping the scaffold build test: it runs in the default-feature suite");
        return;
    }
    let s = Scratch::new("chatbot_scaffold");
    s.write(
        "2026-01-01_create_notes_aaaaaaaaaaa1.sql",
        "-- revision: aaaaaaaaaaa1\n-- down_revision: none\n-- message: create notes\n\n-- migrate:upgrade\nCREATE TABLE notes (id INTEGER PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE notes;\n",
    );
    s.write(
        "2026-01-02_add_title_aaaaaaaaaaa2.sql",
        "-- revision: aaaaaaaaaaa2\n-- down_revision: aaaaaaaaaaa1\n-- message: add title\n\n-- migrate:upgrade\nALTER TABLE notes ADD COLUMN title TEXT;\n\n-- migrate:downgrade\nALTER TABLE notes DROP COLUMN title;\n",
    );
    s.build().ok();
    assert_eq!(
        s.run(&["migrate", "heads"]).ok().stdout,
        "aaaaaaaaaaa2 (head)\n"
    );

    // A new migration chained onto the head.
    let created = s
        .xtask(&[
            "new-migration",
            "-m",
            "add tags",
            "--rev-id",
            "aaaaaaaaaaa3",
        ])
        .ok();
    assert!(
        created.stdout.contains(
            "_add_tags_aaaaaaaaaaa3.sql (revision aaaaaaaaaaa3, down_revision aaaaaaaaaaa2)"
        ),
        "{created:?}"
    );
    s.fill(
        "aaaaaaaaaaa3",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);",
        "DROP TABLE tags;",
    );
    s.build().ok();
    assert_eq!(
        s.run(&["migrate", "heads"]).ok().stdout,
        "aaaaaaaaaaa3 (head)\n"
    );

    // A second head, as when two people branch from the same parent.
    s.xtask(&[
        "new-migration",
        "-m",
        "add colors",
        "--head",
        "aaaaaaaaaaa2",
        "--splice",
        "--rev-id",
        "aaaaaaaaaaa4",
    ])
    .ok();
    s.fill(
        "aaaaaaaaaaa4",
        "CREATE TABLE colors (id INTEGER PRIMARY KEY);",
        "DROP TABLE colors;",
    );
    let failed = s.build();
    assert_ne!(failed.code, 0, "a second head must fail the build");
    for expected in [
        "the history has 2 heads: aaaaaaaaaaa4 (migrations/",
        "aaaaaaaaaaa3 (migrations/",
        "which both build on aaaaaaaaaaa2",
        "merge them with `cargo xtask merge",
    ] {
        assert!(
            failed.stderr.contains(expected),
            "`{expected}` missing from:\n{}",
            failed.stderr
        );
    }
    // The folder commands still show both heads, and say what to do.
    let heads = s.xtask(&["heads"]).ok();
    assert_eq!(heads.stdout, "aaaaaaaaaaa4 (head)\naaaaaaaaaaa3 (head)\n");
    assert!(heads.stderr.contains("cargo xtask merge"), "{heads:?}");

    let merged = s
        .xtask(&["merge", "-m", "merge heads", "--rev-id", "aaaaaaaaaaa5"])
        .ok();
    assert!(
        merged
            .stdout
            .contains("(revision aaaaaaaaaaa5, down_revision aaaaaaaaaaa4, aaaaaaaaaaa3)"),
        "{merged:?}"
    );
    s.build().ok();
    assert_eq!(
        s.run(&["migrate", "heads"]).ok().stdout,
        "aaaaaaaaaaa5 (head)\n"
    );
    let history = s.run(&["migrate", "history"]).ok().stdout;
    assert!(
        history.starts_with(
            "aaaaaaaaaaa4, aaaaaaaaaaa3 -> aaaaaaaaaaa5 (head) (mergepoint), merge heads\n"
        ),
        "{history}"
    );

    // The binary migrates on launch; its migrate commands see the result.
    let launched = s.run(&[]).ok();
    assert_eq!(launched.stdout, "at aaaaaaaaaaa5: 5 migration(s) applied\n");
    let check = s
        .run(&["migrate", "check", "--db", "sqlite://app.sqlite", "--json"])
        .ok()
        .json();
    assert_eq!(check["status"], "ok");
}

#[test]
fn readme_shows_the_program_this_test_builds() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    assert!(
        readme.contains(&format!("// src/main.rs\n{MAIN_RS}```")),
        "README's \"Embed in your own binary\" example differs from tests/it/scaffold.rs MAIN_RS"
    );
    assert!(readme.contains(BUILD_RS.trim_end()));
}

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
