//! A declared dialect with no SQL to run: variants and no default.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/missing_dialect");

fn main() {
    println!("{}", MIGRATIONS.len());
}
