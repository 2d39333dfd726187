//! Stage 2: parse and validate the files with the core, exactly as the runtime and
//! the xtask do, collecting every problem of every file; then, for a history
//! that declares its dialects, parse its SQL for each of them (the build's
//! own check, which the runtime does not repeat).

use crate::read::Folder;
use alembix_core::sql_check::CHECKER_VERSION;
use alembix_core::{Dialects, GraphOptions, HeadPolicy, MigrationSet, Problems, SqlCheckKey};
use std::collections::HashSet;
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
    check_sql(&set)?;
    Ok(Validated {
        root: folder.root,
        set,
        any_heads: folder.heads == HeadPolicy::Any,
        dialects: folder.settings.dialects,
        settings_file: folder.settings_file,
    })
}

/// The file in the crate's `OUT_DIR` (set when the crate has a build script,
/// as `new-migration` gives it one) where the build remembers the sections
/// that passed the SQL check, so that a rebuild after adding a migration
/// parses only what is new.
const SQL_CHECK_CACHE: &str = "alembix-sql-check.cache";

/// [`MigrationSet::check_sql`], skipping the sections that passed in an
/// earlier build of this crate (same text, dialect, transaction mode and
/// checker version: see `SqlCheckKey`). The cache is a text file: the
/// checker's version, then a key per line; it is only ever an optimisation:
/// unreadable, missing or of another version, everything is checked.
fn check_sql(set: &MigrationSet) -> Result<(), Problems> {
    let cache = std::env::var_os("OUT_DIR").map(|dir| PathBuf::from(dir).join(SQL_CHECK_CACHE));
    let text = cache
        .as_ref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_default();
    let mut lines = text.lines();
    let known: HashSet<&str> = if lines.next() == Some(CHECKER_VERSION) {
        lines.collect()
    } else {
        HashSet::new()
    };
    let (passed, result) =
        set.check_sql_cached(&|key: &SqlCheckKey| known.contains(key.0.as_str()));
    if let Some(path) = cache {
        let mut out = String::with_capacity(text.len().max(64));
        out.push_str(CHECKER_VERSION);
        out.push('\n');
        for key in &passed {
            out.push_str(&key.0);
            out.push('\n');
        }
        // Written aside and renamed, so a concurrent build never reads half a file.
        let aside = path.with_extension(format!("{}.tmp", std::process::id()));
        if std::fs::write(&aside, out).is_ok() && std::fs::rename(&aside, &path).is_err() {
            let _ = std::fs::remove_file(&aside);
        }
    }
    result
}
