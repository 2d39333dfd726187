//! A statement PostgreSQL refuses inside a transaction, in a migration that runs in one.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/not_transactional");

fn main() {
    println!("{}", MIGRATIONS.len());
}
