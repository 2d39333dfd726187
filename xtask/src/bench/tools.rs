//! The programs the side benchmarks (`bench-fleet`, `bench-schema`) run as a
//! user would: the release `alembix` binary, built from this workspace, and
//! diesel_cli's `diesel`, found where CI installs it.

use super::scratch::Scratch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The release `alembix` binary (`alembix-cli` with SQLite and PostgreSQL),
/// built if needed.
pub fn release_alembix(root: &Path) -> Result<PathBuf, String> {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "alembix-cli",
            "--features",
            "postgres",
        ])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the release alembix binary failed".to_string());
    }
    Ok(root.join("target/release/alembix"))
}

/// diesel_cli's `diesel`: `explicit` when given, else
/// `target/diesel-cli/bin/diesel` (where `.ci/run` installs diesel_cli 2.3.14),
/// else `diesel` on the `PATH`.
pub fn diesel_cli(scratch: &Scratch, explicit: Option<&Path>) -> Result<PathBuf, String> {
    let installed = scratch
        .root
        .parent()
        .map(|target| target.join("diesel-cli/bin/diesel"));
    let candidates: Vec<PathBuf> = match explicit {
        Some(path) => vec![path.to_path_buf()],
        None => installed
            .into_iter()
            .chain([PathBuf::from("diesel")])
            .collect(),
    };
    candidates
        .into_iter()
        .find(|p| super::db::has_program(p, "--version"))
        .ok_or_else(|| {
            "no diesel_cli: install it with `cargo install diesel_cli --version 2.3.14 --no-default-features --features sqlite-bundled,postgres,mysql --root target/diesel-cli`, or pass --diesel PATH".to_string()
        })
}
