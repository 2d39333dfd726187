//! A misspelled header key is an error, with a suggestion.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/unknown_header_key");

fn main() {
    println!("{}", MIGRATIONS.len());
}
