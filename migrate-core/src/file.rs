//! The migration file format: a header of `-- key: value` lines, then sections.
//!
//! ```sql
//! -- revision: 3f2a9c1b7d4e
//! -- down_revision: 9b8c7d6e5f4a
//! -- branch_labels: billing
//! -- depends_on: 55aa66bb77cc
//! -- message: add invoices table
//! -- create_date: 2026-11-22 10:31:00
//! -- transaction: per-migration
//!
//! -- migrate:upgrade
//! CREATE TABLE invoices (id INTEGER PRIMARY KEY, total_cents INTEGER NOT NULL);
//!
//! -- migrate:downgrade
//! DROP TABLE invoices;
//! ```
//!
//! Rules (each broken rule is a [`Problem`] naming the file and line):
//!
//! - `revision` and `down_revision` are required. `down_revision` is `none` for a
//!   base, one id, or several comma-separated ids for a merge.
//! - `branch_labels` and `depends_on` are optional comma-separated lists;
//!   `message`, `create_date` are free text; `transaction` is `per-migration`
//!   (the default: the migration and its bookkeeping commit together) or `none`
//!   (for statements such as `CREATE INDEX CONCURRENTLY`).
//! - Plain comments may stand in the header, but a comment shaped like a header
//!   line (`-- word: …`) must use a known key, so a typo never goes unnoticed.
//! - `-- migrate:upgrade` starts the upgrade, which must hold SQL (merge
//!   revisions may be empty). Then either `-- migrate:downgrade` and the SQL that
//!   reverts it (a comment alone marks a deliberate no-op), or
//!   `-- migrate:irreversible`.
//! - Revision ids and branch labels use `A-Z a-z 0-9 _`; ids are at most 32
//!   characters (Alembic's `version_num VARCHAR(32)`), labels at most 64. The
//!   words `base`, `head`, `heads`, `current` and `none` are reserved.
//! - The file name ends with the revision id: `<anything>_<revision>.sql` or
//!   `<revision>.sql`.

use crate::checksum::{self, Checksum};
use crate::problem::{Problem, ProblemKind};
use crate::sql::{self, Statement};

/// The marker line that starts the upgrade section.
pub const UPGRADE_MARKER: &str = "-- migrate:upgrade";
/// The marker line that starts the downgrade section.
pub const DOWNGRADE_MARKER: &str = "-- migrate:downgrade";
/// The marker line that says the migration cannot be reverted.
pub const IRREVERSIBLE_MARKER: &str = "-- migrate:irreversible";
/// The longest revision id, as Alembic's `version_num VARCHAR(32)` allows.
pub const MAX_REVISION_LEN: usize = 32;
/// The longest branch label.
pub const MAX_LABEL_LEN: usize = 64;
/// Words that cannot be revision ids or labels: they mean something in targets.
pub const RESERVED_WORDS: &[&str] = &["base", "head", "heads", "current", "none"];

const KEYS: &[&str] = &[
    "revision",
    "down_revision",
    "branch_labels",
    "depends_on",
    "message",
    "create_date",
    "transaction",
];

/// Whether a migration runs inside a transaction with its bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TransactionMode {
    /// One transaction around the migration and its version-table update (default).
    #[default]
    PerMigration,
    /// No transaction: for statements that refuse one (`CREATE INDEX CONCURRENTLY`).
    None,
}

impl TransactionMode {
    /// The header spelling of this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionMode::PerMigration => "per-migration",
            TransactionMode::None => "none",
        }
    }
}

/// One section (upgrade or downgrade) of a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// 1-based line of the section's marker.
    pub line: u32,
    /// The section's text as written (normalized line endings).
    pub sql: String,
    /// The statements in the section, in order.
    pub statements: Vec<Statement>,
}

/// 1-based lines of the header fields, for pointing problems at them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderLines {
    /// Line of `revision:`.
    pub revision: u32,
    /// Line of `down_revision:`.
    pub down_revision: u32,
    /// Line of `branch_labels:` (0 when absent).
    pub branch_labels: u32,
    /// Line of `depends_on:` (0 when absent).
    pub depends_on: u32,
}

/// A parsed, well-formed migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// The file name as given to [`parse`] (a path relative to the crate root).
    pub file: String,
    /// This migration's revision id.
    pub revision: String,
    /// The revisions it builds on: none for a base, several for a merge.
    pub down_revisions: Vec<String>,
    /// Branch labels declared here.
    pub branch_labels: Vec<String>,
    /// Revisions or branch labels that must be applied first, without being parents.
    pub depends_on: Vec<String>,
    /// One-line description.
    pub message: String,
    /// When the file was created, as written.
    pub create_date: Option<String>,
    /// Transaction mode.
    pub transaction: TransactionMode,
    /// Where each header field was written.
    pub lines: HeaderLines,
    /// The upgrade section.
    pub upgrade: Section,
    /// The downgrade section; `None` when marked irreversible.
    pub downgrade: Option<Section>,
    /// Checksum of the upgrade section.
    pub checksum: Checksum,
}

/// Parses one migration file. `file` is the name used in problems (relative path).
pub fn parse(file: &str, text: &str) -> Result<MigrationFile, Vec<Problem>> {
    Parser::new(file).run(&checksum::normalize(text))
}

struct Parser<'a> {
    file: &'a str,
    problems: Vec<Problem>,
}

/// The header values as written (trimmed), each with its line.
#[derive(Default)]
struct Fields<'t> {
    revision: Option<(&'t str, u32)>,
    down_revision: Option<(&'t str, u32)>,
    branch_labels: Option<(&'t str, u32)>,
    depends_on: Option<(&'t str, u32)>,
    message: Option<(&'t str, u32)>,
    create_date: Option<(&'t str, u32)>,
    transaction: Option<(&'t str, u32)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Marker {
    Upgrade,
    Downgrade,
    Irreversible,
}

/// One section marker line: its kind, line number, and the byte offsets where
/// the line starts and where the section's body (the next line) starts.
#[derive(Clone, Copy)]
struct MarkerLine {
    marker: Marker,
    line: u32,
    start: usize,
    body: usize,
}

/// The section markers of a file: a well-formed file has exactly two, so the
/// first two and the count are all the checks need.
#[derive(Default)]
struct Markers {
    first_two: [Option<MarkerLine>; 2],
    count: usize,
}

impl Markers {
    fn push(&mut self, marker: MarkerLine) {
        if let Some(slot) = self.first_two.get_mut(self.count) {
            *slot = Some(marker);
        }
        self.count += 1;
    }
}

/// What every section marker line starts with, once trimmed.
const MARKER_PREFIX: &str = "-- migrate:";

impl<'a> Parser<'a> {
    fn new(file: &'a str) -> Self {
        Parser {
            file,
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, kind: ProblemKind, line: u32, message: String, help: &str) {
        let mut p = Problem::new(kind, message).at(self.file, (line > 0).then_some(line));
        if !help.is_empty() {
            p = p.help(help);
        }
        self.problems.push(p);
    }

    fn run(mut self, text: &str) -> Result<MigrationFile, Vec<Problem>> {
        let mut fields = Fields::default();
        let mut markers = Markers::default();
        let mut offset = 0usize;
        let mut sql_before_marker = false;
        let mut line_no = 0u32;
        // The header, line by line, up to the first section marker.
        for raw in text.split_inclusive('\n') {
            let line_start = offset;
            offset += raw.len();
            line_no = line_no.saturating_add(1);
            let line = raw.trim();
            if let Some(rest) = line.strip_prefix(MARKER_PREFIX) {
                if self.marker(rest, line_no, line_start, offset, &mut markers) {
                    break;
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix("--") else {
                if !sql_before_marker {
                    sql_before_marker = true;
                    self.problem(
                        ProblemKind::MalformedSections,
                        line_no,
                        format!("SQL before the `{UPGRADE_MARKER}` line"),
                        "put the SQL after a `-- migrate:upgrade` line; only `-- key: value` header lines and comments come before it",
                    );
                }
                continue;
            };
            let comment = comment.trim();
            let Some((key, value)) = comment.split_once(':') else {
                continue;
            };
            let key = key.trim();
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_') {
                continue; // a prose comment
            }
            let value = value.trim();
            let slot = match key {
                "revision" => &mut fields.revision,
                "down_revision" => &mut fields.down_revision,
                "branch_labels" => &mut fields.branch_labels,
                "depends_on" => &mut fields.depends_on,
                "message" => &mut fields.message,
                "create_date" => &mut fields.create_date,
                "transaction" => &mut fields.transaction,
                _ => {
                    let hint = match closest_key(key) {
                        Some(k) => format!("did you mean `{k}`? The header keys are {}", KEYS.join(", ")),
                        None => format!(
                            "the header keys are {}; a free comment in the header must not start with `word:`",
                            KEYS.join(", ")
                        ),
                    };
                    self.problem(
                        ProblemKind::MalformedHeader,
                        line_no,
                        format!("unknown header key `{key}`"),
                        &hint,
                    );
                    continue;
                }
            };
            if let Some((_, first)) = slot {
                let first = *first;
                self.problem(
                    ProblemKind::MalformedHeader,
                    line_no,
                    format!("`{key}` is given twice (first on line {first})"),
                    "keep one of the two lines",
                );
                continue;
            }
            *slot = Some((value, line_no));
        }
        if markers.count > 0 {
            self.later_markers(text, offset, line_no, &mut markers);
        }
        let header = self.header(fields);
        let sections = self.sections(
            text,
            &markers,
            header.as_ref().map(|h| h.down_revisions.len() > 1),
        );
        match (header, sections) {
            (Some(h), Some((upgrade, downgrade))) if self.problems.is_empty() => {
                let checksum = Checksum::of_sql(&upgrade.sql);
                Ok(MigrationFile {
                    file: self.file.to_string(),
                    revision: h.revision,
                    down_revisions: h.down_revisions,
                    branch_labels: h.branch_labels,
                    depends_on: h.depends_on,
                    message: h.message,
                    create_date: h.create_date,
                    transaction: h.transaction,
                    lines: h.lines,
                    upgrade,
                    downgrade,
                    checksum,
                })
            }
            _ => {
                self.problems.sort_by_key(|p| p.line.unwrap_or(0));
                Err(self.problems)
            }
        }
    }

    /// Records the marker line `-- migrate:{rest}` (`rest`: the rest of the
    /// line), or the problem of an unknown marker; `true` if recorded.
    fn marker(
        &mut self,
        rest: &str,
        line: u32,
        start: usize,
        body: usize,
        markers: &mut Markers,
    ) -> bool {
        let marker = match rest.trim() {
            "upgrade" => Marker::Upgrade,
            "downgrade" => Marker::Downgrade,
            "irreversible" => Marker::Irreversible,
            other => {
                self.problem(
                    ProblemKind::MalformedSections,
                    line,
                    format!("unknown section marker `-- migrate:{other}`"),
                    "the markers are `-- migrate:upgrade`, `-- migrate:downgrade` and `-- migrate:irreversible`",
                );
                return false;
            }
        };
        markers.push(MarkerLine {
            marker,
            line,
            start,
            body,
        });
        true
    }

    /// The marker lines after the first one, which is line `marker_line` and
    /// ends at `from`. Inside the sections only marker lines matter, so instead of
    /// trimming every line of SQL this looks for `-- migrate:` and keeps the
    /// places where only whitespace precedes it on its line, which are exactly
    /// the lines that start with it once trimmed.
    fn later_markers(&mut self, text: &str, from: usize, marker_line: u32, markers: &mut Markers) {
        // `line` is the number of the line that starts at `counted`.
        let mut line = marker_line.saturating_add(1);
        let mut counted = from;
        let mut search = from;
        while let Some(found) = text[search..].find(MARKER_PREFIX) {
            let at = search + found;
            let line_start = text[from..at].rfind('\n').map_or(from, |n| from + n + 1);
            if !text[line_start..at].chars().all(char::is_whitespace) {
                search = at + MARKER_PREFIX.len();
                continue;
            }
            let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
            let newlines = text.as_bytes()[counted..line_start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            counted = line_start;
            let rest = &text[at + MARKER_PREFIX.len()..line_end];
            self.marker(rest, line, line_start, line_end, markers);
            search = line_end;
        }
    }

    fn header(&mut self, f: Fields<'_>) -> Option<Header> {
        let mut ok = true;
        let mut lines = HeaderLines::default();
        let revision = match f.revision {
            Some((value, line)) => {
                lines.revision = line;
                match check_revision_id(value) {
                    Ok(()) => {
                        self.check_file_name(value, line);
                        Some(value.to_string())
                    }
                    Err(why) => {
                        self.problem(
                            ProblemKind::InvalidIdentifier,
                            line,
                            format!("revision id `{value}` {why}"),
                            "use up to 32 characters from A-Z, a-z, 0-9 and _ (e.g. 12 hex digits, as `cargo xtask new-migration` writes)",
                        );
                        None
                    }
                }
            }
            None => {
                self.problem(
                    ProblemKind::MalformedHeader,
                    1,
                    "missing `-- revision:` header line".to_string(),
                    "add `-- revision: <id>` at the top of the file; `cargo xtask new-migration` writes it for you",
                );
                None
            }
        };
        ok &= revision.is_some();
        let down_revisions = match f.down_revision {
            Some((value, line)) => {
                lines.down_revision = line;
                if value == "none" {
                    Some(Vec::new())
                } else if value.is_empty() {
                    self.problem(
                        ProblemKind::MalformedHeader,
                        line,
                        "`down_revision` is empty".to_string(),
                        "write `-- down_revision: none` for a first (base) revision, or the id it builds on",
                    );
                    None
                } else {
                    self.id_list("down_revision", value, line, true)
                }
            }
            None => {
                self.problem(
                    ProblemKind::MalformedHeader,
                    lines.revision.max(1),
                    "missing `-- down_revision:` header line".to_string(),
                    "add `-- down_revision: <parent id>`, or `-- down_revision: none` for a base revision",
                );
                None
            }
        };
        ok &= down_revisions.is_some();
        let branch_labels = match f.branch_labels {
            Some((value, line)) => {
                lines.branch_labels = line;
                self.id_list("branch_labels", value, line, false)
            }
            None => Some(Vec::new()),
        };
        ok &= branch_labels.is_some();
        let depends_on = match f.depends_on {
            Some((value, line)) => {
                lines.depends_on = line;
                self.id_list("depends_on", value, line, false)
            }
            None => Some(Vec::new()),
        };
        ok &= depends_on.is_some();
        let transaction = match f.transaction {
            None => Some(TransactionMode::PerMigration),
            Some((value, line)) => match value {
                "per-migration" => Some(TransactionMode::PerMigration),
                "none" => Some(TransactionMode::None),
                other => {
                    self.problem(
                        ProblemKind::MalformedHeader,
                        line,
                        format!("unknown transaction mode `{other}`"),
                        "write `-- transaction: per-migration` (the default) or `-- transaction: none`",
                    );
                    None
                }
            },
        };
        ok &= transaction.is_some();
        if !ok {
            return None;
        }
        Some(Header {
            revision: revision?,
            down_revisions: down_revisions?,
            branch_labels: branch_labels?,
            depends_on: depends_on?,
            message: f.message.map_or_else(String::new, |(m, _)| m.to_string()),
            create_date: f
                .create_date
                .map(|(d, _)| d)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            transaction: transaction?,
            lines,
        })
    }

    /// Parses a comma-separated list of ids or labels; `none` or empty is an empty list.
    fn id_list(
        &mut self,
        key: &str,
        value: &str,
        line: u32,
        revisions_only: bool,
    ) -> Option<Vec<String>> {
        if value.is_empty() || value == "none" {
            return Some(Vec::new());
        }
        let mut out: Vec<String> =
            Vec::with_capacity(1 + value.bytes().filter(|&b| b == b',').count());
        let mut ok = true;
        for item in value.split(',') {
            let item = item.trim();
            let check = if revisions_only {
                check_revision_id(item)
            } else {
                check_label(item)
            };
            if let Err(why) = check {
                self.problem(
                    ProblemKind::InvalidIdentifier,
                    line,
                    format!("`{key}` entry `{item}` {why}"),
                    "separate several entries with commas; each uses A-Z, a-z, 0-9 and _",
                );
                ok = false;
            } else if out.iter().any(|o| o == item) {
                self.problem(
                    ProblemKind::MalformedHeader,
                    line,
                    format!("`{key}` lists `{item}` twice"),
                    "remove the repeated entry",
                );
                ok = false;
            } else {
                out.push(item.to_string());
            }
        }
        ok.then_some(out)
    }

    fn check_file_name(&mut self, revision: &str, line: u32) {
        let base = self.file.rsplit(['/', '\\']).next().unwrap_or(self.file);
        let stem = base.strip_suffix(".sql").unwrap_or(base);
        let matches = stem == revision
            || stem
                .strip_suffix(revision)
                .is_some_and(|front| front.ends_with('_'));
        if !matches {
            let named = stem.rsplit('_').next().unwrap_or(stem);
            self.problem(
                ProblemKind::FileNameMismatch,
                line,
                format!("the file name says `{named}` but the header says revision `{revision}`"),
                &format!(
                    "a file name ends with its revision id; rename the file to `{}_{revision}.sql`, or fix the header if the id was copied from another file",
                    stem.rsplit_once('_').map_or(stem, |(front, _)| front)
                ),
            );
        }
    }

    fn sections(
        &mut self,
        text: &str,
        markers: &Markers,
        is_merge: Option<bool>,
    ) -> Option<(Section, Option<Section>)> {
        let (up, down) = match markers.first_two {
            [Some(up), Some(down)]
                if markers.count == 2
                    && up.marker == Marker::Upgrade
                    && down.marker != Marker::Upgrade =>
            {
                (up, down)
            }
            [first, _] => {
                let line = first.map_or(1, |m| m.line);
                let only_upgrade =
                    markers.count == 1 && first.is_some_and(|m| m.marker == Marker::Upgrade);
                let (message, help) = if markers.count == 0 {
                    (
                        format!("no `{UPGRADE_MARKER}` line"),
                        format!("after the header, write `{UPGRADE_MARKER}`, the SQL, then `{DOWNGRADE_MARKER}` and the SQL that reverts it (or `{IRREVERSIBLE_MARKER}`)"),
                    )
                } else if only_upgrade {
                    (
                        format!("no `{DOWNGRADE_MARKER}` or `{IRREVERSIBLE_MARKER}` line after the upgrade"),
                        format!("add `{DOWNGRADE_MARKER}` and the SQL that reverts the upgrade, or `{IRREVERSIBLE_MARKER}` if it cannot be reverted"),
                    )
                } else {
                    (
                        "the section markers are repeated or out of order".to_string(),
                        format!("write exactly one `{UPGRADE_MARKER}`, then one `{DOWNGRADE_MARKER}` or `{IRREVERSIBLE_MARKER}`"),
                    )
                };
                self.problem(ProblemKind::MalformedSections, line, message, &help);
                return None;
            }
        };
        let (up_line, up_body) = (up.line, up.body);
        let (down_kind, down_line, down_start, down_body) =
            (down.marker, down.line, down.start, down.body);
        let section = |from: usize, to: usize, marker_line: u32| {
            let sql = text[from..to].to_string();
            let statements = sql::split_statements(&sql, marker_line + 1);
            Section {
                line: marker_line,
                sql,
                statements,
            }
        };
        let upgrade = section(up_body, down_start, up_line);
        let merge = is_merge.unwrap_or(false);
        if upgrade.statements.is_empty() && !merge {
            self.problem(
                ProblemKind::EmptyUpgrade,
                up_line,
                "the upgrade section has no SQL statement".to_string(),
                "write the SQL this migration applies after `-- migrate:upgrade`; only merge revisions may be empty",
            );
        }
        let downgrade = match down_kind {
            Marker::Irreversible => {
                if sql::has_statements(&text[down_body..]) {
                    self.problem(
                        ProblemKind::MalformedSections,
                        down_line,
                        format!("SQL after `{IRREVERSIBLE_MARKER}`"),
                        "an irreversible migration has no downgrade: remove the SQL, or use `-- migrate:downgrade`",
                    );
                }
                None
            }
            _ => {
                let down = section(down_body, text.len(), down_line);
                if down.sql.trim().is_empty() && !merge {
                    self.problem(
                        ProblemKind::EmptyDowngrade,
                        down_line,
                        "the downgrade section is blank".to_string(),
                        "write the SQL that reverts the upgrade; a comment alone (`-- nothing to revert`) marks a deliberate no-op, and `-- migrate:irreversible` a migration that cannot be reverted",
                    );
                }
                Some(down)
            }
        };
        Some((upgrade, downgrade))
    }
}

struct Header {
    revision: String,
    down_revisions: Vec<String>,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    message: String,
    create_date: Option<String>,
    transaction: TransactionMode,
    lines: HeaderLines,
}

/// Checks a revision id; `Err` says why it is refused.
pub fn check_revision_id(id: &str) -> Result<(), String> {
    check_word(id, MAX_REVISION_LEN)
}

/// Checks a branch label; `Err` says why it is refused.
pub fn check_label(label: &str) -> Result<(), String> {
    check_word(label, MAX_LABEL_LEN)
}

fn check_word(word: &str, max: usize) -> Result<(), String> {
    if word.is_empty() {
        return Err("is empty".to_string());
    }
    if word.len() > max {
        return Err(format!(
            "is {} characters long; at most {max} are allowed",
            word.len()
        ));
    }
    if let Some(c) = word
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "contains `{c}`; only A-Z, a-z, 0-9 and _ are allowed"
        ));
    }
    if RESERVED_WORDS.contains(&word) {
        return Err(format!(
            "is a reserved word ({})",
            RESERVED_WORDS.join(", ")
        ));
    }
    Ok(())
}

fn closest_key(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    KEYS.iter()
        .map(|k| (edit_distance(&lower, k), *k))
        .filter(|(d, k)| *d <= 2 || lower.replace('-', "_") == **k)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
