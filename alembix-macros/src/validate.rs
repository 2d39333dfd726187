//! Stage 2: parse and validate the files with the core, exactly as the runtime and
//! the xtask do, collecting every problem of every file; then, for a history
//! that declares its dialects, parse its SQL for each of them (the build's
//! own check, which the runtime does not repeat).

use crate::read::Folder;
use alembix_core::{Dialects, GraphOptions, HeadPolicy, MigrationSet, Problems};
use std::path::PathBuf;

/// A history that passed every check; the only input code generation accepts.
pub(crate) struct Validated {
    /// The crate root the file names are relative to.
    pub(crate) root: PathBuf,
    /// The parsed files and their graph, in load order.
    pub(crate) set: MigrationSet,
    /// Whether the history may keep several unmerged heads (`heads = "any"`).
    pub(crate) any_heads: bool,
    /// The dialects the history declares (its `alembix.toml`).
    pub(crate) dialects: Dialects,
    /// The settings file, when there is one (tracked like the migrations).
    pub(crate) settings_file: Option<PathBuf>,
}

/// Parses and validates the folder's files with the graph options the macro
/// was given (the ones `EmbeddedMigrations::to_set` uses at run time).
pub(crate) fn validate(folder: Folder) -> Result<Validated, Problems> {
    let options = GraphOptions {
        heads: folder.heads,
    };
    let set =
        MigrationSet::from_sources_with_settings(&folder.sources, &options, &folder.settings)?;
    // The SQL of every declared dialect parses, and can run as the migration
    // runs it (a history that declares no dialect is not parsed).
    set.check_sql()?;
    Ok(Validated {
        root: folder.root,
        set,
        any_heads: folder.heads == HeadPolicy::Any,
        dialects: folder.settings.dialects,
        settings_file: folder.settings_file,
    })
}
