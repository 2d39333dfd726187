//! A file that is not UTF-8 (the folder is written by the test driver).
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/generated/non_utf8");

fn main() {
    println!("{}", MIGRATIONS.len());
}
