//! `import-diesel PATH`: turn a diesel-cli migrations folder
//! (`<version>_<name>/{up.sql,down.sql,metadata.toml}`) into a linear chain of
//! migration files, in exactly the order diesel_migrations applies them.
//!
//! diesel's rules, read from diesel_migrations 2.x (`migrations_internals` and
//! `file_based_migrations.rs`), and what the import does with each:
//!
//! - A migration is a non-empty, non-hidden subfolder holding `up.sql`; its version
//!   is the folder name up to the first `_`, with `-` removed
//!   (`2024-01-01-120000_create_users` → `20240101120000`). A subfolder without
//!   `up.sql` makes diesel refuse the whole folder, so the import refuses it too.
//! - Pending migrations run sorted by version **as text** (`MigrationVersion` is a
//!   string): `10_y` runs before `2_x`. The chain keeps diesel's order and the
//!   report warns where numbers would sort differently.
//! - Two folders with the same version collapse into one in diesel (a `HashMap`
//!   keyed by version): the import refuses them, naming both.
//! - `00000000000000_diesel_initial_setup` (PostgreSQL helper functions that later
//!   migrations call) is an ordinary migration to diesel, applied first and recorded
//!   as version `00000000000000`: it is imported as the chain's base, so a new
//!   database gets the functions and a taken-over one maps that row like any other.
//! - `up.sql` becomes the upgrade. An empty (0-byte) `up.sql` fails in diesel, so it
//!   becomes a placeholder; one holding only comments runs as a no-op in diesel and
//!   becomes `SELECT 1;` (our upgrade needs a statement).
//! - `down.sql` becomes the downgrade. Missing or 0-byte, diesel refuses to revert
//!   it (`NoMigrationRevertFile` / `EmptyMigration`): `-- migrate:irreversible`.
//!   Only comments or blanks: diesel's revert is a no-op, so a comment (our
//!   deliberate no-op).
//! - `metadata.toml` with `run_in_transaction = false` → `-- transaction: none`.
//!   Like diesel (serde's default for a missing bool), a readable metadata.toml
//!   without the key also means no transaction; an unreadable one means the default.
//! - Revision ids come from [`alembix_core::diesel_compat::revision_for_diesel_version`]:
//!   `diesel_<version>`.

use crate::folder::Context;
use crate::import_output::{self, Downgrade, ImportedRevision, Upgrade};
use alembix_core::TransactionMode;
use clap::Args;
use std::path::{Path, PathBuf};

const TOOL: &str = "import-diesel";

/// Arguments of `import-diesel`.
#[derive(Debug, Clone, Args)]
pub struct ImportDiesel {
    /// The diesel migrations folder, or the project holding it (with diesel.toml or
    /// a `migrations/` folder).
    path: PathBuf,
    /// The folder to write the migration files into (default: the `migrations/`
    /// found from the current directory upward, as the other commands find it);
    /// created if missing. No file is ever overwritten.
    #[arg(long)]
    out: Option<PathBuf>,
}

// The revision id of a diesel version: `diesel_<version>`, shared with the
// runtime's takeover of a diesel-migrated database.
use alembix_core::diesel_compat::revision_for_diesel_version;

/// diesel's version of a migration folder name: up to the first `_`, `-` removed.
pub fn diesel_version(folder_name: &str) -> String {
    folder_name
        .split('_')
        .next()
        .unwrap_or_default()
        .replace('-', "")
}

/// Whether two paths name the same existing folder.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// One diesel migration folder.
#[derive(Debug, Clone)]
struct DieselMigration {
    /// Folder name, e.g. `2024-01-01-120000_create_users`.
    folder: String,
    /// Shown path of the folder.
    shown: String,
    version: String,
    dir: PathBuf,
}

/// Runs `import-diesel`.
pub(crate) fn import_diesel(args: &ImportDiesel, context: &Context<'_>) -> Result<(), String> {
    let cwd = &context.cwd;
    let dir = locate(&cwd.join(&args.path))?;
    let shown_dir = match dir.strip_prefix(cwd.join(&args.path)) {
        Ok(rel) => args.path.join(rel),
        Err(_) => dir.clone(),
    };
    let out = context.folder_to_write(args.out.as_deref())?.dir;
    if same_dir(&out, &dir) {
        return Err(format!(
            "the diesel migrations in {} would be imported into the same folder; pass another folder with --out (e.g. `--out db/migrations`), and point `embed_migrations!` at it",
            shown_dir.display()
        ));
    }
    let migrations = list(&dir, &shown_dir)?;
    if migrations.is_empty() {
        return Err(format!(
            "no diesel migrations in {}: a migration is a folder `<version>_<name>` holding up.sql",
            shown_dir.display()
        ));
    }
    let warnings = ordering_warnings(&migrations);

    let mut imported = Vec::with_capacity(migrations.len());
    let mut problems = Vec::new();
    let mut previous: Option<String> = None;
    for m in &migrations {
        match convert(m, previous.take()) {
            Ok(rev) => {
                previous = Some(rev.revision.clone());
                imported.push(rev);
            }
            Err(e) => {
                previous = Some(revision_for_diesel_version(&m.version));
                problems.push(e);
            }
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "{} problem(s) in the diesel migrations; nothing was written:\n{}",
            problems.len(),
            problems.join("\n")
        ));
    }
    let written = import_output::write_all(context, args.out.as_deref(), &imported, &[], TOOL)?;

    println!(
        "imported {} diesel migration(s) from {} into {}, in diesel's order (a linear chain):",
        imported.len(),
        shown_dir.display(),
        written.shown_dir.display()
    );
    let width = migrations
        .iter()
        .map(|m| m.version.len())
        .max()
        .unwrap_or(0);
    for ((m, rev), file) in migrations.iter().zip(&imported).zip(&written.files) {
        println!(
            "  version {:width$} -> {}  {}  (up: {}; down: {})",
            m.version,
            rev.revision,
            written.shown_dir.join(file).display(),
            describe_up(&rev.upgrade),
            describe_down(&rev.downgrade)
        );
    }
    println!(
        "mapping: diesel version V is revision `diesel_V` (see revision_for_diesel_version); a database whose __diesel_schema_migrations holds V corresponds to that revision"
    );
    for w in &warnings {
        println!("warning: {w}");
    }
    for rev in imported
        .iter()
        .filter(|r| r.transaction == TransactionMode::None)
    {
        println!(
            "note: {} has run_in_transaction = false in diesel, so it runs with `-- transaction: none`",
            rev.revision
        );
    }
    if written.existing > 0 {
        println!(
            "note: {} already held {} migration(s); the imported chain sits beside them",
            written.shown_dir.display(),
            written.existing
        );
    }
    import_output::print_verification(&written);
    Ok(())
}

fn describe_up(u: &Upgrade) -> &'static str {
    match u {
        Upgrade::Sql(_) => "up.sql",
        Upgrade::Nothing(_) => "no-op",
        Upgrade::Placeholder(_) => "PLACEHOLDER",
    }
}

fn describe_down(d: &Downgrade) -> &'static str {
    match d {
        Downgrade::Sql(_) => "down.sql",
        Downgrade::Nothing(_) => "no-op",
        Downgrade::Irreversible(_) => "irreversible",
        Downgrade::Placeholder(_) => "PLACEHOLDER",
    }
}

/// The migrations folder: `dir` from diesel.toml's `[migrations_directory]`, else
/// `PATH/migrations` when PATH holds no migration itself, else PATH.
fn locate(path: &Path) -> Result<PathBuf, String> {
    if !path.is_dir() {
        return Err(format!("{} is not a folder", path.display()));
    }
    let toml = path.join("diesel.toml");
    if toml.is_file() {
        let text = std::fs::read_to_string(&toml)
            .map_err(|e| format!("cannot read {}: {e}", toml.display()))?;
        if let Some(dir) = toml_value(&text, "migrations_directory", "dir") {
            return Ok(path.join(dir));
        }
    }
    let holds_migrations = std::fs::read_dir(path)
        .is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.path().join("up.sql").is_file())));
    if !holds_migrations && path.join("migrations").is_dir() {
        return Ok(path.join("migrations"));
    }
    Ok(path.to_path_buf())
}

/// A string value `key = "…"` in `[table]` of a small TOML file.
fn toml_value(text: &str, table: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
            continue;
        }
        if current != table {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim() == key {
                let v = v.split('#').next().unwrap_or("").trim();
                return Some(v.trim_matches(['"', '\'']).to_string());
            }
        }
    }
    None
}

/// diesel's migration folders, sorted as diesel runs them; duplicates refused.
fn list(dir: &Path, shown_dir: &Path) -> Result<Vec<DieselMigration>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", shown_dir.display()))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", shown_dir.display()))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let shown = shown_dir.join(&name).display().to_string();
        if !path.is_dir() || name.starts_with('.') {
            continue;
        }
        let inner: Vec<String> = std::fs::read_dir(&path)
            .map_err(|e| format!("cannot read {shown}: {e}"))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if inner.is_empty() {
            continue; // diesel skips empty folders
        }
        if !inner.iter().any(|f| f == "up.sql") {
            problems.push(format!(
                "{shown}: no up.sql; diesel refuses a migrations folder holding this (UnknownMigrationFormat): add up.sql, or move the folder out"
            ));
            continue;
        }
        out.push(DieselMigration {
            version: diesel_version(&name),
            folder: name,
            shown,
            dir: path,
        });
    }
    out.sort_by(|a, b| a.version.cmp(&b.version).then(a.folder.cmp(&b.folder)));
    for pair in out.windows(2) {
        if pair[0].version == pair[1].version {
            problems.push(format!(
                "{} and {} have the same version `{}`; diesel would silently run only one of them: give one a new version (rename its folder) and run again",
                pair[0].shown, pair[1].shown, pair[0].version
            ));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "{} problem(s) in {}; nothing was written:\n{}",
            problems.len(),
            shown_dir.display(),
            problems.join("\n")
        ))
    }
}

/// Where diesel's text ordering differs from the numbers' order.
fn ordering_warnings(migrations: &[DieselMigration]) -> Vec<String> {
    let numeric = |v: &str| -> Option<(usize, String)> {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = v.trim_start_matches('0');
        Some((trimmed.len(), trimmed.to_string()))
    };
    let mut out = Vec::new();
    for (i, a) in migrations.iter().enumerate() {
        for b in &migrations[i + 1..] {
            if let (Some(na), Some(nb)) = (numeric(&a.version), numeric(&b.version)) {
                if nb < na {
                    out.push(format!(
                        "diesel runs {} (version {}) before {} (version {}) because it compares versions as text, not as numbers; the import keeps diesel's order. To change it, rename the folders in diesel before importing (versions of one length, e.g. timestamps)",
                        a.folder, a.version, b.folder, b.version
                    ));
                }
            }
        }
    }
    out
}

fn read_text(path: &Path, shown: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: cannot be read: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{shown}: not valid UTF-8; save it as UTF-8 and run again"))?;
    Ok(text.trim_start_matches('\u{feff}').replace("\r\n", "\n"))
}

fn convert(m: &DieselMigration, parent: Option<String>) -> Result<ImportedRevision, String> {
    let revision = revision_for_diesel_version(&m.version);
    let name = m.folder.split_once('_').map_or("", |(_, n)| n);
    let message = if name.is_empty() {
        m.folder.clone()
    } else {
        name.replace('_', " ")
    };
    let up_shown = format!("{}/up.sql", m.shown);
    let up = read_text(&m.dir.join("up.sql"), &up_shown)?;
    import_output::check_sql_body(&up).map_err(|e| format!("{up_shown}: {e}"))?;
    let upgrade = if up.is_empty() {
        Upgrade::Placeholder(format!(
            "{up_shown} is empty, which diesel refuses to run (EmptyMigration).\nWrite the SQL this migration should apply."
        ))
    } else if !alembix_core::sql::has_statements(&up) {
        Upgrade::Nothing(format!("{up_shown} holds no statement: a no-op in diesel."))
    } else {
        Upgrade::Sql(up)
    };
    let down_path = m.dir.join("down.sql");
    let down_shown = format!("{}/down.sql", m.shown);
    let downgrade = if !down_path.exists() {
        Downgrade::Irreversible(format!(
            "{} has no down.sql: diesel cannot revert it either.",
            m.shown
        ))
    } else {
        let down = read_text(&down_path, &down_shown)?;
        import_output::check_sql_body(&down).map_err(|e| format!("{down_shown}: {e}"))?;
        if down.is_empty() {
            Downgrade::Irreversible(format!(
                "{down_shown} is empty, which diesel refuses to run (EmptyMigration)."
            ))
        } else if !alembix_core::sql::has_statements(&down) {
            if down.trim().is_empty() {
                Downgrade::Nothing(format!("{down_shown} is blank: nothing to revert."))
            } else {
                Downgrade::Sql(format!(
                    "-- {down_shown} holds no statement: nothing to revert.\n{}",
                    down.trim_end()
                ))
            }
        } else {
            Downgrade::Sql(down)
        }
    };
    let transaction = match run_in_transaction(&m.dir.join("metadata.toml")) {
        false => TransactionMode::None,
        true => TransactionMode::PerMigration,
    };
    let (prefix, create_date) = timestamp(&m.version);
    Ok(ImportedRevision {
        source: format!("{}/", m.shown),
        revision,
        down_revisions: parent.into_iter().collect(),
        branch_labels: Vec::new(),
        depends_on: Vec::new(),
        message,
        create_date,
        transaction,
        name_prefix: prefix,
        upgrade,
        upgrade_variants: Vec::new(),
        downgrade,
        downgrade_variants: Vec::new(),
    })
}

/// diesel's `TomlMetadata::read_from_file(..).unwrap_or_default()`: no file or an
/// unreadable one → `true`; a readable one → its `run_in_transaction`, `false` when
/// absent (serde's default for `bool`).
fn run_in_transaction(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    let mut value = None;
    let mut in_root = true;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            in_root = false;
            continue;
        }
        let Some((key, v)) = line.split_once('=') else {
            return true; // not TOML diesel can read: its default applies
        };
        if in_root && key.trim() == "run_in_transaction" {
            match v.split('#').next().unwrap_or("").trim() {
                "true" => value = Some(true),
                "false" => value = Some(false),
                _ => return true,
            }
        }
    }
    value.unwrap_or(false)
}

/// `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS` from a 14-digit diesel-cli timestamp.
fn timestamp(version: &str) -> (String, Option<String>) {
    let digits = version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit());
    if !digits || version.bytes().all(|b| b == b'0') {
        return ("0000-00-00".to_string(), None);
    }
    let date = format!("{}-{}-{}", &version[..4], &version[4..6], &version[6..8]);
    let time = format!(
        "{}:{}:{}",
        &version[8..10],
        &version[10..12],
        &version[12..14]
    );
    (date.clone(), Some(format!("{date} {time}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn versions_follow_diesel() {
        assert_eq!(
            diesel_version("2024-01-01-120000_create_users"),
            "20240101120000"
        );
        assert_eq!(
            diesel_version("00000000000000_diesel_initial_setup"),
            "00000000000000"
        );
        assert_eq!(diesel_version("2_x"), "2");
        assert_eq!(diesel_version("nounderscore"), "nounderscore");
    }

    #[test]
    fn timestamps_give_dates() {
        assert_eq!(
            timestamp("20240102030405"),
            (
                "2024-01-02".to_string(),
                Some("2024-01-02 03:04:05".to_string())
            )
        );
        assert_eq!(timestamp("00000000000000").0, "0000-00-00");
        assert_eq!(timestamp("10").1, None);
    }

    #[test]
    fn metadata_follows_serde_defaults() {
        let dir = std::env::temp_dir().join(format!("xtask-meta-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("metadata.toml");
        assert!(run_in_transaction(&file), "no file: in a transaction");
        for (text, expected) in [
            ("run_in_transaction = false\n", false),
            ("run_in_transaction = true # yes\n", true),
            ("# nothing\n", false),
            ("this is not toml\n", true),
        ] {
            std::fs::write(&file, text).unwrap();
            assert_eq!(run_in_transaction(&file), expected, "{text}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn toml_values_are_found_in_their_table() {
        let text = "[print_schema]\nfile = \"src/schema.rs\"\n\n[migrations_directory]\ndir = \"db/migrations\" # here\n";
        assert_eq!(
            toml_value(text, "migrations_directory", "dir").as_deref(),
            Some("db/migrations")
        );
        assert_eq!(toml_value(text, "migrations_directory", "file"), None);
    }
}
