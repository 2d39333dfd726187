//! SQL that does not parse, in a history that declares its dialects: one problem per statement, naming the dialects that refuse it.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/sql_syntax");

fn main() {
    println!("{}", MIGRATIONS.len());
}
