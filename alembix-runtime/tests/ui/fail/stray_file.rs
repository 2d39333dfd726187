//! A file that is neither a migration nor allowed (README, *.md, …) is never skipped silently.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/stray_file");

fn main() {
    println!("{}", MIGRATIONS.len());
}
