//! Rebuild when a migration is added to `migrations/` (edits and deletions are
//! tracked by `embed_migrations!` itself; see `alembix::embedded`).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
