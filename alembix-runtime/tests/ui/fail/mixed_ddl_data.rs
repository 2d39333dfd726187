//! MySQL commits each schema change on its own: DDL and data changes that expect to roll back together.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/mixed_ddl_data");

fn main() {
    println!("{}", MIGRATIONS.len());
}
