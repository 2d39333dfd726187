//! The folder does not exist.
//! The static is used below: the placeholder keeps it from causing a second error.

use migrate_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/ui/fixtures/no_such_folder");

fn main() {
    println!("{}", MIGRATIONS.len());
}
