//! "Start a new project", exactly as the README tells it, in a folder outside
//! this workspace: `cargo new`, the crates added by path (as a user adds the
//! published ones), the README's `src/main.rs`, `build.rs` and xtask, then
//! new-migration, build, launch, a second head and its build error, merge,
//! launch — once through the project's own `cargo xtask`, once through the
//! `alembix` binary that `cargo install alembix-cli` installs.
//!
//! Everything is built with this workspace's target dir, so only the new
//! project's own crates compile. Slow, so it runs once, in the
//! default-feature suite (the server suites build other features).

use crate::support::{cargo, scratch_dir, workspace, Run, TempDir};
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// The README's `src/main.rs`: migrates on launch, `app migrate …` for the
/// commands, both made from one `Migrations`.
pub const MAIN_RS: &str = r#"use alembix::cli::{MigrateArgs, Runner};
use alembix::{EmbeddedMigrations, Migrations};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

static MIGRATIONS: EmbeddedMigrations = alembix::embed_migrations!("migrations");

/// How this binary migrates: its launch and `app migrate …` share it.
fn migrations() -> Migrations {
    Migrations::embedded(&MIGRATIONS).default_database("sqlite://app.sqlite")
}

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
    match alembix::cli::parse::<Cli>().command {
        Some(Command::Migrate(args)) => Runner::new(migrations()).run(&args.command).into(),
        None => match migrations().launch(None) {
            Ok(report) => {
                let at = report.rows_after.join(", ");
                println!("at {at}: {} migration(s) applied", report.steps.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
"#;

/// The README's `build.rs`.
pub const BUILD_RS: &str = "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n";

/// The README's `xtask/src/main.rs`.
pub const XTASK_RS: &str =
    "fn main() -> std::process::ExitCode {\n    alembix::tool::main(\"cargo xtask\")\n}\n";

/// The README's `.cargo/config.toml`.
pub const CARGO_CONFIG: &str = "[alias]\nxtask = \"run --quiet --package xtask --\"\n";

struct Project {
    dir: PathBuf,
    _root: TempDir,
}

impl Project {
    /// `cargo new app`, then the README's files.
    fn new(name: &str) -> Project {
        let root = TempDir(scratch_dir(name));
        cargo()
            .args(["new", "--quiet", "--vcs", "none", "--name", "app", "app"])
            .current_dir(&root.0)
            .status()
            .expect("cargo new");
        let dir = root.0.join("app");
        let alembix = workspace().join("alembix").display().to_string();
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
        let manifest = manifest.replace(
            "[dependencies]\n",
            &format!(
                "[dependencies]\nalembix = {{ path = {alembix:?} }}\nclap = {{ version = \"4\", features = [\"derive\"] }}\n"
            ),
        );
        fs::write(
            dir.join("Cargo.toml"),
            format!("{manifest}\n[workspace]\nmembers = [\"xtask\"]\n"),
        )
        .expect("manifest");
        fs::write(dir.join("src/main.rs"), MAIN_RS).expect("main.rs");
        fs::write(dir.join("build.rs"), BUILD_RS).expect("build.rs");
        fs::create_dir_all(dir.join("xtask/src")).expect("xtask");
        fs::write(
            dir.join("xtask/Cargo.toml"),
            format!(
                "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\nalembix = {{ path = {alembix:?}, features = [\"tool\"] }}\n"
            ),
        )
        .expect("xtask manifest");
        fs::write(dir.join("xtask/src/main.rs"), XTASK_RS).expect("xtask main");
        fs::create_dir_all(dir.join(".cargo")).expect(".cargo");
        fs::write(dir.join(".cargo/config.toml"), CARGO_CONFIG).expect("config");
        // The workspace's lock file pins the same versions: nothing to resolve.
        fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock file");
        Project { dir, _root: root }
    }

    fn cargo(&self, args: &[&str]) -> Run {
        output(cargo().args(args).current_dir(&self.dir))
    }

    fn xtask(&self, args: &[&str]) -> Run {
        let mut all = vec!["xtask"];
        all.extend_from_slice(args);
        self.cargo(&all)
    }

    fn build(&self) -> Run {
        self.cargo(&["build", "--quiet", "-p", "app"])
    }

    /// Runs the built binary (`./target/debug/app` in the user's words).
    fn app(&self, args: &[&str]) -> Run {
        let binary = crate::support::target_dir().join("debug/app");
        output(Command::new(binary).args(args).current_dir(&self.dir))
    }

    /// Puts SQL into the empty sections of the file `new-migration` wrote
    /// for `revision`.
    fn fill(&self, revision: &str, upgrade: &str, downgrade: &str) {
        let path = fs::read_dir(self.dir.join("migrations"))
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
}

fn output(command: &mut Command) -> Run {
    let output = command
        .env_remove("DATABASE_URL")
        .output()
        .expect("the command runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn assert_contains(run: &Run, expected: &str) {
    assert!(
        run.all().contains(expected),
        "`{expected}` missing from {run:#?}"
    );
}

/// The steps both ways share: new-migration twice, a second head that fails
/// the build, merge, launch. `tool` runs the authoring commands; `name` is
/// how their hints must name them.
fn grow_a_history(p: &Project, tool: &dyn Fn(&[&str]) -> Run, name: &str, ids: [&str; 4]) {
    let [first, second, branch, merge] = ids;
    // Tables named after the first id, so that both rounds add their own.
    let notes = format!("notes_{first}");
    let tags = format!("tags_{first}");
    let created = tool(&["new-migration", "-m", "create notes", "--rev-id", first]).ok();
    assert_contains(&created, &format!("_create_notes_{first}.sql"));
    p.fill(
        first,
        &format!("CREATE TABLE {notes} (id INTEGER PRIMARY KEY);"),
        &format!("DROP TABLE {notes};"),
    );
    tool(&["new-migration", "-m", "add title", "--rev-id", second]).ok();
    p.fill(
        second,
        &format!("ALTER TABLE {notes} ADD COLUMN title TEXT;"),
        &format!("ALTER TABLE {notes} DROP COLUMN title;"),
    );
    p.build().ok();
    assert_eq!(
        p.app(&["migrate", "heads"]).ok().stdout,
        format!("{second} (head)\n")
    );

    // A second head, as when two people branch from the same parent: the
    // build refuses it and says how to merge.
    tool(&[
        "new-migration",
        "-m",
        "add tags",
        "--head",
        first,
        "--splice",
        "--rev-id",
        branch,
    ])
    .ok();
    p.fill(
        branch,
        &format!("CREATE TABLE {tags} (id INTEGER PRIMARY KEY);"),
        &format!("DROP TABLE {tags};"),
    );
    let failed = p.build();
    assert_ne!(
        failed.code, 0,
        "a second head must fail the build: {failed:#?}"
    );
    assert_contains(&failed, "the history has 2 heads");
    let heads = tool(&["heads"]).ok();
    assert_contains(&heads, &format!("{name} merge"));

    tool(&["merge", "-m", "merge heads", "--rev-id", merge]).ok();
    p.build().ok();
    assert_eq!(
        p.app(&["migrate", "heads"]).ok().stdout,
        format!("{merge} (head)\n")
    );
}

#[test]
fn start_a_new_project_with_the_xtask_and_with_the_installed_cli() {
    if cfg!(any(feature = "postgres", feature = "mysql")) {
        eprintln!("skipping the new-project test: it runs in the default-feature suite");
        return;
    }
    let p = Project::new("alembix-new-project");

    // Through the project's own `cargo xtask`: the first new-migration
    // creates `migrations/` beside Cargo.toml.
    let xtask = |args: &[&str]| p.xtask(args);
    grow_a_history(
        &p,
        &xtask,
        "cargo xtask",
        [
            "aaaaaaaaaaa1",
            "aaaaaaaaaaa2",
            "aaaaaaaaaaa3",
            "aaaaaaaaaaa4",
        ],
    );
    assert!(p.dir.join("migrations").is_dir());
    let launched = p.app(&[]).ok();
    assert_eq!(launched.stdout, "at aaaaaaaaaaa4: 4 migration(s) applied\n");
    assert_eq!(
        p.app(&[]).ok().stdout,
        "at aaaaaaaaaaa4: 0 migration(s) applied\n"
    );
    let check = p.app(&["migrate", "check", "--json"]).ok().json();
    assert_eq!(check["status"], "ok");

    // Through the installed CLI (`cargo install alembix-cli`), run from a
    // folder inside the project: it finds `migrations/` above it.
    let bin_root = TempDir(scratch_dir("alembix-cli-root"));
    let installed = output(
        cargo()
            .args(["install", "--quiet", "--debug", "--locked", "--path"])
            .arg(workspace().join("alembix-cli"))
            .arg("--root")
            .arg(&bin_root.0)
            .current_dir(&p.dir),
    );
    assert_eq!(
        installed.code, 0,
        "cargo install alembix-cli: {installed:#?}"
    );
    let alembix = bin_root.0.join("bin/alembix");
    let src = p.dir.join("src");
    let cli = |args: &[&str]| output(Command::new(&alembix).args(args).current_dir(&src));
    grow_a_history(
        &p,
        &cli,
        "alembix",
        [
            "bbbbbbbbbbb1",
            "bbbbbbbbbbb2",
            "bbbbbbbbbbb3",
            "bbbbbbbbbbb4",
        ],
    );
    let launched = p.app(&[]).ok();
    assert_eq!(launched.stdout, "at bbbbbbbbbbb4: 4 migration(s) applied\n");
    // The CLI reads the same database the binary wrote.
    let current = cli(&[
        "current",
        "--db",
        &format!("sqlite://{}", p.dir.join("app.sqlite").display()),
    ])
    .ok();
    assert_eq!(current.stdout, "bbbbbbbbbbb4 (head)\n");
}

#[test]
fn readme_shows_the_project_this_test_builds() {
    let readme = fs::read_to_string(workspace().join("README.md")).expect("README.md");
    for (what, text) in [
        ("src/main.rs", MAIN_RS),
        ("build.rs", BUILD_RS),
        ("xtask/src/main.rs", XTASK_RS),
        (".cargo/config.toml", CARGO_CONFIG),
    ] {
        assert!(
            readme.contains(&format!("// {what}\n{text}```"))
                || readme.contains(&format!("# {what}\n{text}```")),
            "README's \"Start a new project\" shows another {what} than tests/it/new_project.rs"
        );
    }
}
