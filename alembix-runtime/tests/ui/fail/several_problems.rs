//! Problems in several files are all reported in one build, one error each.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/several_problems");

fn main() {
    println!("{}", MIGRATIONS.len());
}
