//! Where the migration history comes from — built into the binary, or a folder
//! read when a command runs — and loading it into a [`Migrator`].
//!
//! A folder is read leniently for the commands that only read the history
//! (`show`, `heads`, `branches`, `history`): several heads, or an importer's
//! `-- migrate:todo` placeholders, are warnings there, so that a person can
//! see the history they are about to fix.

use super::failure::Failure;
use super::stdio::Out;
use crate::error::Error;
use crate::migrations::{Migrations, Source};
use crate::migrator::Migrator;
use alembix_core::scan::{read_settings, scan_folder};
use alembix_core::set::PLACEHOLDER_MARKER;
use alembix_core::{GraphOptions, HeadPolicy, MigrationSet, ProblemKind, Problems, SourceFile};

/// The migrator over `migrations`. In folder mode a history with several
/// unmerged heads is loaded for every command, as Alembic loads it, with one
/// warning naming the heads and the merge command (its hints passed through
/// `name_program`); the planner then refuses only what Alembic refuses
/// (`upgrade head` is ambiguous, `upgrade heads` is not). An importer's
/// placeholders (`-- migrate:todo`) are read by the commands that only read
/// the history, and refused by the others.
pub(super) fn migrator(
    migrations: &Migrations,
    reads_history_only: bool,
    out: &Out,
    name_program: impl Fn(&str) -> String,
) -> Result<Migrator, Failure> {
    let config = migrations.configuration();
    let dir = match migrations.source() {
        Source::Embedded(_) => return Ok(migrations.migrator()?),
        Source::Folder(dir) => dir,
    };
    let (root, folder) = match (dir.parent(), dir.file_name()) {
        (Some(root), Some(name)) => (root, name.to_string_lossy().into_owned()),
        _ => {
            return Err(Failure::usage(format!(
                "`{}` is not a folder path; pass --dir path/to/migrations",
                dir.display()
            )))
        }
    };
    let sources = scan_folder(root, &folder).map_err(Error::History)?;
    let settings = read_settings(root, &folder).map_err(Error::History)?;
    let load = |sources: &[SourceFile], options: &GraphOptions| {
        MigrationSet::from_sources_with_settings(sources, options, &settings)
    };
    let problems = match load(&sources, &GraphOptions::default()) {
        Ok(set) => return Ok(Migrator::new(set, config.clone())?),
        Err(problems) => problems,
    };
    let is_placeholder = |line: &str| line.trim_start().starts_with(PLACEHOLDER_MARKER);
    let placeholders: Vec<&str> = sources
        .iter()
        .filter(|s| s.text.lines().any(is_placeholder))
        .map(|s| s.name.as_str())
        .collect();
    let only_heads = |p: &Problems| p.0.iter().all(|p| p.kind == ProblemKind::MultipleHeads);
    // Several heads load for every command; placeholders only for reading.
    let loadable = only_heads(&problems) && (reads_history_only || placeholders.is_empty());
    if !loadable && !reads_history_only {
        let mut failure = Failure::from(Error::History(problems));
        if !placeholders.is_empty() {
            failure.message.push_str(&format!(
                "\n  help: {} still hold a `{PLACEHOLDER_MARKER}` placeholder left by an import: write the SQL in its place and delete that line before applying; `heads`, `history`, `branches` and `show` read the history meanwhile",
                placeholders.join(", ")
            ));
        }
        return Err(failure);
    }
    // Placeholder lines made statements, so that the graph can be read.
    let probed: Vec<SourceFile> = if placeholders.is_empty() {
        Vec::new()
    } else {
        sources
            .iter()
            .map(|s| SourceFile {
                name: s.name.clone(),
                text: s
                    .text
                    .lines()
                    .map(|l| if is_placeholder(l) { "SELECT 1;" } else { l })
                    .collect::<Vec<_>>()
                    .join("\n"),
            })
            .collect()
    };
    let any = GraphOptions {
        heads: HeadPolicy::Any,
    };
    let retried = (!placeholders.is_empty()).then(|| load(&probed, &GraphOptions::default()));
    let set = match retried {
        Some(Ok(set)) => set,
        Some(Err(heads)) if only_heads(&heads) => {
            let set = load(&probed, &any).map_err(Error::History)?;
            out.error(format_args!(
                "warning: {}",
                name_program(&heads.to_string())
            ));
            set
        }
        None if only_heads(&problems) => {
            let set = load(&sources, &any).map_err(Error::History)?;
            out.error(format_args!(
                "warning: {}",
                name_program(&problems.to_string())
            ));
            set
        }
        // Other problems: the folder's own report, placeholders included.
        _ => return Err(Error::History(problems).into()),
    };
    if !placeholders.is_empty() {
        out.error(format_args!(
            "warning: {} file(s) hold a `{PLACEHOLDER_MARKER}` placeholder, where SQL is still to be written (shown as if it were `SELECT 1;`); upgrade, downgrade, stamp and the build refuse the folder until they are filled: {}",
            placeholders.len(),
            placeholders.join(", ")
        ));
    }
    Ok(Migrator::new(set, config.clone())?)
}
