//! A folder outside the crate cannot be embedded.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations = alembix_runtime::embed_migrations!("../migrations");

fn main() {
    println!("{}", MIGRATIONS.len());
}
