//! A history that declares its dialects and uses variants builds, vendor
//! syntax behind the `-- alembix:unchecked` marker included; the embedded set
//! knows the declaration.

use alembix_runtime::core::{Dialects, SqlDialect};
use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/declared_dialects");

fn main() {
    assert_eq!(
        MIGRATIONS.dialects(),
        Dialects::of(&[SqlDialect::Sqlite, SqlDialect::Postgres])
    );
    assert_eq!(MIGRATIONS.len(), 1);
}
