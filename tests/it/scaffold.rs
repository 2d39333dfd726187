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
