//! The argument must be a string literal.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations = alembix_runtime::embed_migrations!(migrations);

fn main() {
    println!("{}", MIGRATIONS.len());
}
