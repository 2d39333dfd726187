//! `new-migration --autogenerate`: the next migration's SQL, from the
//! difference between the schema the history produces (replayed into a
//! scratch database) and the schema a model asks for — diesel's `schema.rs`
//! (laid over the history's schema by [`crate::model_rs`]) or a
//! `schema.sql` holding the whole desired DDL (replayed into a second
//! scratch database) — for each dialect the history declares.
//!
//! The statements come from [`alembix_runtime::schema::changes`]. Once the
//! file is written, it is proven on a fresh scratch database per dialect:
//! the history with it replayed to the new head must read as the model,
//! and reverted one step as the history did before.

use alembix_core::sql::SqlDialect;
use alembix_runtime::schema::{changes, verify, Difference, Rename, Schema, Scratch};
use alembix_runtime::{Config, Dialect, Migrator};
use std::path::{Path, PathBuf};

/// What autogenerate was asked for.
pub(crate) struct Request<'a> {
    /// `--rename`s.
    pub renames: &'a [Rename],
    /// `--db`: a server per dialect other than SQLite.
    pub databases: &'a [String],
    /// `--dialect`: the dialects to write SQL for.
    pub dialects: &'a [SqlDialect],
    /// `--model-dialect`: the dialect whose diesel types a `schema.rs` holds.
    pub model_dialect: Option<SqlDialect>,
}

/// The generated sections, per dialect, and what a reviewer should know.
pub(crate) struct Generated {
    /// `(dialect, upgrade, downgrade)` in the order of the dialects.
    pub parts: Vec<(SqlDialect, String, String)>,
    /// Notes, each naming its dialect when there are several.
    pub notes: Vec<String>,
    /// The model, as the messages show it.
    pub model: String,
    /// Per dialect, the schema the model asks for (for [`prove`]).
    wanted: Vec<(SqlDialect, Schema, Schema)>,
    /// Per dialect, the scratch server URL (`None`: SQLite in memory).
    servers: Vec<(SqlDialect, Option<String>)>,
}

impl Generated {
    /// Whether no dialect has anything to change.
    pub fn is_empty(&self) -> bool {
        self.parts
            .iter()
            .all(|(_, up, down)| up.is_empty() && down.is_empty())
    }
}

/// The model file: `--model`, else the crate's `src/schema.rs` (beside the
/// migrations folder), else `schema.sql` in the migrations folder.
pub(crate) fn model_path(given: Option<&Path>, migrations: &Path) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    let crate_root = migrations.parent().unwrap_or(migrations);
    let candidates = [
        crate_root.join("src").join("schema.rs"),
        migrations.join("schema.sql"),
    ];
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        format!(
            "autogenerate compares the history with a model, and none was found at {} or {}: give one with --model FILE (a diesel schema.rs, or a schema.sql with the whole DDL)",
            candidates[0].display(),
            candidates[1].display()
        )
    })
}

/// Compares, for each dialect, the history (`migrator`, at its heads) with
/// the model at `model` (shown as `shown`).
pub(crate) fn generate(
    migrator: &Migrator,
    request: &Request<'_>,
    model: &Path,
    shown: &str,
    declared: Vec<SqlDialect>,
) -> Result<Generated, String> {
    let text = std::fs::read_to_string(model)
        .map_err(|e| format!("cannot read the model {shown}: {e}"))?;
    let is_rs = match model.extension().and_then(|e| e.to_str()) {
        Some("rs") => true,
        Some("sql") => false,
        _ => {
            return Err(format!(
                "the model {shown} is neither a diesel schema.rs (`.rs`) nor a schema.sql (`.sql`)"
            ))
        }
    };
    let dialects = if !request.dialects.is_empty() {
        request.dialects.to_vec()
    } else if !declared.is_empty() {
        declared
    } else {
        vec![SqlDialect::Sqlite]
    };
    let several = dialects.len() > 1;
    // A schema.rs holds one backend's diesel types: what it changes is read
    // against the history's schema on that backend, then made in each.
    let baseline = if is_rs {
        let read_as = request
            .model_dialect
            .unwrap_or(if dialects.contains(&SqlDialect::Sqlite) {
                SqlDialect::Sqlite
            } else {
                dialects[0]
            });
        let server = server_for(read_as, request.databases)?;
        let mut scratch = scratch_of(server.as_deref())?;
        let schema = migrator
            .replay_schema(&mut scratch, "heads")
            .map_err(|e| format!("replaying the history ({}): {e}", read_as.name()))?;
        Some(schema)
    } else {
        None
    };
    let mut generated = Generated {
        parts: Vec::new(),
        notes: Vec::new(),
        model: shown.to_string(),
        wanted: Vec::new(),
        servers: Vec::new(),
    };
    for dialect in dialects {
        let server = server_for(dialect, request.databases)?;
        let on = |what: &str| format!("{what} ({})", dialect.name());
        let mut scratch = scratch_of(server.as_deref())?;
        let current = migrator
            .replay_schema(&mut scratch, "heads")
            .map_err(|e| format!("{}: {e}", on("replaying the history")))?;
        drop(scratch);
        let (wanted, notes) = if let Some(baseline) = &baseline {
            let desired = if baseline.dialect == current.dialect {
                crate::model_rs::desired_schema(&text, shown, &current)?
            } else {
                crate::model_rs::desired_schema_over(&text, shown, baseline, &current)?
            };
            (desired.schema, desired.notes)
        } else {
            let mut scratch = scratch_of(server.as_deref())?;
            scratch
                .run_script(&text, shown)
                .map_err(|e| format!("{}: {e}", on("replaying the model")))?;
            let schema = migrator
                .read_scratch(&mut scratch)
                .map_err(|e| format!("{}: {e}", on("reading the model's schema")))?;
            (schema, Vec::new())
        };
        let found = changes(&current, &wanted, request.renames).map_err(|e| e.to_string())?;
        let tag = |note: &str| {
            if several {
                format!("{}: {note}", dialect.name())
            } else {
                note.to_string()
            }
        };
        for note in notes.iter().chain(&found.notes) {
            let note = tag(note);
            if !generated.notes.contains(&note) {
                generated.notes.push(note);
            }
        }
        generated
            .parts
            .push((dialect, found.upgrade_sql(), found.downgrade_sql()));
        generated.wanted.push((dialect, wanted, current));
        generated.servers.push((dialect, server));
    }
    Ok(generated)
}

/// Proves the written migration `revision` (built on `parent`, `None`:
/// base) on a fresh scratch database per dialect: the history with it reads
/// as the model at its heads, and as before once reverted. Returns a line
/// per dialect.
pub(crate) fn prove(
    migrator: &Migrator,
    generated: &Generated,
    revision: &str,
    parent: Option<&str>,
) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for ((dialect, wanted, before), (_, server)) in generated.wanted.iter().zip(&generated.servers)
    {
        let mut scratch = scratch_of(server.as_deref())?;
        let up = migrator
            .replay_schema(&mut scratch, revision)
            .map_err(|e| format!("the new migration does not apply on {dialect}: {e}"))?;
        let ahead = verify(wanted, &up);
        if !ahead.is_empty() {
            return Err(format!(
                "on {dialect}, the history with the new migration does not read as the model {}; what differs (- model, + after the upgrade):\n{}",
                generated.model,
                lines_of(&ahead)
            ));
        }
        let down = migrator
            .revert_schema(&mut scratch, parent.unwrap_or("base"))
            .map_err(|e| format!("the new migration does not revert on {dialect}: {e}"))?;
        let back = verify(before, &down);
        if !back.is_empty() {
            return Err(format!(
                "on {dialect}, reverting the new migration does not give the history's schema back; what differs (- before, + after the downgrade):\n{}",
                lines_of(&back)
            ));
        }
        lines.push(format!(
            "verified on {dialect}: the upgrade gives the schema of {}, the downgrade gives back the one before",
            generated.model
        ));
    }
    Ok(lines)
}

fn lines_of(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(Difference::line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `--db` URL of a server dialect; SQLite replays in memory.
fn server_for(dialect: SqlDialect, databases: &[String]) -> Result<Option<String>, String> {
    if dialect == SqlDialect::Sqlite {
        return Ok(None);
    }
    let wanted = Dialect::from_sql_dialect(dialect);
    databases
        .iter()
        .find(|url| Dialect::of_url(url) == Some(wanted))
        .cloned()
        .map(Some)
        .ok_or_else(|| {
            let example = match dialect {
                SqlDialect::Postgres => "postgres://USER@HOST/DB",
                _ => "mysql://USER@HOST/DB",
            };
            format!(
                "autogenerating {dialect} SQL replays the history on a {dialect} server, in a scratch database it creates and drops: give one with --db {example} (or leave {dialect} out with --dialect)"
            )
        })
}

fn scratch_of(server: Option<&str>) -> Result<Scratch, String> {
    match server {
        None => Scratch::in_memory(),
        Some(url) => Scratch::on_server(url),
    }
    .map_err(|e| e.to_string())
}

/// A migrator over a loaded history (several heads allowed), for the
/// scratch replays.
pub(crate) fn migrator(set: alembix_core::MigrationSet) -> Result<Migrator, String> {
    Migrator::new(set, Config::default()).map_err(|e| e.to_string())
}
