//! An alembix.toml with an unknown dialect and an unknown key.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/bad_settings");

fn main() {
    println!("{}", MIGRATIONS.len());
}
