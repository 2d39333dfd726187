//! A `down_revision` that names no migration: the file and line of the header, and what to do.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations = alembix_runtime::embed_migrations!("tests/ui/fixtures/gap");

fn main() {
    println!("{}", MIGRATIONS.len());
}
