//! A cycle through a merge: d1 merges d0 and d2, d2 builds on d1, d3 on d2. Every
//! revision is below a head and above a base, so only the cycle check finds it.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/cycle_through_merge");

fn main() {
    println!("{}", MIGRATIONS.len());
}
