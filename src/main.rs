//! The example service: a community chat bot that migrates its own database.
//!
//! `chatbot` brings its database (a SQLite file by default, `--db` for
//! PostgreSQL or MySQL/MariaDB) to the head of the history built into the
//! binary from `migrations/`, says what it did, then does its small job:
//! registers a demo guild and prints a summary of every guild it knows.
//! `chatbot migrate <command>` runs Alembic's commands (`current`, `history`,
//! `upgrade`, `downgrade`, `stamp`, `check`, …) against the same embedded
//! history.

mod bot;
// diesel's schema.rs, written from the history by `cargo xtask print-schema
// --output src/schema.rs`; CI checks it is current (`--check`).
#[allow(dead_code)]
mod schema;

use alembix::cli::{MigrateArgs, Progress, Runner};
use alembix::{Database, EmbeddedMigrations, Migrations, Naming};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The history in `migrations/`, checked and embedded at build time.
static MIGRATIONS: EmbeddedMigrations = alembix::embed_migrations!("migrations");

/// Where the bot keeps its data unless told otherwise.
const DEFAULT_DATABASE: &str = "sqlite://chatbot.sqlite";

/// How the bot migrates: its launch and `chatbot migrate …` are both made
/// from this one value, so they agree on the version table and the database.
fn migrations() -> Migrations {
    Migrations::embedded(&MIGRATIONS).default_database(DEFAULT_DATABASE)
}

/// A community chat bot: guilds, users, GitHub and forum settings, permission lists.
#[derive(Debug, Parser)]
#[command(name = "chatbot", version)]
struct Cli {
    /// Database URL (default: $DATABASE_URL, else sqlite://chatbot.sqlite in the current directory).
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Alembic's commands over the migrations built into this binary.
    Migrate(MigrateArgs),
}

fn main() -> ExitCode {
    let cli: Cli = alembix::cli::parse();
    match cli.command {
        Some(Command::Migrate(_)) if cli.db.is_some() => {
            eprintln!("error: write `--db` after the migrate command, e.g. `chatbot migrate current --db URL`");
            ExitCode::from(2)
        }
        Some(Command::Migrate(args)) => Runner::new(migrations())
            .program("chatbot migrate")
            .run(&args.command)
            .into(),
        None => {
            // `--db`, else DATABASE_URL, else the default.
            let url = migrations()
                .database_url(cli.db.as_deref())
                .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
            // Launch errors name what to run next as this binary's own
            // command line, with the `--db` given (password masked).
            let naming = Naming::binary("chatbot migrate", cli.db.as_deref());
            match serve(&url, &naming) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Migrates the database on launch, then does the bot's job.
fn serve(url: &str, naming: &Naming) -> Result<(), String> {
    let migrator = migrations().migrator().map_err(|e| e.to_string())?;
    let mut db = Database::connect(url).map_err(|e| e.to_string())?;
    println!("chatbot: database {}", db.redacted_url());

    // Launch: one query when already at head; otherwise a line per migration.
    let progress = Progress::for_migrator(&migrator, true);
    let report = progress.watch(|| migrator.launch(&mut db));
    progress.finish(report.as_ref().ok());
    let report = report.map_err(|e| e.message(naming))?;
    let head = report.rows_after.join(", ");
    if !report.adopted.is_empty() {
        println!(
            "adopted {} revision(s) that Alembic applied, without running them: {}",
            report.adopted.len(),
            report.adopted.join(", ")
        );
    }
    if report.is_empty() {
        println!("schema up to date at {head}");
    } else {
        println!(
            "migrated to {head}: {} migration(s) in {} ms",
            report.steps.len(),
            report.duration.as_millis()
        );
    }
    drop(db);

    let mut conn = bot::Conn::connect(url)?;
    if conn.register_demo_guild().map_err(|e| e.to_string())? {
        println!("registered the demo guild");
    }
    for guild in conn.guilds().map_err(|e| e.to_string())? {
        print!("{guild}");
    }
    Ok(())
}
