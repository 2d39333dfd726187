//! The example service: a community chat bot that migrates its own database.
//!
//! For now it validates the workspace's `migrations/` history with the core and
//! prints it; the runtime issue turns this into a real launch-time migration.

use migrate_core::scan::scan_folder;
use migrate_core::{GraphOptions, MigrationSet};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = match scan_folder(root, "migrations")
        .and_then(|sources| MigrationSet::from_sources(&sources, &GraphOptions::default()))
    {
        Ok(set) => set,
        Err(problems) => {
            eprintln!("error: {problems}");
            return ExitCode::FAILURE;
        }
    };
    let graph = set.graph();
    println!(
        "{} migrations, head {}",
        graph.len(),
        graph.ids(graph.heads()).join(", ")
    );
    for (rev, file) in graph.revisions().iter().zip(set.files()).rev() {
        let parents = if rev.down.is_empty() {
            "<base>".to_string()
        } else {
            graph.ids(&rev.down).join(", ")
        };
        println!("{parents} -> {}, {}", rev.id, file.message);
    }
    ExitCode::SUCCESS
}
