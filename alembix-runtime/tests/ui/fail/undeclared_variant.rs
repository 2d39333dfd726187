//! A variant for a dialect the history does not declare.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/undeclared_variant");

fn main() {
    println!("{}", MIGRATIONS.len());
}
