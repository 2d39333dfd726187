//! A symlink in the folder that points outside it (the folder is written by the
//! test driver, since symlinks do not survive every checkout).

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/generated/symlink_leaves");

fn main() {
    println!("{}", MIGRATIONS.len());
}
