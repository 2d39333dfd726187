//! Variant markers: an unknown dialect, a variant given twice, an irreversible
//! marker naming a dialect, a variant with no statement.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/variant_markers");

fn main() {
    println!("{}", MIGRATIONS.len());
}
