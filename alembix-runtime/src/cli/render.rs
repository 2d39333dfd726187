//! How revisions and runs read: Alembic's text forms, and their JSON objects.
//!
//! Text follows Alembic's command output (`shared/alembic/SEMANTICS.md` §10):
//! `down1, down2 (deps) -> rev (labels) (head) (branchpoint) (mergepoint), doc`
//! for `history`, `rev (labels) (head)` for `heads`, the `Rev: …` block for
//! `show` and `--verbose`. The JSON objects ([`RevisionJson`], [`ReportJson`])
//! are the parts that several commands' documents share; their field names and
//! order are documented in the crate's README and are part of the interface.

use super::json_writer;
use crate::error::Direction;
use crate::report::{AcceptedEdit, Report, StepReport};
use alembix_core::file::format_duration;
use alembix_core::{MigrationFile, MigrationSet, RevIdx, Section, SqlDialect, TransactionMode};
use serde::Serialize;
use std::time::Duration;

/// Which indicators a one-line revision carries (Alembic's `_head_only` flags).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LineStyle {
    /// Prefix `down (deps) -> `.
    pub parents: bool,
    /// ` (label, …)` after the id.
    pub branches: bool,
    /// ` (branchpoint)` / ` (mergepoint)`.
    pub tree: bool,
    /// `, message` at the end.
    pub doc: bool,
}

/// The migration set with, optionally, which revisions are version-table rows.
pub(crate) struct View<'a> {
    pub set: &'a MigrationSet,
    /// `Some(mask)` when the database was read (`--indicate-current`).
    pub current: Option<&'a [bool]>,
    /// Revisions the database has applied, when it was read.
    pub applied: Option<&'a [bool]>,
}

impl<'a> View<'a> {
    pub fn new(set: &'a MigrationSet) -> View<'a> {
        View {
            set,
            current: None,
            applied: None,
        }
    }

    fn is_current(&self, i: RevIdx) -> bool {
        self.current
            .is_some_and(|c| c.get(i).copied().unwrap_or(false))
    }

    fn is_effective_head(&self, i: RevIdx) -> bool {
        self.set.graph().real_heads().contains(&i)
    }

    /// `<base>` or the `down_revision`s, comma-separated.
    pub fn down(&self, i: RevIdx) -> String {
        let graph = self.set.graph();
        let rev = graph.rev(i);
        if rev.down.is_empty() {
            "<base>".to_string()
        } else {
            graph.ids(&rev.down).join(", ")
        }
    }

    /// Alembic's one-line form (`Script._head_only`).
    pub fn line(&self, i: RevIdx, style: LineStyle) -> String {
        let graph = self.set.graph();
        let rev = graph.rev(i);
        let mut text = rev.id.clone();
        if style.parents {
            text = if rev.depends_on.is_empty() {
                format!("{} -> {text}", self.down(i))
            } else {
                format!("{} ({}) -> {text}", self.down(i), rev.depends_on.join(", "))
            };
        }
        if style.branches && !rev.labels.is_empty() {
            text.push_str(&format!(" ({})", rev.labels.join(", ")));
        }
        if self.is_effective_head(i) {
            text.push_str(" (head)");
        } else if rev.is_head() {
            text.push_str(" (effective head)");
        }
        if self.is_current(i) {
            text.push_str(" (current)");
        }
        if style.tree {
            if rev.is_branch_point() {
                text.push_str(" (branchpoint)");
            }
            if rev.is_merge_point() {
                text.push_str(" (mergepoint)");
            }
        }
        if style.doc {
            text.push_str(&format!(", {}", self.set.file(i).message));
        }
        text
    }

    /// Alembic's `Rev: …` block (`Script.log_entry`), plus our file facts.
    pub fn entry(&self, i: RevIdx, details: bool) -> String {
        let graph = self.set.graph();
        let rev = graph.rev(i);
        let file = self.set.file(i);
        let mut text = format!("Rev: {}", rev.id);
        if rev.is_head() {
            text.push_str(" (head)");
        }
        if rev.is_branch_point() {
            text.push_str(" (branchpoint)");
        }
        if rev.is_merge_point() {
            text.push_str(" (mergepoint)");
        }
        if self.is_current(i) {
            text.push_str(" (current)");
        }
        text.push('\n');
        let parent_key = if rev.is_merge_point() {
            "Merges"
        } else {
            "Parent"
        };
        text.push_str(&format!("{parent_key}: {}\n", self.down(i)));
        if !rev.depends_on.is_empty() {
            text.push_str(&format!("Also depends on: {}\n", rev.depends_on.join(", ")));
        }
        if rev.is_branch_point() {
            text.push_str(&format!(
                "Branches into: {}\n",
                graph.ids(&rev.children).join(", ")
            ));
        }
        if !rev.labels.is_empty() {
            text.push_str(&format!("Branch names: {}\n", rev.labels.join(", ")));
        }
        text.push_str(&format!("Path: {}\n", file.file));
        if details {
            if let Some(date) = &file.create_date {
                text.push_str(&format!("Create Date: {date}\n"));
            }
            if file.upgrade.has_variants() {
                for dialect in SqlDialect::ALL {
                    text.push_str(&format!(
                        "Checksum ({dialect}): {}\n",
                        file.checksum(dialect)
                    ));
                }
            } else {
                text.push_str(&format!(
                    "Checksum: {}\n",
                    file.checksum(SqlDialect::Sqlite)
                ));
            }
            let variants = variant_dialects(file);
            if !variants.is_empty() {
                text.push_str(&format!("Variants: {}\n", variants.join(", ")));
            }
            text.push_str(&format!(
                "Transaction: {}\n",
                transaction_name(file.transaction)
            ));
            for (name, timeout) in [
                ("Lock Timeout", file.timeouts.lock),
                ("Statement Timeout", file.timeouts.statement),
            ] {
                if let Some(timeout) = timeout {
                    text.push_str(&format!("{name}: {}\n", format_duration(timeout)));
                }
            }
            let downgrade = match &file.downgrade {
                Some(d) => statement_count(d).to_string(),
                None => "irreversible".to_string(),
            };
            text.push_str(&format!(
                "Statements: upgrade {}, downgrade {downgrade}\n",
                statement_count(&file.upgrade)
            ));
        }
        text.push_str(&format!("\n    {}\n", file.message));
        text
    }

    /// The JSON object of one revision (see the README for the fields).
    pub fn json(&self, i: RevIdx) -> RevisionJson<'a> {
        let set: &'a MigrationSet = self.set;
        let graph = set.graph();
        let rev = graph.rev(i);
        let file = set.file(i);
        let ids = |idxs: &'a [RevIdx]| idxs.iter().map(|&j| graph.rev(j).id.as_str()).collect();
        let database = (self.applied.is_some() || self.current.is_some()).then(|| DatabaseJson {
            applied: self.applied.map(|a| a.get(i).copied().unwrap_or(false)),
            current: self.is_current(i),
        });
        RevisionJson {
            revision: &rev.id,
            down_revisions: ids(&rev.down),
            depends_on: &rev.depends_on,
            branch_labels: &rev.labels,
            message: &file.message,
            file: &file.file,
            children: ids(&rev.children),
            is_head: rev.is_head(),
            is_base: rev.is_base(),
            is_branch_point: rev.is_branch_point(),
            is_merge_point: rev.is_merge_point(),
            database,
        }
    }

    /// [`View::json`] plus the file's details, for `show`.
    pub fn json_details(&self, i: RevIdx) -> RevisionDetailsJson<'a> {
        let file = self.set.file(i);
        RevisionDetailsJson {
            revision: self.json(i),
            create_date: file.create_date.as_deref(),
            checksum: file.checksum(SqlDialect::Sqlite).as_str(),
            checksums: ChecksumsJson {
                sqlite: file.checksum(SqlDialect::Sqlite).as_str(),
                postgresql: file.checksum(SqlDialect::Postgres).as_str(),
                mysql: file.checksum(SqlDialect::Mysql).as_str(),
            },
            variants: variant_dialects(file),
            transaction: transaction_name(file.transaction),
            lock_timeout: file.timeouts.lock.map(format_duration),
            statement_timeout: file.timeouts.statement.map(format_duration),
            reversible: file.downgrade.is_some(),
            upgrade_statements: statement_count(&file.upgrade),
            downgrade_statements: file.downgrade.as_ref().map(statement_count),
        }
    }
}

/// The JSON object of a revision: `heads`, `branches`, `history` list them.
#[derive(Debug, Serialize)]
pub(super) struct RevisionJson<'a> {
    revision: &'a str,
    down_revisions: Vec<&'a str>,
    /// As written in the file (labels unresolved).
    depends_on: &'a [String],
    branch_labels: &'a [String],
    message: &'a str,
    file: &'a str,
    children: Vec<&'a str>,
    is_head: bool,
    is_base: bool,
    is_branch_point: bool,
    is_merge_point: bool,
    /// Only when the database was read (`history -i`, `show current`).
    #[serde(flatten)]
    database: Option<DatabaseJson>,
}

/// What the database says of a revision, in its [`RevisionJson`].
#[derive(Debug, Serialize)]
struct DatabaseJson {
    /// Whether it is applied; null when only the rows were read.
    applied: Option<bool>,
    /// Whether it is a version-table row.
    current: bool,
}

/// A revision's JSON object with its file's details, for `show`.
#[derive(Debug, Serialize)]
pub(super) struct RevisionDetailsJson<'a> {
    #[serde(flatten)]
    revision: RevisionJson<'a>,
    create_date: Option<&'a str>,
    /// The SQLite checksum (every dialect's, without variants).
    checksum: &'a str,
    /// The checksum of the upgrade SQL each dialect runs.
    checksums: ChecksumsJson<'a>,
    /// The dialects with a variant of a section.
    variants: Vec<&'static str>,
    transaction: &'static str,
    /// The header's `lock_timeout` (`200ms`, `5s`), null when absent.
    lock_timeout: Option<String>,
    /// The header's `statement_timeout`, null when absent.
    statement_timeout: Option<String>,
    reversible: bool,
    upgrade_statements: usize,
    /// Null when the migration is irreversible.
    downgrade_statements: Option<usize>,
}

/// The checksum of the upgrade SQL each dialect runs.
#[derive(Debug, Serialize)]
pub(super) struct ChecksumsJson<'a> {
    sqlite: &'a str,
    postgresql: &'a str,
    mysql: &'a str,
}

/// The dialects that have a variant of the upgrade or the downgrade.
fn variant_dialects(file: &MigrationFile) -> Vec<&'static str> {
    SqlDialect::ALL
        .into_iter()
        .filter(|&d| {
            std::iter::once(&file.upgrade)
                .chain(&file.downgrade)
                .any(|s| s.parts.iter().any(|p| p.dialect == Some(d)))
        })
        .map(SqlDialect::name)
        .collect()
}

/// How many statements a section holds, as the first dialect with SQL there
/// splits it (every dialect agrees unless the text reads differently to one
/// of them, or the section has variants).
fn statement_count(section: &Section) -> usize {
    SqlDialect::ALL
        .into_iter()
        .find(|&d| section.part(d).is_some())
        .map_or(0, |d| section.statements(d).len())
}

/// `per-migration` or `none`, as in the file header.
pub(crate) fn transaction_name(mode: TransactionMode) -> &'static str {
    match mode {
        TransactionMode::PerMigration => "per-migration",
        TransactionMode::None => "none",
    }
}

/// `upgrade` or `downgrade`.
pub(crate) fn direction_name(direction: Direction) -> &'static str {
    crate::error::direction_name(direction)
}

/// The line of one migration step, as Alembic logs it:
/// `Running upgrade <down> -> <rev>, <message>`.
pub(crate) fn step_line(direction: Direction, down: &str, revision: &str, message: &str) -> String {
    let (from, to) = match direction {
        Direction::Upgrade => (down, revision),
        Direction::Downgrade => (revision, down),
    };
    let verb = direction_name(direction);
    if message.is_empty() {
        format!("Running {verb} {from} -> {to}")
    } else {
        format!("Running {verb} {from} -> {to}, {message}")
    }
}

/// A duration for people: `0.4 ms`, `12 ms`, `3.2 s`.
pub(crate) fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// `a, b` or `<base>` for no rows.
pub(crate) fn rows_text(rows: &[String]) -> String {
    if rows.is_empty() {
        "<base>".to_string()
    } else {
        rows.join(", ")
    }
}

/// The fields of a run (`upgrade`, `downgrade`, `stamp`, `repair`), which
/// each of those documents flattens in after its own.
#[derive(Debug, Serialize)]
pub(super) struct ReportJson<'a> {
    rows_before: &'a [String],
    rows_after: &'a [String],
    #[serde(serialize_with = "json_writer::duration_ms")]
    duration_ms: Duration,
    /// Revisions recorded as applied without running them (another tool applied them).
    adopted: &'a [String],
    steps: Vec<StepJson<'a>>,
}

impl<'a> ReportJson<'a> {
    /// The JSON fields of `report`.
    pub fn new(report: &'a Report) -> ReportJson<'a> {
        ReportJson {
            rows_before: &report.rows_before,
            rows_after: &report.rows_after,
            duration_ms: report.duration,
            adopted: &report.adopted,
            steps: report.steps.iter().map(StepJson::new).collect(),
        }
    }
}

/// One step of a run, as JSON.
#[derive(Debug, Serialize)]
struct StepJson<'a> {
    revision: Option<&'a str>,
    file: Option<&'a str>,
    direction: &'static str,
    stamp: bool,
    statements: usize,
    removed: &'a [String],
    added: &'a [String],
    #[serde(serialize_with = "json_writer::duration_ms")]
    duration_ms: Duration,
}

impl<'a> StepJson<'a> {
    fn new(step: &'a StepReport) -> StepJson<'a> {
        StepJson {
            revision: step.revision.as_deref(),
            file: step.file.as_deref(),
            direction: direction_name(step.direction),
            stamp: step.stamp,
            statements: step.statements,
            removed: &step.removed,
            added: &step.added,
            duration_ms: step.duration,
        }
    }
}

/// An accepted edit of an applied migration, as JSON (`check`, `current`).
#[derive(Debug, Serialize)]
pub(super) struct AcceptedEditJson<'a> {
    revision: &'a str,
    file: &'a str,
    /// The checksum it was applied with.
    applied_with: &'a str,
    /// The checksum accepted in its place.
    accepted: &'a str,
    reason: &'a str,
}

impl<'a> AcceptedEditJson<'a> {
    /// The JSON fields of `edit`.
    pub fn new(edit: &'a AcceptedEdit) -> AcceptedEditJson<'a> {
        AcceptedEditJson {
            revision: &edit.revision,
            file: &edit.file,
            applied_with: &edit.applied_with,
            accepted: &edit.accepted,
            reason: &edit.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;
    use alembix_core::{GraphOptions, SourceFile};

    fn file(rev: &str, down: &str, extra: &str) -> SourceFile {
        SourceFile {
            name: format!("m/{rev}.sql"),
            text: format!(
                "-- revision: {rev}\n-- down_revision: {down}\n{extra}-- message: add {rev}\n\n-- migrate:upgrade\nCREATE TABLE {rev} (id INT);\n\n-- migrate:downgrade\nDROP TABLE {rev};\n"
            ),
        }
    }

    fn set() -> MigrationSet {
        let sources = [
            file("a1", "none", ""),
            file("b2", "a1", "-- branch_labels: left\n"),
            file("c3", "a1", ""),
            file("d4", "b2, c3", ""),
        ];
        MigrationSet::from_sources(&sources, &GraphOptions::default()).expect("valid fixture")
    }

    #[test]
    fn lines_follow_alembic() {
        let set = set();
        let view = View::new(&set);
        let graph = set.graph();
        let idx = |id: &str| graph.index_of(id).expect("known id");
        let history = LineStyle {
            parents: true,
            branches: true,
            tree: true,
            doc: true,
        };
        assert_eq!(
            view.line(idx("d4"), history),
            "b2, c3 -> d4 (left) (head) (mergepoint), add d4"
        );
        assert_eq!(
            view.line(idx("a1"), history),
            "<base> -> a1 (branchpoint), add a1"
        );
        let heads = LineStyle {
            branches: true,
            ..LineStyle::default()
        };
        assert_eq!(view.line(idx("d4"), heads), "d4 (left) (head)");
        assert_eq!(
            view.entry(idx("a1"), false),
            "Rev: a1 (branchpoint)\nParent: <base>\nBranches into: b2, c3\nPath: m/a1.sql\n\n    add a1\n"
        );
    }

    #[test]
    fn step_lines_and_durations() {
        assert_eq!(
            step_line(Direction::Upgrade, "<base>", "a1", "add a1"),
            "Running upgrade <base> -> a1, add a1"
        );
        assert_eq!(
            step_line(Direction::Downgrade, "b2, c3", "d4", ""),
            "Running downgrade d4 -> b2, c3"
        );
        assert_eq!(millis(Duration::from_micros(420)), "0.4 ms");
        assert_eq!(millis(Duration::from_millis(123)), "123 ms");
        assert_eq!(millis(Duration::from_millis(12_345)), "12.3 s");
    }
}
