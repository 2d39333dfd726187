//! An upgrade section with no statement.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/empty_upgrade");

fn main() {
    println!("{}", MIGRATIONS.len());
}
