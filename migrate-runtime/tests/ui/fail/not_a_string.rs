//! The argument must be a string literal.

use migrate_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations = migrate_runtime::embed_migrations!(migrations);

fn main() {
    println!("{}", MIGRATIONS.len());
}
