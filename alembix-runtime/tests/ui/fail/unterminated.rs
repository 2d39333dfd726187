//! A section that ends inside a string, in every SQL dialect.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/unterminated");

fn main() {
    println!("{}", MIGRATIONS.len());
}
