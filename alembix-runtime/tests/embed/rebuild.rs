//! Editing, adding and deleting a migration makes the next `cargo build` of the
//! embedding crate embed the new set, without `cargo clean`.
//!
//! Each test writes a scratch crate under `CARGO_TARGET_TMPDIR` that depends on
//! this crate by path, builds it with this workspace's target dir (so the
//! dependencies are already built) and runs it; it prints what it embedded.
//! Edits and deletions are tracked by the `include_bytes!` the macro emits; the
//! crate that adds a file carries the one-line `build.rs` the docs ask for.

use crate::TestResult;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// The one line of build script users add (see the `embedded` module docs).
const BUILD_RS: &str = "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n";

const MAIN_RS: &str = r#"static MIGRATIONS: alembix_runtime::EmbeddedMigrations =
    alembix_runtime::embed_migrations!("migrations");

fn main() {
    for m in MIGRATIONS.migrations() {
        let statements: Vec<&str> = m.upgrade().statements(alembix_runtime::core::SqlDialect::Sqlite).map(|s| s.sql()).collect();
        println!("{} {}", m.revision(), statements.join(" | "));
    }
    println!("heads {}", MIGRATIONS.heads().join(","));
}
"#;

/// A crate outside the workspace that embeds its own `migrations/` folder.
struct Scratch {
    name: &'static str,
    dir: PathBuf,
    target: PathBuf,
}

impl Scratch {
    fn new(name: &'static str, build_script: bool) -> Result<Scratch, Box<dyn std::error::Error>> {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let target = tmp
            .parent()
            .ok_or("CARGO_TARGET_TMPDIR has no parent")?
            .to_path_buf();
        let dir = tmp.join("embed-rebuild").join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(dir.join("src"))?;
        fs::create_dir_all(dir.join("migrations"))?;
        let runtime = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nalembix-runtime = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        );
        fs::write(dir.join("Cargo.toml"), manifest)?;
        // The workspace's lock file pins the same versions, so nothing is resolved
        // or downloaded and the dependencies already built are reused.
        let lock = runtime.join("../Cargo.lock");
        if lock.is_file() {
            fs::copy(lock, dir.join("Cargo.lock"))?;
        }
        fs::write(dir.join("src/main.rs"), MAIN_RS)?;
        if build_script {
            fs::write(dir.join("build.rs"), BUILD_RS)?;
        }
        Ok(Scratch { name, dir, target })
    }

    /// Writes `migrations/<name>.sql`: `revision` on `down_revision`, with `sql` as
    /// its upgrade.
    fn write(&self, name: &str, revision: &str, down_revision: &str, sql: &str) -> TestResult {
        let text = format!(
            "-- revision: {revision}\n-- down_revision: {down_revision}\n\n\
             -- migrate:upgrade\n{sql}\n\n-- migrate:downgrade\n-- nothing to revert\n"
        );
        fs::write(self.migration(name), text)?;
        Ok(())
    }

    fn migration(&self, name: &str) -> PathBuf {
        self.dir.join("migrations").join(format!("{name}.sql"))
    }

    /// `cargo build`, then runs the binary; returns what it printed.
    fn build_and_run(&self) -> Result<String, Box<dyn std::error::Error>> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let build = Command::new(cargo)
            .args(["build", "--quiet", "--manifest-path"])
            .arg(self.dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("ALEMBIX_MANIFEST_DIR_OVERRIDE")
            .output()?;
        if !build.status.success() {
            return Err(format!(
                "cargo build of {} failed:\n{}",
                self.name,
                String::from_utf8_lossy(&build.stderr)
            )
            .into());
        }
        let binary = self.target.join("debug").join(self.name);
        let run = Command::new(&binary).output()?;
        if !run.status.success() {
            return Err(format!(
                "{} failed: {}",
                binary.display(),
                String::from_utf8_lossy(&run.stderr)
            )
            .into());
        }
        wait_for_a_later_mtime(&binary)?;
        Ok(String::from_utf8(run.stdout)?)
    }
}

/// Waits until a file written now gets a later modification time than `built`, so
/// the change is a change even on file systems with coarse timestamps.
fn wait_for_a_later_mtime(built: &Path) -> TestResult {
    let built = fs::metadata(built)?.modified()?;
    for _ in 0..300 {
        if SystemTime::now() > built + Duration::from_millis(10) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

const FIRST: &str = "2026-01-01_create_users_a00000000001";
const SECOND: &str = "2026-01-02_add_email_a00000000002";
const THIRD: &str = "2026-01-03_add_phone_a00000000003";

#[test]
fn editing_a_migration_reembeds_it() -> TestResult {
    let scratch = Scratch::new("embed_rebuild_edit", false)?;
    scratch.write(
        FIRST,
        "a00000000001",
        "none",
        "CREATE TABLE users (id INTEGER);",
    )?;
    scratch.write(
        SECOND,
        "a00000000002",
        "a00000000001",
        "ALTER TABLE users ADD COLUMN email TEXT;",
    )?;
    assert_eq!(
        scratch.build_and_run()?,
        "a00000000001 CREATE TABLE users (id INTEGER)\n\
         a00000000002 ALTER TABLE users ADD COLUMN email TEXT\n\
         heads a00000000002\n"
    );
    scratch.write(
        SECOND,
        "a00000000002",
        "a00000000001",
        "ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';",
    )?;
    assert_eq!(
        scratch.build_and_run()?,
        "a00000000001 CREATE TABLE users (id INTEGER)\n\
         a00000000002 ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT ''\n\
         heads a00000000002\n"
    );
    Ok(())
}

#[test]
fn adding_a_migration_reembeds_the_folder() -> TestResult {
    let scratch = Scratch::new("embed_rebuild_add", true)?;
    scratch.write(
        FIRST,
        "a00000000001",
        "none",
        "CREATE TABLE users (id INTEGER);",
    )?;
    assert_eq!(
        scratch.build_and_run()?,
        "a00000000001 CREATE TABLE users (id INTEGER)\nheads a00000000001\n"
    );
    scratch.write(
        SECOND,
        "a00000000002",
        "a00000000001",
        "ALTER TABLE users ADD COLUMN email TEXT;",
    )?;
    assert_eq!(
        scratch.build_and_run()?,
        "a00000000001 CREATE TABLE users (id INTEGER)\n\
         a00000000002 ALTER TABLE users ADD COLUMN email TEXT\n\
         heads a00000000002\n"
    );
    // In a subfolder too: the build script watches the whole tree.
    fs::create_dir_all(scratch.dir.join("migrations/2026"))?;
    let nested = format!("2026/{THIRD}");
    scratch.write(
        &nested,
        "a00000000003",
        "a00000000002",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
    )?;
    assert_eq!(
        scratch.build_and_run()?,
        "a00000000001 CREATE TABLE users (id INTEGER)\n\
         a00000000002 ALTER TABLE users ADD COLUMN email TEXT\n\
         a00000000003 ALTER TABLE users ADD COLUMN phone TEXT\n\
         heads a00000000003\n"
    );
    Ok(())
}

#[test]
fn deleting_a_migration_reembeds_the_folder() -> TestResult {
    let scratch = Scratch::new("embed_rebuild_delete", false)?;
    scratch.write(
        FIRST,
        "a00000000001",
        "none",
        "CREATE TABLE users (id INTEGER);",
    )?;
    scratch.write(
        SECOND,
        "a00000000002",
        "a00000000001",
        "ALTER TABLE users ADD COLUMN email TEXT;",
    )?;
    scratch.write(
        THIRD,
        "a00000000003",
        "a00000000002",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
    )?;
    assert_eq!(
        scratch.build_and_run()?,
        "a00000000001 CREATE TABLE users (id INTEGER)\n\
         a00000000002 ALTER TABLE users ADD COLUMN email TEXT\n\
         a00000000003 ALTER TABLE users ADD COLUMN phone TEXT\n\
         heads a00000000003\n"
    );
    fs::remove_file(scratch.migration(THIRD))?;
    assert_eq!(
        scratch.build_and_run()?,
        "a00000000001 CREATE TABLE users (id INTEGER)\n\
         a00000000002 ALTER TABLE users ADD COLUMN email TEXT\n\
         heads a00000000002\n"
    );
    Ok(())
}
