//! `cargo xtask`: developer commands over the workspace's `migrations/` folder.
fn main() {}
