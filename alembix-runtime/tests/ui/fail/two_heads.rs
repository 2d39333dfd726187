//! Two heads that nobody merged.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/two_heads");

fn main() {
    println!("{}", MIGRATIONS.len());
}
