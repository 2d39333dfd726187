//! Text and JSON renderings of revisions, runs and checks.
//!
//! Text follows Alembic's command output (`shared/alembic/SEMANTICS.md` §10):
//! `down1, down2 (deps) -> rev (labels) (head) (branchpoint) (mergepoint), doc`
//! for `history`, `rev (labels) (head)` for `heads`, the `Rev: …` block for
//! `show` and `--verbose`. JSON field names are documented in the crate's
//! README and in [`super`]; they are part of the interface.

use super::json::Json;
use crate::error::{Direction, Drift, Unfinished};
use crate::report::{CheckReport, Report, Standing, StepReport};
use alembix_core::{MigrationSet, RevIdx, Section, SqlDialect, TransactionMode};
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
            text.push_str(&format!("Checksum: {}\n", file.checksum));
            text.push_str(&format!(
                "Transaction: {}\n",
                transaction_name(file.transaction)
            ));
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
    pub fn json(&self, i: RevIdx) -> Json {
        let graph = self.set.graph();
        let rev = graph.rev(i);
        let file = self.set.file(i);
        let mut value = Json::object()
            .with("revision", &rev.id)
            .with("down_revisions", Json::strings(&graph.ids(&rev.down)))
            .with("depends_on", Json::strings(&rev.depends_on))
            .with("branch_labels", Json::strings(&rev.labels))
            .with("message", &file.message)
            .with("file", &file.file)
            .with("children", Json::strings(&graph.ids(&rev.children)))
            .with("is_head", rev.is_head())
            .with("is_base", rev.is_base())
            .with("is_branch_point", rev.is_branch_point())
            .with("is_merge_point", rev.is_merge_point());
        if self.applied.is_some() || self.current.is_some() {
            let applied = self
                .applied
                .map(|a| Json::Bool(a.get(i).copied().unwrap_or(false)));
            value = value
                .with("applied", applied)
                .with("current", self.is_current(i));
        }
        value
    }

    /// [`View::json`] plus the file's details, for `show`.
    pub fn json_details(&self, i: RevIdx) -> Json {
        let file = self.set.file(i);
        self.json(i)
            .with("create_date", file.create_date.as_deref())
            .with("checksum", file.checksum.as_str())
            .with("transaction", transaction_name(file.transaction))
            .with("reversible", file.downgrade.is_some())
            .with("upgrade_statements", statement_count(&file.upgrade))
            .with(
                "downgrade_statements",
                file.downgrade.as_ref().map(statement_count),
            )
    }
}

/// How many statements a section holds, as SQLite splits it (every dialect
/// agrees unless the text reads differently to one of them).
fn statement_count(section: &Section) -> usize {
    section.statements(SqlDialect::Sqlite).len()
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

/// One step of a run, as JSON.
pub(crate) fn step_json(step: &StepReport) -> Json {
    Json::object()
        .with("revision", step.revision.as_deref())
        .with("file", step.file.as_deref())
        .with("direction", direction_name(step.direction))
        .with("stamp", step.stamp)
        .with("statements", step.statements)
        .with("removed", Json::strings(&step.removed))
        .with("added", Json::strings(&step.added))
        .with("duration_ms", step.duration)
}

/// The fields of a run report, added to `value`.
pub(crate) fn report_json(value: Json, report: &Report) -> Json {
    value
        .with("rows_before", Json::strings(&report.rows_before))
        .with("rows_after", Json::strings(&report.rows_after))
        .with("duration_ms", report.duration)
        .with("adopted", Json::strings(&report.adopted))
        .with(
            "steps",
            Json::Arr(report.steps.iter().map(step_json).collect()),
        )
}

/// A drift entry as JSON.
pub(crate) fn drift_json(d: &Drift) -> Json {
    Json::object()
        .with("revision", &d.revision)
        .with("file", &d.file)
        .with("recorded", &d.recorded)
        .with("current", &d.current)
}

/// An unfinished step as JSON.
pub(crate) fn unfinished_json(u: &Unfinished) -> Json {
    Json::object()
        .with("revision", &u.revision)
        .with("file", u.file.as_deref())
        .with("operation", &u.operation)
        .with("state", &u.state)
        .with("statements_done", u.statements_done)
        .with("statements_total", u.statements_total)
        .with("error", u.error.as_deref())
}

/// What `check` says, in one word (also the JSON `status`).
pub(crate) fn check_status(report: &CheckReport) -> &'static str {
    if !report.unfinished.is_empty() {
        "unfinished"
    } else if !report.drift.is_empty() {
        "drift"
    } else {
        match report.standing {
            Standing::UpToDate => "ok",
            Standing::Behind { .. } => "pending",
            Standing::Ahead { .. } => "ahead",
            Standing::Diverged { .. } => "diverged",
            Standing::Unknown { .. } => "unknown",
        }
    }
}

/// The `check` report as JSON fields, added to `value`.
pub(crate) fn check_json(value: Json, report: &CheckReport) -> Json {
    let (pending, unknown, fork): (&[String], &[String], Option<&str>) = match &report.standing {
        Standing::UpToDate => (&[], &[], None),
        Standing::Behind { pending } => (pending, &[], None),
        Standing::Ahead { unknown } | Standing::Unknown { unknown } => (&[], unknown, None),
        Standing::Diverged { unknown, fork } => (&[], unknown, fork.as_deref()),
    };
    value
        .with("rows", Json::strings(&report.rows))
        .with("pending", Json::strings(pending))
        .with("unknown", Json::strings(unknown))
        .with("fork", fork)
        .with(
            "drift",
            Json::Arr(report.drift.iter().map(drift_json).collect()),
        )
        .with(
            "unfinished",
            Json::Arr(report.unfinished.iter().map(unfinished_json).collect()),
        )
        .with("version_table_exists", report.version_table_exists)
        .with("history_table_exists", report.history_table_exists)
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
