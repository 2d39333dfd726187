//! Rebuild when a migration is added to `migrations/` (edits and deletions are
//! tracked by `embed_migrations!` itself; see `migrate_runtime::embedded`).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
