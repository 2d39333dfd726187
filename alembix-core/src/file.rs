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
//! -- lock_timeout: 5s
//! -- statement_timeout: 2min
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
//! - `lock_timeout` and `statement_timeout` are optional durations: a whole
//!   number and a unit, `ms`, `s`, `min` or `h` (`200ms`, `5s`, `2min`), more
//!   than zero and at most 24 hours. They bound how long the migration's
//!   statements wait for a lock and run, and override the runtime's
//!   configuration for this migration (see the runtime's `Config`).
//! - Header values hold no control character other than tab (no terminal
//!   escapes, no bidi overrides): they are printed by the commands.
//! - Plain comments may stand in the header, but a comment that looks like a
//!   header line must use a known key exactly, so a typo never drops a
//!   dependency, a label or a transaction mode without a word. The text before
//!   the first colon (`:`, or a look-alike such as `：`) is a *key part*; it is
//!   an error when
//!   - it is close to a known key once normalised: lower case, look-alike
//!     letters folded to ASCII (Cyrillic `о`, Greek `ο`, full-width `ｏ`, a
//!     digit `0` → `o`), invisible characters dropped, and runs of `-`, `_` and
//!     spaces read as one `_` (within two edits: `depends-on`, `branch labels`,
//!     `Create Date`, `transactiоn`, `revison`); or
//!   - it is one word of letters (any script, any case), `_` and `-`, followed
//!     by an ASCII colon (`-- Note: …`, `-- e-mail: …`).
//!
//!   Anything else is prose: `-- This migration adds the users table: see
//!   ticket 12`, `-- TODO(ana): …`, `-- 12:30 is the quiet hour`.
//! - `-- migrate:upgrade` starts the upgrade, which must hold SQL (merge
//!   revisions may be empty). Then either `-- migrate:downgrade` and the SQL that
//!   reverts it (a comment alone marks a deliberate no-op), or
//!   `-- migrate:irreversible`.
//! - A section must not end inside a string, quoted name, block comment or
//!   dollar-quoted body. Each section is split into statements for every
//!   dialect (SQLite, PostgreSQL, MySQL/MariaDB: see [`crate::sql`]); when every
//!   dialect reads it as unterminated, that is a problem at the line where the
//!   construct opens. When only some do (`'C:\'` at the end of a section is a
//!   string still open for MySQL, whose backslash escapes the quote), the
//!   split records it and the runtime refuses to run the section there.
//! - Revision ids and branch labels use `A-Z a-z 0-9 _`; ids are at most 32
//!   characters (Alembic's `version_num VARCHAR(32)`), labels at most 64. The
//!   words `base`, `head`, `heads`, `current` and `none` are reserved in any
//!   case (`HEAD`, `None`).
//! - The file name carries the revision id as its last or first `_`-separated
//!   part: `<anything>_<revision>.sql` (what `new-migration` writes),
//!   `<revision>_<anything>.sql` (numbered files), or `<revision>.sql`.

use crate::checksum::{self, Checksum};
use crate::problem::{Problem, ProblemKind};
use crate::sql::{
    self, near_dialect, Splits, SqlDialect, Statement, Unclosed, Unterminated, DIALECT_NAMES,
};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::time::Duration;

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

/// The header keys, as written, with the field each one fills.
const KEYS: [(&str, Key); 9] = [
    ("revision", Key::Revision),
    ("down_revision", Key::DownRevision),
    ("branch_labels", Key::BranchLabels),
    ("depends_on", Key::DependsOn),
    ("message", Key::Message),
    ("create_date", Key::CreateDate),
    ("transaction", Key::Transaction),
    ("lock_timeout", Key::LockTimeout),
    ("statement_timeout", Key::StatementTimeout),
];

/// The longest header key, in characters.
const LONGEST_KEY: usize = 17;

/// The most edits between a key part and a known key that still read as a
/// misspelling of it.
const MAX_KEY_EDITS: usize = 2;

/// A header field.
#[derive(Clone, Copy)]
enum Key {
    Revision,
    DownRevision,
    BranchLabels,
    DependsOn,
    Message,
    CreateDate,
    Transaction,
    LockTimeout,
    StatementTimeout,
}

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

/// The longest `lock_timeout` or `statement_timeout` a header may give.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a migration's statements may wait for a lock and run, as its
/// header says (`-- lock_timeout: 5s`, `-- statement_timeout: 2min`); `None`
/// where the header is silent (the runtime's configuration then applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timeouts {
    /// `lock_timeout`: the longest a statement waits for a lock.
    pub lock: Option<Duration>,
    /// `statement_timeout`: the longest a statement runs.
    pub statement: Option<Duration>,
}

impl Timeouts {
    /// Whether the header gives neither.
    pub fn is_empty(&self) -> bool {
        self.lock.is_none() && self.statement.is_none()
    }
}

/// Reads a header duration: a whole number and a unit (`ms`, `s`, `min`,
/// `h`), more than zero and at most [`MAX_TIMEOUT`]; `Err` says why not.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err("does not start with a number".to_string());
    }
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "" => return Err("has no unit".to_string()),
        _ => return Err(format!("has the unit `{}`", shown(unit.trim()))),
    };
    let ms = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_ms))
        .map(Duration::from_millis)
        .filter(|d| *d <= MAX_TIMEOUT)
        .ok_or_else(|| "is longer than 24 hours".to_string())?;
    if ms.is_zero() {
        return Err("is zero".to_string());
    }
    Ok(ms)
}

/// Writes `duration` as a header would (`200ms`, `5s`, `2min`, `1h`): the
/// largest unit that divides it.
pub fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    for (unit, size) in [("h", 3_600_000), ("min", 60_000), ("s", 1_000)] {
        if ms > 0 && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// One section (upgrade or downgrade) of a migration file, with its dialect
/// variants if it has any.
///
/// A section is the text between its first marker line and the next section
/// (or the end of the file). Without variants it is one part that every
/// dialect runs; with them (`-- migrate:upgrade postgresql`) each dialect runs
/// its variant, or the default part (`-- migrate:upgrade`) when it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// 1-based line of the section's first marker.
    pub line: u32,
    /// The section's text as written after its first marker (normalized line
    /// endings), the later variant marker lines included.
    pub sql: String,
    /// What each dialect runs, cut into statements (stored once when the
    /// dialects agree).
    pub splits: Splits,
    /// The section's parts, in file order: one default part without a
    /// dialect, and a part per variant.
    pub parts: Vec<Part>,
}

/// One part of a section: the default SQL or one dialect's variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The variant's dialect; `None` for the default part.
    pub dialect: Option<SqlDialect>,
    /// 1-based line of the part's marker.
    pub line: u32,
    /// Where the part's text is in [`Section::sql`].
    pub range: Range<usize>,
}

impl Section {
    /// The section without variants whose marker is on line `line` and whose
    /// text (after the marker's line) is `sql`, split for every dialect.
    pub fn new(line: u32, sql: String) -> Section {
        let splits = Splits::new(&sql, line.saturating_add(1));
        let parts = vec![Part {
            dialect: None,
            line,
            range: 0..sql.len(),
        }];
        Section {
            line,
            sql,
            splits,
            parts,
        }
    }

    /// A section with variants: `parts` are its parts, in file order, each a
    /// range of `sql` (the text after the first marker, on line `line`).
    pub fn with_parts(line: u32, sql: String, parts: Vec<Part>) -> Section {
        if !parts.iter().any(|p| p.dialect.is_some()) && parts.len() == 1 {
            return Section::new(line, sql);
        }
        let texts = SqlDialect::ALL.map(|dialect| {
            part_for(&parts, dialect).map(|p| (p.range.clone(), p.line.saturating_add(1)))
        });
        let splits = Splits::per_dialect(&sql, texts);
        Section {
            line,
            sql,
            splits,
            parts,
        }
    }

    /// The statements `dialect` runs, in order.
    pub fn statements(&self, dialect: SqlDialect) -> &[Statement] {
        self.splits.statements(dialect)
    }

    /// What `dialect` finds never closed at the end of the section: the
    /// section cannot run there.
    pub fn unterminated(&self, dialect: SqlDialect) -> Option<&Unterminated> {
        self.splits.unterminated(dialect)
    }

    /// Whether no dialect finds a statement in the section.
    pub fn is_empty(&self) -> bool {
        self.splits.is_empty()
    }

    /// Whether the section has dialect variants.
    pub fn has_variants(&self) -> bool {
        self.parts.iter().any(|p| p.dialect.is_some())
    }

    /// The part `dialect` runs: its variant, else the default part; `None`
    /// when the section has neither.
    pub fn part(&self, dialect: SqlDialect) -> Option<&Part> {
        part_for(&self.parts, dialect)
    }

    /// The text `dialect` runs (see [`Section::part`]); `None` when the
    /// section has no SQL for it.
    pub fn text(&self, dialect: SqlDialect) -> Option<&str> {
        self.part(dialect)
            .and_then(|p| self.sql.get(p.range.clone()))
    }
}

/// The part of `parts` that `dialect` runs: its variant, else the default
/// (the rule [`Section::part`] applies, for parts read from elsewhere).
pub fn part_for(parts: &[Part], dialect: SqlDialect) -> Option<&Part> {
    parts
        .iter()
        .find(|p| p.dialect == Some(dialect))
        .or_else(|| parts.iter().find(|p| p.dialect.is_none()))
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
    /// `lock_timeout` and `statement_timeout`, where the header gives them.
    pub timeouts: Timeouts,
    /// Where each header field was written.
    pub lines: HeaderLines,
    /// The upgrade section.
    pub upgrade: Section,
    /// The downgrade section; `None` when marked irreversible.
    pub downgrade: Option<Section>,
    /// Checksum of the upgrade SQL each dialect runs, by [`SqlDialect::index`]:
    /// only that SQL counts as drift on a database of that dialect. The three
    /// are equal when the upgrade has no variants.
    pub checksums: [Checksum; 3],
}

impl MigrationFile {
    /// The checksum of the upgrade SQL `dialect` runs.
    pub fn checksum(&self, dialect: SqlDialect) -> &Checksum {
        &self.checksums[dialect.index()]
    }
}

/// The checksums of the upgrade SQL each dialect runs (see
/// [`MigrationFile::checksums`]).
pub fn checksums_of(upgrade: &Section) -> [Checksum; 3] {
    if !upgrade.has_variants() {
        let one = Checksum::of_sql(&upgrade.sql);
        return [one.clone(), one.clone(), one];
    }
    SqlDialect::ALL.map(|d| Checksum::of_sql(upgrade.text(d).unwrap_or_default()))
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
    lock_timeout: Option<(&'t str, u32)>,
    statement_timeout: Option<(&'t str, u32)>,
}

impl<'t> Fields<'t> {
    fn slot(&mut self, key: Key) -> &mut Option<(&'t str, u32)> {
        match key {
            Key::Revision => &mut self.revision,
            Key::DownRevision => &mut self.down_revision,
            Key::BranchLabels => &mut self.branch_labels,
            Key::DependsOn => &mut self.depends_on,
            Key::Message => &mut self.message,
            Key::CreateDate => &mut self.create_date,
            Key::Transaction => &mut self.transaction,
            Key::LockTimeout => &mut self.lock_timeout,
            Key::StatementTimeout => &mut self.statement_timeout,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Marker {
    Upgrade,
    Downgrade,
    Irreversible,
}

/// One section marker line: its kind, its dialect (a variant's marker),
/// line number, and the byte offsets where the line starts and where the
/// section's body (the next line) starts.
#[derive(Clone, Copy)]
struct MarkerLine {
    marker: Marker,
    dialect: Option<SqlDialect>,
    /// The marker names a dialect we do not know (already reported): kept so
    /// that the sections around it are still read, never a default part.
    unknown_dialect: bool,
    line: u32,
    start: usize,
    body: usize,
}

/// The section marker lines of a file, in order.
type Markers = Vec<MarkerLine>;

/// What every section marker line starts with, once trimmed.
const MARKER_PREFIX: &str = "-- migrate:";

impl<'a> Parser<'a> {
    fn new(file: &'a str) -> Self {
        Parser {
            file,
            problems: Vec::new(),
        }
    }

    /// A problem when every dialect reads `section` as ending inside a
    /// construct (see the module docs); where only some do, the split says so.
    fn unterminated(&mut self, section: &Section, name: &str, dialects: &[SqlDialect]) {
        let mut open: Vec<(Vec<SqlDialect>, &Unterminated)> = Vec::new();
        for &dialect in dialects {
            let Some(u) = section.unterminated(dialect) else {
                return;
            };
            match open.iter_mut().find(|(_, seen)| *seen == u) {
                Some((dialects, _)) => dialects.push(dialect),
                None => open.push((vec![dialect], u)),
            }
        }
        let line = open
            .iter()
            .map(|(_, u)| u.line)
            .min()
            .unwrap_or(section.line);
        let (message, help) = match open.as_slice() {
            [(_, u)] => (
                format!(
                    "the {name} section ends inside {} on this line, never closed",
                    u.unclosed
                ),
                unterminated_help(&u.unclosed),
            ),
            _ => {
                let each: Vec<String> = open
                    .iter()
                    .map(|(dialects, u)| {
                        let names: Vec<&str> = dialects.iter().map(|d| d.name()).collect();
                        format!(
                            "{} for {} (line {})",
                            u.unclosed,
                            names.join(" and "),
                            u.line
                        )
                    })
                    .collect();
                (
                    format!(
                        "the {name} section ends inside {}, never closed",
                        each.join("; ")
                    ),
                    unterminated_help(&open[0].1.unclosed),
                )
            }
        };
        self.problem(ProblemKind::UnterminatedSql, line, message, &help);
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
        let mut markers = Markers::new();
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
            let Some((key, colon, value)) = split_key(comment.trim()) else {
                continue;
            };
            let key = key.trim();
            let slot = match key_part(key, colon) {
                KeyPart::Known(known) => fields.slot(known),
                KeyPart::Unknown(near) => {
                    self.unknown_key(key, colon, near, line_no);
                    continue;
                }
                KeyPart::Prose => continue,
            };
            let value = value.trim();
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
        if !markers.is_empty() {
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
                let checksums = checksums_of(&upgrade);
                Ok(MigrationFile {
                    file: self.file.to_string(),
                    revision: h.revision,
                    down_revisions: h.down_revisions,
                    branch_labels: h.branch_labels,
                    depends_on: h.depends_on,
                    message: h.message,
                    create_date: h.create_date,
                    transaction: h.transaction,
                    timeouts: h.timeouts,
                    lines: h.lines,
                    upgrade,
                    downgrade,
                    checksums,
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
        let rest = rest.trim();
        let (word, dialect) = match rest.split_once(|c: char| c.is_ascii_whitespace()) {
            Some((word, dialect)) => (word, Some(dialect.trim())),
            None => (rest, None),
        };
        let marker = match word {
            "upgrade" => Marker::Upgrade,
            "downgrade" => Marker::Downgrade,
            "irreversible" if dialect.is_none() => Marker::Irreversible,
            "irreversible" => {
                // Reported, and read as the plain marker so that the
                // sections around it are still checked.
                markers.push(MarkerLine {
                    marker: Marker::Irreversible,
                    dialect: None,
                    unknown_dialect: false,
                    line,
                    start,
                    body,
                });
                self.problem(
                    ProblemKind::MalformedSections,
                    line,
                    format!("`{IRREVERSIBLE_MARKER}` names a dialect"),
                    "a migration is irreversible on every database: write `-- migrate:irreversible` alone; to revert on some dialects only, write their `-- migrate:downgrade <dialect>` variants and a default `-- migrate:downgrade` that says why the others cannot (a comment alone is a no-op)",
                );
                return true;
            }
            _ => {
                self.problem(
                    ProblemKind::MalformedSections,
                    line,
                    format!("unknown section marker `-- migrate:{}`", shown(rest)),
                    "the markers are `-- migrate:upgrade`, `-- migrate:downgrade` and `-- migrate:irreversible`; a variant for one dialect adds its name: `-- migrate:upgrade postgresql`",
                );
                return false;
            }
        };
        let mut unknown_dialect = false;
        let dialect = match dialect {
            None => None,
            Some(name) => match SqlDialect::from_name(name) {
                Some(d) => Some(d),
                None => {
                    unknown_dialect = true;
                    self.problem(
                        ProblemKind::MalformedSections,
                        line,
                        format!("unknown dialect `{}` in a section marker", shown(name)),
                        &format!("the dialects are {}{}", DIALECT_NAMES, near_dialect(name)),
                    );
                    None
                }
            },
        };
        markers.push(MarkerLine {
            marker,
            dialect,
            unknown_dialect,
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
    ///
    /// Linear in the text: the search always resumes at the start of the line
    /// after the last `-- migrate:` found (a marker line or not, the rest of
    /// that line holds no marker), so every byte is looked at a bounded number
    /// of times however many `-- migrate:` a line repeats.
    fn later_markers(&mut self, text: &str, from: usize, marker_line: u32, markers: &mut Markers) {
        // `line` is the number of the line that starts at `counted`.
        let mut line = marker_line.saturating_add(1);
        let mut counted = from;
        // Always the start of a line.
        let mut search = from;
        while let Some(found) = text[search..].find(MARKER_PREFIX) {
            let at = search + found;
            let line_start = text[search..at]
                .rfind('\n')
                .map_or(search, |n| search + n + 1);
            let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
            search = line_end;
            if !text[line_start..at].chars().all(char::is_whitespace) {
                continue;
            }
            let newlines = text.as_bytes()[counted..line_start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            counted = line_start;
            let rest = &text[at + MARKER_PREFIX.len()..line_end];
            self.marker(rest, line, line_start, line_end, markers);
        }
    }

    /// Reports the key part `key` (before `colon`) of a header comment that is
    /// meant as a key but is none; `near` is the known key it is closest to.
    fn unknown_key(&mut self, key: &str, colon: char, near: Option<&'static str>, line: u32) {
        let keys = key_names();
        let (message, help) = match near {
            Some(near) if colon != ':' && key == near => (
                format!(
                    "`{near}` is followed by `{colon}` ({}), which only looks like a colon",
                    code_point(colon)
                ),
                format!("write `-- {near}: …` with an ASCII colon"),
            ),
            Some(near) => (
                format!("unknown header key `{}`", shown(key)),
                format!(
                    "did you mean `{near}`? {}The header keys are {keys}",
                    key_notes(key, colon)
                ),
            ),
            None if folded_key(key).is_some_and(|k| k == "migrate") => (
                format!("unknown header key `{}`", shown(key)),
                format!(
                    "a section marker is written exactly `{UPGRADE_MARKER}` (lower case, one space after `--`); the header keys are {keys}"
                ),
            ),
            None => (
                format!("unknown header key `{}`", shown(key)),
                format!(
                    "the header keys are {keys}; a free comment in the header must not start with `word:`"
                ),
            ),
        };
        self.problem(ProblemKind::MalformedHeader, line, message, &help);
    }

    /// Whether the value of `key` holds only text a header may hold; reports
    /// the problem if not.
    fn plain_value(&mut self, key: &str, value: &str, line: u32) -> bool {
        match check_header_text(value) {
            Ok(()) => true,
            Err(why) => {
                self.problem(
                    ProblemKind::MalformedHeader,
                    line,
                    format!("the `{key}` value {why}"),
                    "remove it: header values are plain text on one line (tab is allowed); a terminal escape or a bidi control would garble or disguise what the commands print",
                );
                false
            }
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
                        let help = if is_reserved(value) {
                            RESERVED_HELP
                        } else {
                            "use up to 32 characters from A-Z, a-z, 0-9 and _ (e.g. 12 hex digits, as `cargo xtask new-migration` writes)"
                        };
                        self.problem(
                            ProblemKind::InvalidIdentifier,
                            line,
                            format!("revision id `{}` {why}", shown(value)),
                            help,
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
                        format!("unknown transaction mode `{}`", shown(other)),
                        "write `-- transaction: per-migration` (the default) or `-- transaction: none`",
                    );
                    None
                }
            },
        };
        ok &= transaction.is_some();
        let mut timeouts = Timeouts::default();
        for (key, field, slot) in [
            ("lock_timeout", f.lock_timeout, &mut timeouts.lock),
            (
                "statement_timeout",
                f.statement_timeout,
                &mut timeouts.statement,
            ),
        ] {
            let Some((value, line)) = field else { continue };
            match parse_duration(value) {
                Ok(d) => *slot = Some(d),
                Err(why) => {
                    self.problem(
                        ProblemKind::MalformedHeader,
                        line,
                        format!("the `{key}` value `{}` {why}", shown(value)),
                        &format!("write a whole number and a unit, `ms`, `s`, `min` or `h`: `-- {key}: 500ms`, `-- {key}: 5s`, `-- {key}: 2min` (more than zero, at most 24h); leave the line out to use the runtime's configuration"),
                    );
                    ok = false;
                }
            }
        }
        // The other values are words a control character already fails; free
        // text is checked here.
        for (key, field) in [("message", f.message), ("create_date", f.create_date)] {
            if let Some((value, line)) = field {
                ok &= self.plain_value(key, value, line);
            }
        }
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
            timeouts,
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
        // Every entry seen, with whether it was reported (as invalid, or as
        // repeated): each entry is looked up once, and reported once however
        // often it repeats.
        let mut seen: HashMap<&str, bool> = HashMap::new();
        let mut ok = true;
        for item in value.split(',') {
            let item = item.trim();
            if let Some(reported) = seen.get_mut(item) {
                if !*reported {
                    *reported = true;
                    self.problem(
                        ProblemKind::MalformedHeader,
                        line,
                        format!("`{key}` lists `{}` twice", shown(item)),
                        "remove the repeated entry",
                    );
                }
                ok = false;
                continue;
            }
            let check = if revisions_only {
                check_revision_id(item)
            } else {
                check_label(item)
            };
            seen.insert(item, check.is_err());
            if let Err(why) = check {
                let help = if item.eq_ignore_ascii_case("none") {
                    "write `none` in lower case, alone, for an empty list (`-- down_revision: none` for a base revision)"
                } else if is_reserved(item) {
                    RESERVED_HELP
                } else {
                    "separate several entries with commas; each uses A-Z, a-z, 0-9 and _"
                };
                self.problem(
                    ProblemKind::InvalidIdentifier,
                    line,
                    format!("`{key}` entry `{}` {why}", shown(item)),
                    help,
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
        // The id is the whole name, its last `_` part (what `new-migration`
        // writes) or its first (numbered files: `001_create_base_tables.sql`).
        let matches = stem == revision
            || stem
                .strip_suffix(revision)
                .is_some_and(|front| front.ends_with('_'))
            || stem
                .strip_prefix(revision)
                .is_some_and(|rest| rest.starts_with('_'));
        if !matches {
            self.problem(
                ProblemKind::FileNameMismatch,
                line,
                format!(
                    "the file name `{base}` does not carry the header's revision `{revision}` as its first or last `_`-separated part"
                ),
                &match stem.rsplit_once('_') {
                    Some((front, last)) => format!(
                        "rename the file to `{stem}_{revision}.sql` (or `{front}_{revision}.sql` if `{last}` is an old id), or fix the header if the id was copied from another file"
                    ),
                    None => format!(
                        "rename the file to `{stem}_{revision}.sql`, or fix the header if the id was copied from another file"
                    ),
                },
            );
        }
    }

    fn sections(
        &mut self,
        text: &str,
        markers: &Markers,
        is_merge: Option<bool>,
    ) -> Option<(Section, Option<Section>)> {
        let ups = markers
            .iter()
            .take_while(|m| m.marker == Marker::Upgrade)
            .count();
        let downs = &markers[ups..];
        let shaped = ups >= 1
            && match downs {
                [] => false,
                [only] if only.marker == Marker::Irreversible => true,
                downs => downs.iter().all(|m| m.marker == Marker::Downgrade),
            };
        let repeated_default = |group: &[MarkerLine]| {
            group
                .iter()
                .filter(|m| m.dialect.is_none() && !m.unknown_dialect)
                .count()
                > 1
        };
        if !shaped || repeated_default(&markers[..ups]) || repeated_default(downs) {
            let line = markers.first().map_or(1, |m| m.line);
            let (message, help) = if markers.is_empty() {
                (
                    format!("no `{UPGRADE_MARKER}` line"),
                    format!("after the header, write `{UPGRADE_MARKER}`, the SQL, then `{DOWNGRADE_MARKER}` and the SQL that reverts it (or `{IRREVERSIBLE_MARKER}`)"),
                )
            } else if ups >= 1 && downs.is_empty() {
                (
                    format!("no `{DOWNGRADE_MARKER}` or `{IRREVERSIBLE_MARKER}` line after the upgrade"),
                    format!("add `{DOWNGRADE_MARKER}` and the SQL that reverts the upgrade, or `{IRREVERSIBLE_MARKER}` if it cannot be reverted"),
                )
            } else {
                (
                    "the section markers are repeated or out of order".to_string(),
                    format!("write one `{UPGRADE_MARKER}` (and its dialect variants, `{UPGRADE_MARKER} postgresql`), then one `{DOWNGRADE_MARKER}` (and its variants) or `{IRREVERSIBLE_MARKER}`"),
                )
            };
            self.problem(ProblemKind::MalformedSections, line, message, &help);
            return None;
        }
        let (up_markers, down_markers) = markers.split_at(ups);
        let down_start = down_markers.first().map_or(text.len(), |m| m.start);
        let upgrade = self.group(text, up_markers, down_start)?;
        let merge = is_merge.unwrap_or(false);
        for (part, dialects) in runs(&upgrade) {
            let name = part_name(part.dialect, "upgrade");
            self.unterminated(&upgrade, &name, &dialects);
            let empty = dialects.iter().all(|&d| upgrade.statements(d).is_empty());
            if empty && !merge {
                self.problem(
                    ProblemKind::EmptyUpgrade,
                    part.line,
                    format!("the {name} section has no SQL statement"),
                    &format!(
                        "write the SQL this migration applies after `{}`; only merge revisions may be empty",
                        marker_text(UPGRADE_MARKER, part.dialect)
                    ),
                );
            }
        }
        let downgrade = match down_markers {
            [only] if only.marker == Marker::Irreversible => {
                if sql::has_statements(&text[only.body..]) {
                    self.problem(
                        ProblemKind::MalformedSections,
                        only.line,
                        format!("SQL after `{IRREVERSIBLE_MARKER}`"),
                        "an irreversible migration has no downgrade: remove the SQL, or use `-- migrate:downgrade`",
                    );
                }
                None
            }
            _ => {
                let down = self.group(text, down_markers, text.len())?;
                for (part, dialects) in runs(&down) {
                    let name = part_name(part.dialect, "downgrade");
                    self.unterminated(&down, &name, &dialects);
                    let blank = down
                        .sql
                        .get(part.range.clone())
                        .is_none_or(|t| t.trim().is_empty());
                    if blank && !merge {
                        self.problem(
                            ProblemKind::EmptyDowngrade,
                            part.line,
                            format!("the {name} section is blank"),
                            "write the SQL that reverts the upgrade; a comment alone (`-- nothing to revert`) marks a deliberate no-op, and `-- migrate:irreversible` a migration that cannot be reverted",
                        );
                    }
                }
                Some(down)
            }
        };
        Some((upgrade, downgrade))
    }

    /// The section made of the marker lines `group` (an upgrade's or a
    /// downgrade's, the default and its variants), which ends where `end`
    /// starts; `None` after reporting a dialect given twice.
    fn group(&mut self, text: &str, group: &[MarkerLine], end: usize) -> Option<Section> {
        let first = group.first()?;
        let base = first.body;
        let mut ok = true;
        let mut parts: Vec<Part> = Vec::with_capacity(group.len());
        for (i, m) in group.iter().enumerate() {
            let to = group.get(i + 1).map_or(end, |next| next.start);
            if let Some(dialect) = m.dialect {
                if let Some(earlier) = parts.iter().find(|p| p.dialect == Some(dialect)) {
                    let earlier = earlier.line;
                    self.problem(
                        ProblemKind::MalformedSections,
                        m.line,
                        format!("the `{dialect}` variant is given twice in one section (first on line {earlier})"),
                        "keep one of the two: a section has at most one variant per dialect",
                    );
                    ok = false;
                }
            }
            parts.push(Part {
                dialect: m.dialect,
                line: m.line,
                range: m.body.saturating_sub(base)..to.max(m.body).saturating_sub(base),
            });
        }
        let sql = text
            .get(base..end.max(base))
            .unwrap_or_default()
            .to_string();
        ok.then(|| Section::with_parts(first.line, sql, parts))
    }
}

/// Each part of `section` with the dialects that run it (the default part
/// only when some dialect has no variant).
fn runs(section: &Section) -> Vec<(&Part, Vec<SqlDialect>)> {
    section
        .parts
        .iter()
        .map(|part| {
            let dialects: Vec<SqlDialect> = SqlDialect::ALL
                .into_iter()
                .filter(|&d| section.part(d).is_some_and(|p| std::ptr::eq(p, part)))
                .collect();
            (part, dialects)
        })
        .filter(|(_, dialects)| !dialects.is_empty())
        .collect()
}

/// A marker line as written: `-- migrate:upgrade`, `-- migrate:upgrade mysql`.
fn marker_text(marker: &str, dialect: Option<SqlDialect>) -> String {
    match dialect {
        Some(d) => format!("{marker} {d}"),
        None => marker.to_string(),
    }
}

/// How messages name a part: `upgrade`, or `postgresql upgrade` for a variant.
fn part_name(dialect: Option<SqlDialect>, section: &str) -> String {
    match dialect {
        Some(d) => format!("{d} {section}"),
        None => section.to_string(),
    }
}

/// What to do about a construct left open.
fn unterminated_help(open: &Unclosed) -> String {
    let text = match open {
        Unclosed::Quote('[') => "close the name with `]`".to_string(),
        Unclosed::Quote(q) => format!(
            "close it with `{q}` (write `{q}{q}` for a `{q}` inside it); on MySQL/MariaDB a backslash escapes the character after it, so write `\\\\` for a backslash"
        ),
        Unclosed::EscapeString => "close the string with `'`; in `E'…'` a backslash escapes the character after it, so write `\\\\` for a backslash".to_string(),
        Unclosed::BlockComment => "close the comment with `*/` (on PostgreSQL comments nest: each `/*` needs its own `*/`)".to_string(),
        Unclosed::DollarQuote(tag) => format!("close the body with `{tag}`"),
    };
    format!("{text}; nothing after it can run as written")
}

struct Header {
    revision: String,
    down_revisions: Vec<String>,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    message: String,
    create_date: Option<String>,
    transaction: TransactionMode,
    timeouts: Timeouts,
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
            "contains `{}`; only A-Z, a-z, 0-9 and _ are allowed",
            shown(c.encode_utf8(&mut [0; 4]))
        ));
    }
    if RESERVED_WORDS.contains(&word) {
        return Err(format!(
            "is a reserved word ({})",
            RESERVED_WORDS.join(", ")
        ));
    }
    if is_reserved(word) {
        return Err(format!(
            "is the reserved word `{}` in another case; {} are reserved in any case",
            word.to_ascii_lowercase(),
            RESERVED_WORDS.join(", ")
        ));
    }
    Ok(())
}

/// The fix for an id or label that is a reserved word.
const RESERVED_HELP: &str = "choose another name: these words name targets in the commands (`upgrade head`, `downgrade base`), whatever their case";

/// Whether `word` is a reserved word in any case.
fn is_reserved(word: &str) -> bool {
    RESERVED_WORDS.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Checks text to be written into a header value (a `new-migration`
/// message): control characters other than tab, and the invisible controls
/// that reorder text (bidi overrides and isolates), are refused; `Err` says
/// which character it met.
pub fn check_header_text(text: &str) -> Result<(), String> {
    match text
        .chars()
        .find(|&c| (c.is_control() && c != '\t') || is_bidi_control(c))
    {
        Some(c) => Err(format!("holds the control character {}", code_point(c))),
        None => Ok(()),
    }
}

/// The bidi embeddings, overrides, isolates and marks, which reorder the text
/// around them without being seen.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no room: zero-width spaces and joiners, the soft
/// hyphen, the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}' | '\u{180e}' | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
    )
}

/// Characters that look like an ASCII colon.
fn is_colon(c: char) -> bool {
    matches!(
        c,
        ':' | '\u{02d0}'
            | '\u{0589}'
            | '\u{05c3}'
            | '\u{2236}'
            | '\u{a789}'
            | '\u{fe13}'
            | '\u{fe55}'
            | '\u{ff1a}'
    )
}

/// Characters that read as a gap between the words of a key: `-`, `_`,
/// whitespace, and the dashes that look like `-`.
fn is_key_separator(c: char) -> bool {
    matches!(
        c,
        '-' | '_' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe63}' | '\u{ff0d}' | '\u{ff3f}'
    ) || c.is_whitespace()
}

/// The lower-case ASCII letter `c` looks like, for letters of other scripts
/// drawn the same (Cyrillic `о`, Greek `ο`, full-width `ｏ`, ...) and the digits
/// `0` and `1`.
fn ascii_look_alike(c: char) -> Option<char> {
    let ascii = match c {
        'a'..='z' => c,
        'A'..='Z' => c.to_ascii_lowercase(),
        '\u{ff21}'..='\u{ff3a}' => char::from_u32(u32::from(c) - 0xff21 + u32::from('a'))?,
        '\u{ff41}'..='\u{ff5a}' => char::from_u32(u32::from(c) - 0xff41 + u32::from('a'))?,
        '0' => 'o',
        '1' => 'l',
        // Cyrillic.
        'а' | 'А' => 'a',
        'В' => 'b',
        'с' | 'С' => 'c',
        'ԁ' => 'd',
        'е' | 'Е' => 'e',
        'һ' | 'Н' => 'h',
        'і' | 'І' => 'i',
        'ј' | 'Ј' => 'j',
        'К' => 'k',
        'ӏ' | 'Ӏ' => 'l',
        'М' => 'm',
        'о' | 'О' => 'o',
        'р' | 'Р' => 'p',
        'ԛ' | 'Ԛ' => 'q',
        'ѕ' | 'Ѕ' => 's',
        'Т' => 't',
        'ԝ' | 'Ԝ' => 'w',
        'х' | 'Х' => 'x',
        'у' | 'У' | 'ү' | 'Ү' => 'y',
        // Greek.
        'α' | 'Α' => 'a',
        'Β' => 'b',
        'Ε' => 'e',
        'Η' => 'h',
        'ι' | 'Ι' => 'i',
        'κ' | 'Κ' => 'k',
        'Μ' => 'm',
        'Ν' => 'n',
        'ο' | 'Ο' => 'o',
        'ρ' | 'Ρ' => 'p',
        'Τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'χ' | 'Χ' => 'x',
        'γ' | 'Υ' => 'y',
        'Ζ' => 'z',
        // Latin and Armenian letters drawn like ASCII ones.
        'ɑ' => 'a',
        'ɡ' => 'g',
        'հ' => 'h',
        'ı' | 'ɩ' => 'i',
        'ȷ' => 'j',
        'ℓ' => 'l',
        'օ' => 'o',
        'ս' => 'u',
        _ => return None,
    };
    Some(ascii)
}

/// What the text before the colon of a header comment turned out to be.
enum KeyPart {
    /// A header key, exactly.
    Known(Key),
    /// Meant as a key but none: the known key it is close to, if any.
    Unknown(Option<&'static str>),
    /// Prose that holds a colon.
    Prose,
}

/// A header comment (the text after `--`, trimmed) split at its first colon
/// or look-alike of one: the key part, the colon, the value.
fn split_key(comment: &str) -> Option<(&str, char, &str)> {
    let (at, colon) = comment.char_indices().find(|&(_, c)| is_colon(c))?;
    Some((&comment[..at], colon, &comment[at + colon.len_utf8()..]))
}

/// Classifies the key part `key` (trimmed), followed by `colon`; see the
/// module docs for the rule.
fn key_part(key: &str, colon: char) -> KeyPart {
    if colon == ':' {
        if let Some((_, known)) = KEYS.iter().find(|(name, _)| *name == key) {
            return KeyPart::Known(*known);
        }
    }
    if let Some(near) = folded_key(key).and_then(|folded| nearest_key(&folded)) {
        return KeyPart::Unknown(Some(near));
    }
    let one_word = key.chars().any(char::is_alphabetic)
        && key
            .chars()
            .all(|c| c.is_alphabetic() || c == '_' || c == '-' || is_invisible(c));
    if colon == ':' && one_word {
        KeyPart::Unknown(None)
    } else {
        KeyPart::Prose
    }
}

/// `key` normalised to be compared with the known keys: look-alikes folded to
/// lower-case ASCII, other letters lower-cased, invisible characters dropped,
/// runs of separators read as one `_`, none at the ends. `None` when it is
/// longer than any key part close to a known key can be (so a long line of
/// prose costs no more than that many characters).
fn folded_key(key: &str) -> Option<String> {
    let mut folded = String::new();
    let mut len = 0;
    let mut gap = false;
    for c in key.chars() {
        if is_invisible(c) {
            continue;
        }
        if is_key_separator(c) {
            gap = len > 0;
            continue;
        }
        if len + usize::from(gap) >= LONGEST_KEY + MAX_KEY_EDITS {
            return None;
        }
        if gap {
            folded.push('_');
            len += 1;
            gap = false;
        }
        match ascii_look_alike(c) {
            Some(ascii) => folded.push(ascii),
            None => folded.extend(c.to_lowercase()),
        }
        len += 1;
    }
    Some(folded)
}

/// The known key within [`MAX_KEY_EDITS`] edits of `folded`, the nearest one.
fn nearest_key(folded: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|(name, _)| (edit_distance(folded, name), *name))
        .filter(|(edits, _)| *edits <= MAX_KEY_EDITS)
        .min()
        .map(|(_, name)| name)
}

/// The header keys, for messages.
fn key_names() -> String {
    let names: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

/// What sets the key part `key` (followed by `colon`) apart from the known
/// key it resembles, beyond a typo: one sentence per finding, or nothing.
fn key_notes(key: &str, colon: char) -> String {
    let mut notes = String::new();
    if let Some(c) = key.chars().find(|&c| !c.is_ascii()) {
        let c_text = shown(c.encode_utf8(&mut [0; 4]));
        let note = if is_invisible(c) {
            format!("The key holds the invisible character {}. ", code_point(c))
        } else if let Some(ascii) = ascii_look_alike(c) {
            format!(
                "`{c_text}` ({}) only looks like the letter `{ascii}`. ",
                code_point(c)
            )
        } else if is_key_separator(c) {
            format!("`{c_text}` ({}) only looks like `-`. ", code_point(c))
        } else {
            format!("`{c_text}` ({}) is not an ASCII letter. ", code_point(c))
        };
        notes.push_str(&note);
    } else if let Some(digit) = key.chars().find(|c| matches!(c, '0' | '1')) {
        let letter = ascii_look_alike(digit).unwrap_or(digit);
        let _ = write!(notes, "`{digit}` is a digit, not the letter `{letter}`. ");
    }
    if key
        .trim_matches(is_key_separator)
        .contains(|c: char| c == '-' || c.is_whitespace())
    {
        notes.push_str("Header keys join their words with `_`. ");
    }
    if colon != ':' {
        let _ = write!(
            notes,
            "`{colon}` ({}) only looks like a colon. ",
            code_point(colon)
        );
    }
    notes
}

/// `U+043E`: how a character is named in messages.
fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The most characters of a text quoted in a message.
const SHOWN_CHARS: usize = 80;

/// `text` as quoted in a message: control and invisible characters written as
/// `\u{…}` escapes (a message must not carry a terminal escape, nor hide what
/// is wrong), cut after [`SHOWN_CHARS`] characters.
fn shown(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || is_invisible(c) || is_bidi_control(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// The Levenshtein distance between `a` and `b`, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_revision_is_the_first_or_last_part_of_the_file_name() {
        let text = |rev: &str| {
            format!("-- revision: {rev}\n-- down_revision: none\n\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:downgrade\nSELECT 1;\n")
        };
        for (name, rev) in [
            ("migrations/001_create_base_tables.sql", "001"),
            ("migrations/2026-01-01_create_base_tables_a1b2.sql", "a1b2"),
            ("migrations/a1b2.sql", "a1b2"),
            ("migrations/x_1_create.sql", "x_1"),
        ] {
            assert!(parse(name, &text(rev)).is_ok(), "{name} with {rev}");
        }
        let problems = parse("migrations/001_create_base_tables.sql", &text("002"))
            .err()
            .unwrap_or_default();
        let help = problems
            .first()
            .and_then(|p| p.help.clone())
            .unwrap_or_default();
        // The suggested name keeps every word of the old one.
        assert!(help.contains("`001_create_base_tables_002.sql`"), "{help}");
        assert!(parse("migrations/0011_x.sql", &text("001")).is_err());
        assert!(parse("migrations/x_0011.sql", &text("011")).is_err());
    }
    use proptest::prelude::*;

    const BODY: &str = "\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:downgrade\nSELECT 2;\n";

    fn with_header(extra: &str) -> String {
        format!("-- revision: abc\n-- down_revision: none\n{extra}\n{BODY}")
    }

    /// `(line, message)` of every problem.
    fn problems(text: &str) -> Vec<(Option<u32>, String)> {
        match parse("m/abc.sql", text) {
            Ok(_) => Vec::new(),
            Err(ps) => ps.into_iter().map(|p| (p.line, p.message)).collect(),
        }
    }

    /// A few MiB, the size of the inputs that once took half a minute.
    const BIG: usize = 2 << 20;

    #[test]
    fn a_long_line_of_markers_in_a_section_is_one_comment() {
        let line = "-- migrate:".repeat(BIG / 11);
        for prefix in ["SELECT 1; ", "SELECT 1; x", "      "] {
            let text = format!(
                "-- revision: abc\n-- down_revision: none\n\n-- migrate:upgrade\nSELECT 0;\n{prefix}{line}\n-- migrate:downgrade\nSELECT 2;\n"
            );
            match parse("m/abc.sql", &text) {
                Ok(f) if prefix.trim().is_empty() => panic!("parsed: {:?}", f.revision),
                Ok(f) => {
                    // The long line is a comment, of the statement before it
                    // or of `x`; only its first characters are compared.
                    let starts: Vec<String> = f
                        .upgrade
                        .statements(SqlDialect::Postgres)
                        .iter()
                        .map(|s| s.sql.chars().take(12).collect())
                        .collect();
                    let want = if prefix.ends_with('x') {
                        ["SELECT 0", "SELECT 1", "x-- migrate:"]
                    } else {
                        ["SELECT 0", "SELECT 1", ""]
                    };
                    let want: Vec<&str> = want.into_iter().filter(|w| !w.is_empty()).collect();
                    assert_eq!(starts, want);
                    assert_eq!(f.downgrade.map(|d| d.line), Some(7));
                }
                // Spaces, then the markers: a marker line, of an unknown marker.
                Err(ps) => {
                    assert!(prefix.trim().is_empty(), "{prefix:?}: {ps:?}");
                    assert_eq!(ps.len(), 1, "{ps:?}");
                    assert_eq!(ps[0].line, Some(6));
                    assert!(ps[0]
                        .message
                        .starts_with("unknown section marker `-- migrate:-- migrate:"));
                    assert!(ps[0].message.chars().count() < 200);
                }
            }
        }
    }

    #[test]
    fn a_long_line_of_markers_in_the_header_is_one_problem() {
        let text = with_header(&"-- migrate:".repeat(BIG / 11));
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Some(3));
        assert!(found[0].1.ends_with("…`"), "{}", &found[0].1[..100]);
    }

    #[test]
    fn many_marker_lines_are_reported_linearly() {
        let n = BIG / 21;
        let repeated = format!(
            "-- revision: abc\n-- down_revision: none\n\n-- migrate:upgrade\nSELECT 1;\n{}",
            "-- migrate:downgrade\n".repeat(n)
        );
        assert_eq!(
            problems(&repeated),
            [(
                Some(4),
                "the section markers are repeated or out of order".to_string()
            )]
        );
        let unknown = format!(
            "-- revision: abc\n-- down_revision: none\n\n-- migrate:upgrade\nSELECT 1;\n{}-- migrate:downgrade\nSELECT 2;\n",
            "-- migrate:x\n".repeat(n)
        );
        let found = problems(&unknown);
        assert_eq!(found.len(), n);
        assert!(found
            .iter()
            .enumerate()
            .all(|(i, (line, _))| *line == u32::try_from(i + 6).ok()));
    }

    #[test]
    fn long_headers_and_many_lines_are_read_linearly() {
        let n = BIG / 14;
        let found = problems(&with_header(&"-- message: x\n".repeat(n)));
        assert_eq!(found.len(), n - 1);
        assert_eq!(
            found[0],
            (
                Some(4),
                "`message` is given twice (first on line 3)".to_string()
            )
        );
        let prose = with_header(&"-- a comment: that is prose\n".repeat(n));
        assert_eq!(problems(&prose), []);
        let long_key = with_header(&format!("-- {}: x", "k".repeat(BIG)));
        let found = problems(&long_key);
        assert_eq!(found.len(), 1);
        assert!(found[0].1.starts_with("unknown header key `kkk") && found[0].1.len() < 200);
        assert_eq!(
            problems(&with_header(&format!("-- {}: x", "a b ".repeat(BIG / 4)))),
            []
        );
        let blank = format!(
            "-- revision: abc\n-- down_revision: none\n-- migrate:upgrade\nSELECT 1;{}-- migrate:downgrade\nSELECT 2;\n",
            "\n".repeat(BIG)
        );
        let f = parse("m/abc.sql", &blank).unwrap();
        assert_eq!(f.downgrade.map(|d| d.line), u32::try_from(BIG + 4).ok());
    }

    #[test]
    fn long_values_are_read_linearly() {
        let labels: Vec<String> = (0..BIG / 8).map(|i| format!("l{i}")).collect();
        let f = parse(
            "m/abc.sql",
            &with_header(&format!("-- depends_on: {}", labels.join(", "))),
        )
        .unwrap();
        assert_eq!(f.depends_on, labels);
        let same = with_header(&format!(
            "-- depends_on: {}",
            vec!["l1"; BIG / 4].join(", ")
        ));
        assert_eq!(
            problems(&same),
            [(Some(3), "`depends_on` lists `l1` twice".to_string())]
        );
        let f = parse(
            "m/abc.sql",
            &with_header(&format!("-- message: {}", "m".repeat(BIG))),
        )
        .unwrap();
        assert_eq!(f.message.len(), BIG);
    }

    /// A known key written otherwise: case, look-alike letters, `-` or a
    /// space for `_`, an invisible character.
    fn misspelled_key() -> impl Strategy<Value = String> {
        let keys: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
        (
            proptest::sample::select(keys),
            proptest::collection::vec(0u8..6, 13),
        )
            .prop_map(|(key, edits)| {
                key.chars()
                    .zip(edits.iter().cycle())
                    .map(|(c, edit)| match (c, edit) {
                        ('_', 1) => "-".to_string(),
                        ('_', 2) => " ".to_string(),
                        ('o', 1) => "\u{43e}".to_string(),
                        ('a', 1) => "\u{3b1}".to_string(),
                        ('e', 2) => "\u{435}".to_string(),
                        (c, 3) => c.to_ascii_uppercase().to_string(),
                        (c, 4) => format!("{c}\u{200b}"),
                        (c, _) => c.to_string(),
                    })
                    .collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn a_misspelled_key_is_never_ignored(key in misspelled_key()) {
            let text = with_header(&format!("-- {key}: x"));
            prop_assume!(KEYS.iter().all(|(name, _)| *name != key));
            let found = problems(&text);
            prop_assert!(
                found.iter().any(|(line, m)| *line == Some(3) && m.starts_with("unknown header key")),
                "{key:?}: {found:?}"
            );
        }

        #[test]
        fn prose_with_a_colon_passes(
            words in proptest::collection::vec(
                proptest::sample::select(vec!["this", "migration", "adds", "the", "users", "table", "see", "ticket", "we", "backfill"]),
                3..8,
            ),
        ) {
            let text = with_header(&format!("-- {}: see ticket 12", words.join(" ")));
            prop_assert_eq!(problems(&text), []);
        }
    }

    #[test]
    fn header_text_refuses_control_characters_but_tab() {
        assert!(check_header_text("add users\twith a tab, é, 用户").is_ok());
        for bad in [
            "\u{1b}[31mred",
            "bell\u{7}",
            "nul\u{0}",
            "del\u{7f}",
            "c1\u{9b}",
            "rlo\u{202e}",
            "lri\u{2066}",
        ] {
            assert!(check_header_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_read_and_write_back() {
        for (text, ms) in [
            ("200ms", 200),
            ("5s", 5_000),
            ("2min", 120_000),
            ("1h", 3_600_000),
            ("1500ms", 1_500),
            ("24h", 86_400_000),
        ] {
            let d = parse_duration(text).unwrap();
            assert_eq!(d, Duration::from_millis(ms), "{text}");
            assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{text}");
        }
        assert_eq!(format_duration(Duration::from_millis(90_000)), "90s");
        for bad in [
            "",
            "5",
            "0ms",
            "-1s",
            "1.5s",
            "5 sec",
            "25h",
            "99999999999999999999s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reserved_words_are_refused_in_any_case() {
        for word in ["HEAD", "Heads", "bAsE", "CURRENT", "None"] {
            assert!(check_revision_id(word).is_err(), "{word}");
            assert!(check_label(word).is_err(), "{word}");
        }
        assert!(check_label("header").is_ok());
    }
}
