//! Two files with the same revision id.
//! The static is used below: the placeholder keeps it from causing a second error.

use migrate_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/ui/fixtures/duplicate_id");

fn main() {
    println!("{}", MIGRATIONS.len());
}
