//! A symlink in the folder that points outside it (the folder is written by the
//! test driver, since symlinks do not survive every checkout).

use migrate_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/ui/generated/symlink_leaves");

fn main() {
    println!("{}", MIGRATIONS.len());
}
