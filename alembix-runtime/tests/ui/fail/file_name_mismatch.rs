//! A file name that names another revision than its header.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/file_name_mismatch");

fn main() {
    println!("{}", MIGRATIONS.len());
}
