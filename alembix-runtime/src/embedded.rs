//! The migration set `embed_migrations!` builds into the binary: `&'static` data.
//!
//! ```text
//! static MIGRATIONS: alembix_runtime::EmbeddedMigrations =
//!     alembix_runtime::embed_migrations!("migrations");
//! ```
//!
//! The expansion is a constant expression, so it also fits a `const` or a `let`.
//!
//! The macro reads the folder (relative to the `Cargo.toml` of the crate that calls
//! it) with the same scan, parsing and graph validation that the runtime and the
//! xtask use ([`alembix_core::scan::scan_folder`] and
//! [`alembix_core::MigrationSet::from_sources`]). A history with a problem does not
//! build: every problem becomes its own compile error, naming the file and line
//! relative to the crate root and saying what to do, all reported in one build:
//!
//! ```text
//! error: migrations/2026-01-02_add_email_aaaaaaaaaaa3.sql:2: down_revision of revision aaaaaaaaaaa3 names aaaaaaaaaaa2, which is not in the history
//!        help: no migration declares revision aaaaaaaaaaa2: restore the missing file, or point down_revision at an existing revision (`cargo xtask heads` lists them)
//!  --> src/main.rs:4:76
//!   |
//! 4 | static MIGRATIONS: EmbeddedMigrations = alembix_runtime::embed_migrations!("migrations");
//!   |                                                                            ^^^^^^^^^^^^
//! ```
//!
//! Code that names the static gets no second error: on error the macro also
//! expands to an empty placeholder set.
//!
//! A valid history becomes an [`EmbeddedMigrations`]: every revision in load order
//! (sorted file names, as Alembic loads them) with its parents, labels,
//! dependencies, upgrade and downgrade SQL already split into statements (per
//! dialect where the dialects cut it differently; stored once otherwise), the
//! checksum of its upgrade computed at build time, and the heads. Launch parses
//! nothing; [`EmbeddedMigrations::to_set`] rebuilds the core's
//! [`MigrationSet`] from this data without reading or parsing SQL.
//!
//! The data is two constants: one string holding every text once (ids, messages,
//! file names, sections; a statement is a range of its section) and one byte
//! table of lengths and positions in it. The accessors return small `Copy` views
//! ([`EmbeddedMigration`], [`EmbeddedSection`], [`EmbeddedStatement`]) and
//! iterators read from the table on demand. Two literals are quick for rustc to
//! build however long the history, and the binary holds no pointer per string.
//!
//! With 10,000 migrations, the embedding crate builds in about a second and a
//! half, under half the time `diesel_migrations::embed_migrations!` takes on the
//! same SQL, and its binary grows by about as much (3 MiB; see
//! `alembix-macros/benches/embed_build.rs`). Most of that second is the macro
//! reading and checking the files, which the dev profile compiles without
//! optimizations; for very long histories, `opt-level = 3` under
//! `[profile.dev.build-override]` in the workspace's `Cargo.toml` about halves it.
//!
//! # Rebuilding when the folder changes
//!
//! Cargo decides whether to recompile a crate before any macro runs, so it must
//! know which files the embedded set came from:
//!
//! - **Edited or deleted migrations** are tracked with nothing to do: the macro
//!   emits an `include_bytes!` of every file it embedded, so rustc lists them as
//!   inputs of the crate, and the next `cargo build`, `cargo run` or `cargo test`
//!   embeds the new text (or notices the file is gone).
//! - **Added migrations** need one line of build script, because a macro on
//!   stable Rust cannot ask Cargo to watch a folder (`proc_macro::tracked_path` is
//!   unstable). Put this `build.rs` next to the embedding crate's `Cargo.toml`:
//!
//!   ```text
//!   fn main() {
//!       println!("cargo:rerun-if-changed=migrations");
//!   }
//!   ```
//!
//!   Cargo then checks the folder and everything below it after every change,
//!   and when anything was added, edited, renamed or deleted, reruns the script
//!   and recompiles the crate, which embeds the new set. Without it, a new file
//!   is only picked up once some other input of the crate changes. Use the same
//!   path as in `embed_migrations!`; if the crate already has a build script, add
//!   the line to its `main`.
//!
//! `cargo clean` is never needed.

use alembix_core::checksum::{ALGORITHM, HEX_DIGITS};
use alembix_core::file::HeaderLines;
use alembix_core::file::Part;
use alembix_core::sql::{Split, Splits, Unclosed, Unterminated};
use alembix_core::{
    Checksum, Dialects, GraphOptions, MigrationFile, MigrationSet, Problems, Section, Settings,
};
use alembix_core::{SqlDialect, Statement, Timeouts, TransactionMode};
use std::fmt;
use std::iter::FusedIterator;
use std::time::Duration;

/// A validated migration history embedded in the binary by `embed_migrations!`.
///
/// Holds every migration in load order and the heads, as `&'static` data: reading
/// it allocates nothing.
///
/// ```rust
/// use alembix_runtime::EmbeddedMigrations;
///
/// // A fixture of this crate's tests stands in for your `migrations` folder.
/// static MIGRATIONS: EmbeddedMigrations =
///     alembix_runtime::embed_migrations!("tests/ui/fixtures/merged");
///
/// assert_eq!(MIGRATIONS.len(), 8);
/// assert_eq!(MIGRATIONS.heads(), ["8192a3b4c5d6"]);
/// let merge = MIGRATIONS.get("6f708192a3b4");
/// let parents: Option<Vec<&str>> = merge.map(|m| m.down_revisions().collect());
/// assert_eq!(parents, Some(vec!["5e6f708192a3", "4d5e6f708192"]));
/// for migration in MIGRATIONS.migrations() {
///     println!("{} {}", migration.revision(), migration.message());
/// }
/// let set = MIGRATIONS.to_set()?;
/// assert_eq!(set.graph().ids(set.graph().heads()), ["8192a3b4c5d6"]);
/// # Ok::<(), alembix_runtime::core::Problems>(())
/// ```
#[derive(Clone, Copy)]
pub struct EmbeddedMigrations {
    data: Data,
    heads: &'static [&'static str],
    /// The version rows of a database at the heads, sorted.
    head_rows: &'static [&'static str],
    /// The applied-set digest of a database at the heads, per dialect
    /// ([`alembix_core::digest`]; the checksums differ where variants do).
    head_digests: [&'static str; 3],
    /// Built with `heads = "any"`: several unmerged heads are allowed.
    any_heads: bool,
    /// The dialects the history declares (`alembix.toml`), as
    /// [`Dialects::bits`].
    dialects: u8,
}

impl EmbeddedMigrations {
    /// Used by the code `embed_migrations!` generates; not a public API.
    ///
    /// `text` and `table` are laid out as described on `Data` (private);
    /// `head_rows` and `head_digest` are what a database at the heads holds.
    #[doc(hidden)]
    pub const fn __new(
        text: &'static str,
        table: &'static [u8],
        heads: &'static [&'static str],
        head_rows: &'static [&'static str],
        head_digests: [&'static str; 3],
        any_heads: bool,
        dialects: u8,
    ) -> Self {
        EmbeddedMigrations {
            data: Data { text, table },
            heads,
            head_rows,
            head_digests,
            any_heads,
            dialects,
        }
    }

    /// The dialects the history declares in its `alembix.toml` (checked at
    /// build time); [`Dialects::UNDECLARED`] when it declares none.
    pub const fn dialects(&self) -> Dialects {
        Dialects::from_bits(self.dialects)
    }

    /// The version rows of a database at the heads, sorted (computed at build time).
    pub(crate) const fn head_rows(&self) -> &'static [&'static str] {
        self.head_rows
    }

    /// The applied-set digest of a database of `dialect` at the heads
    /// (computed at build time).
    pub(crate) const fn head_digest(&self, dialect: SqlDialect) -> &'static str {
        self.head_digests[dialect.index()]
    }

    /// Every migration, in load order (sorted by file name, as Alembic loads them).
    pub fn migrations(&self) -> MigrationIter {
        MigrationIter {
            data: self.data,
            front: 0,
            back: self.len(),
        }
    }

    /// The revision ids of the heads (revisions no other revision names as its
    /// `down_revision`), in load order; computed at build time, so the launch
    /// path can compare them with the database without building the graph.
    pub const fn heads(&self) -> &'static [&'static str] {
        self.heads
    }

    /// How many migrations are embedded.
    pub const fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the folder held no migration at all.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The migration with revision id `revision`, if it is embedded.
    pub fn get(&self, revision: &str) -> Option<EmbeddedMigration> {
        (0..self.len())
            .find(|&index| self.data.revision(index) == revision)
            .map(|index| self.data.migration(index))
    }

    /// Rebuilds the core's [`MigrationSet`] (parsed files and the validated graph)
    /// from the embedded data, for planning.
    ///
    /// No SQL is read or parsed again: the files are rebuilt from the static data
    /// and only the graph is linked, with the same rules (and the default
    /// [`GraphOptions`]) that the macro checked at build time, so this succeeds for
    /// any set the macro produced.
    pub fn to_set(&self) -> Result<MigrationSet, Problems> {
        let files = self.migrations().map(|m| m.to_file()).collect();
        let options = GraphOptions {
            heads: if self.any_heads {
                alembix_core::HeadPolicy::Any
            } else {
                alembix_core::HeadPolicy::default()
            },
        };
        MigrationSet::from_files(files, &options)
            .map(|set| set.with_settings(Settings::with_dialects(self.dialects())))
    }
}

impl fmt::Debug for EmbeddedMigrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedMigrations")
            .field("migrations", &self.migrations())
            .field("heads", &self.heads)
            .finish()
    }
}

/// The migrations of an [`EmbeddedMigrations`], in load order: an iterator that
/// also answers [`len`](MigrationIter::len) and [`get`](MigrationIter::get) by
/// position.
#[derive(Clone)]
pub struct MigrationIter {
    data: Data,
    front: usize,
    back: usize,
}

impl MigrationIter {
    /// How many migrations are left.
    pub fn len(&self) -> usize {
        self.back - self.front
    }

    /// Whether no migration is left.
    pub fn is_empty(&self) -> bool {
        self.front == self.back
    }

    /// The migration at `position` among those left (0 is the next one).
    pub fn get(&self, position: usize) -> Option<EmbeddedMigration> {
        (position < self.len()).then(|| self.data.migration(self.front + position))
    }

    /// The migrations left, as a new iterator.
    pub fn iter(&self) -> MigrationIter {
        self.clone()
    }
}

impl Iterator for MigrationIter {
    type Item = EmbeddedMigration;

    fn next(&mut self) -> Option<EmbeddedMigration> {
        let migration = self.get(0)?;
        self.front += 1;
        Some(migration)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }

    fn nth(&mut self, n: usize) -> Option<EmbeddedMigration> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }
}

impl DoubleEndedIterator for MigrationIter {
    fn next_back(&mut self) -> Option<EmbeddedMigration> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.data.migration(self.back))
    }
}

impl ExactSizeIterator for MigrationIter {}
impl FusedIterator for MigrationIter {}

impl fmt::Debug for MigrationIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// One embedded migration: the header, both sections and the checksum.
///
/// A view of the embedded data, cheap to copy; every text it gives out is
/// `&'static`.
#[derive(Clone, Copy)]
pub struct EmbeddedMigration {
    revision: &'static str,
    down_revisions: List,
    branch_labels: List,
    depends_on: List,
    message: &'static str,
    create_date: Option<&'static str>,
    file: &'static str,
    transaction: TransactionMode,
    timeouts: Timeouts,
    header_lines: [u32; 4],
    upgrade: EmbeddedSection,
    downgrade: Option<EmbeddedSection>,
    checksums: [EmbeddedChecksum; 3],
}

impl EmbeddedMigration {
    /// The revision id.
    pub const fn revision(&self) -> &'static str {
        self.revision
    }

    /// The revisions this one builds on (`down_revision`): none for a base,
    /// several for a merge.
    pub fn down_revisions(&self) -> NameIter {
        self.down_revisions.names()
    }

    /// The branch labels declared in this file.
    pub fn branch_labels(&self) -> NameIter {
        self.branch_labels.names()
    }

    /// Revisions or branch labels that must be applied first (`depends_on`).
    pub fn depends_on(&self) -> NameIter {
        self.depends_on.names()
    }

    /// The one-line description from the `message:` header (empty when absent).
    pub const fn message(&self) -> &'static str {
        self.message
    }

    /// The `create_date:` header as written, if any.
    pub const fn create_date(&self) -> Option<&'static str> {
        self.create_date
    }

    /// The file it came from, relative to the embedding crate's root
    /// (e.g. `migrations/2026-01-02_add_users_a1b2c3d4e5f6.sql`).
    pub const fn file(&self) -> &'static str {
        self.file
    }

    /// Whether it runs in one transaction with its bookkeeping.
    pub const fn transaction(&self) -> TransactionMode {
        self.transaction
    }

    /// The `lock_timeout` and `statement_timeout` its header gives.
    pub const fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The lines of the header fields in the file, for messages.
    pub const fn header_lines(&self) -> HeaderLines {
        let [revision, down_revision, branch_labels, depends_on] = self.header_lines;
        HeaderLines {
            revision,
            down_revision,
            branch_labels,
            depends_on,
        }
    }

    /// The upgrade section.
    pub const fn upgrade(&self) -> EmbeddedSection {
        self.upgrade
    }

    /// The downgrade section; `None` when the file says `-- migrate:irreversible`.
    pub const fn downgrade(&self) -> Option<EmbeddedSection> {
        self.downgrade
    }

    /// Whether the migration can be reverted (it has a downgrade section).
    pub const fn is_reversible(&self) -> bool {
        self.downgrade.is_some()
    }

    /// The checksum of the upgrade SQL `dialect` runs, computed at build time
    /// (`sha256:…`), to compare with the one recorded when it was applied on a
    /// database of that dialect.
    pub const fn checksum(&self, dialect: SqlDialect) -> EmbeddedChecksum {
        self.checksums[dialect.index()]
    }

    /// The core's parsed form of this migration, rebuilt without parsing.
    pub fn to_file(&self) -> MigrationFile {
        MigrationFile {
            file: self.file.to_string(),
            revision: self.revision.to_string(),
            down_revisions: self.down_revisions().map(str::to_string).collect(),
            branch_labels: self.branch_labels().map(str::to_string).collect(),
            depends_on: self.depends_on().map(str::to_string).collect(),
            message: self.message.to_string(),
            create_date: self.create_date.map(str::to_string),
            transaction: self.transaction,
            timeouts: self.timeouts,
            lines: self.header_lines(),
            upgrade: self.upgrade.to_section(),
            downgrade: self.downgrade.map(EmbeddedSection::to_section),
            checksums: self.checksums.map(|c| c.to_checksum()),
        }
    }
}

impl fmt::Debug for EmbeddedMigration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("EmbeddedMigration");
        d.field("revision", &self.revision)
            .field("down_revisions", &self.down_revisions())
            .field("branch_labels", &self.branch_labels())
            .field("depends_on", &self.depends_on())
            .field("message", &self.message)
            .field("create_date", &self.create_date)
            .field("file", &self.file)
            .field("transaction", &self.transaction);
        if !self.timeouts.is_empty() {
            d.field("timeouts", &self.timeouts);
        }
        d.field("upgrade", &self.upgrade)
            .field("downgrade", &self.downgrade);
        let [sqlite, postgresql, mysql] = &self.checksums;
        if sqlite == postgresql && sqlite == mysql {
            d.field("checksum", sqlite);
        } else {
            for (dialect, checksum) in SqlDialect::ALL.iter().zip(&self.checksums) {
                d.field(dialect.name(), checksum);
            }
        }
        d.finish()
    }
}

/// Revision ids or branch labels of an [`EmbeddedMigration`], in the order the
/// header lists them.
#[derive(Clone)]
pub struct NameIter {
    data: Data,
    at: usize,
    left: usize,
}

impl NameIter {
    /// How many names are left.
    pub fn len(&self) -> usize {
        self.left
    }

    /// Whether no name is left.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// The name at `position` among those left (0 is the next one).
    pub fn get(&self, position: usize) -> Option<&'static str> {
        self.clone().nth(position)
    }

    /// The names left, as a new iterator.
    pub fn iter(&self) -> NameIter {
        self.clone()
    }
}

impl Iterator for NameIter {
    type Item = &'static str;

    fn next(&mut self) -> Option<&'static str> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut table = self.data.reader(self.at);
        let (start, len) = (table.usize(), table.usize());
        self.at = table.at;
        Some(self.data.str(start, len))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for NameIter {}
impl FusedIterator for NameIter {}

impl fmt::Debug for NameIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// The upgrade or downgrade section of an embedded migration.
#[derive(Clone, Copy)]
pub struct EmbeddedSection {
    line: u32,
    sql: &'static str,
    /// Where `sql` starts in the text; statements are positioned from there.
    start: usize,
    /// The distinct splits (only the first when every dialect agrees).
    splits: [EmbeddedSplit; 3],
    /// Which of `splits` each dialect runs, by [`SqlDialect::index`].
    which: [u8; 3],
    /// Where the parts of a section with dialect variants are in the table.
    parts: Option<List>,
}

/// One split of an embedded section: where its statements are in the table,
/// and what it leaves unterminated.
#[derive(Clone, Copy)]
struct EmbeddedSplit {
    statements: List,
    unterminated: Option<(u32, EmbeddedUnclosed)>,
}

/// What an embedded split leaves open (see [`Unclosed`]).
#[derive(Clone, Copy)]
enum EmbeddedUnclosed {
    Quote(char),
    EscapeString,
    BlockComment,
    DollarQuote(&'static str),
}

impl EmbeddedSection {
    /// The 1-based line of the section's marker (`-- migrate:upgrade`) in the file.
    pub const fn line(&self) -> u32 {
        self.line
    }

    /// The section's whole text as written after its marker (line endings
    /// normalized to `\n`), comments included.
    pub const fn sql(&self) -> &'static str {
        self.sql
    }

    fn split(&self, dialect: SqlDialect) -> &EmbeddedSplit {
        let at = usize::from(self.which[dialect.index()]);
        &self.splits[at.min(self.splits.len() - 1)]
    }

    /// The statements `dialect` runs, in order, without their `;`.
    pub fn statements(&self, dialect: SqlDialect) -> StatementIter {
        let list = self.split(dialect).statements;
        StatementIter {
            data: list.data,
            at: list.at,
            left: list.len,
            line: self.line,
            cursor: self.start,
        }
    }

    /// What `dialect` finds never closed at the end of the section (a quote,
    /// a comment, a dollar-quoted body): the section cannot run there.
    pub fn unterminated(&self, dialect: SqlDialect) -> Option<Unterminated> {
        self.split(dialect).unterminated.map(to_unterminated)
    }

    /// Whether every dialect cuts the section the same way.
    pub fn is_uniform(&self) -> bool {
        self.which == [0; 3]
    }

    fn to_section(self) -> Section {
        let split = |at: usize| {
            let dialect = SqlDialect::ALL
                .into_iter()
                .find(|d| usize::from(self.which[d.index()]) == at)
                .unwrap_or(SqlDialect::Sqlite);
            Split {
                statements: self
                    .statements(dialect)
                    .map(|s| Statement {
                        line: s.line,
                        sql: s.sql.to_string(),
                    })
                    .collect(),
                unterminated: self.unterminated(dialect),
            }
        };
        let count = self.which.iter().max().map_or(1, |&m| usize::from(m) + 1);
        let splits = if count == 1 {
            Splits::uniform(split(0))
        } else {
            let distinct = (0..count).map(split).collect();
            Splits::from_parts(distinct, self.which).unwrap_or_else(|| Splits::uniform(split(0)))
        };
        let parts = match self.parts() {
            Some(parts) => parts.collect(),
            None => vec![Part {
                dialect: None,
                line: self.line,
                range: 0..self.sql.len(),
            }],
        };
        Section {
            line: self.line,
            sql: self.sql.to_string(),
            splits,
            parts,
        }
    }

    /// Whether the section has dialect variants.
    pub fn has_variants(&self) -> bool {
        self.parts.is_some()
    }

    /// The parts of a section with dialect variants, in file order (see
    /// [`Section::parts`]); `None` without variants (one part every dialect runs).
    pub fn parts(&self) -> Option<impl Iterator<Item = Part>> {
        let list = self.parts?;
        let mut table = list.data.reader(list.at);
        let sql_len = self.sql.len();
        Some((0..list.len).map(move |_| {
            let dialect = match table.usize() {
                0 => None,
                n => SqlDialect::ALL.get(n - 1).copied(),
            };
            let line = table.varint();
            let start = table.usize().min(sql_len);
            let len = table.usize();
            Part {
                dialect,
                line,
                range: start..start.saturating_add(len).min(sql_len),
            }
        }))
    }

    /// The text `dialect` runs: its variant, else the default part; `None`
    /// when the section has neither (see [`Section::text`]).
    pub fn text(&self, dialect: SqlDialect) -> Option<&'static str> {
        let Some(parts) = self.parts() else {
            return Some(self.sql);
        };
        let parts: Vec<Part> = parts.collect();
        let part = alembix_core::file::part_for(&parts, dialect)?;
        self.sql.get(part.range.clone())
    }
}

fn to_unterminated((line, open): (u32, EmbeddedUnclosed)) -> Unterminated {
    Unterminated {
        line,
        unclosed: match open {
            EmbeddedUnclosed::Quote(q) => Unclosed::Quote(q),
            EmbeddedUnclosed::EscapeString => Unclosed::EscapeString,
            EmbeddedUnclosed::BlockComment => Unclosed::BlockComment,
            EmbeddedUnclosed::DollarQuote(tag) => Unclosed::DollarQuote(tag.to_string()),
        },
    }
}

impl fmt::Debug for EmbeddedSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("EmbeddedSection");
        s.field("line", &self.line).field("sql", &self.sql);
        if self.is_uniform() {
            s.field("statements", &self.statements(SqlDialect::Sqlite));
        } else {
            for dialect in SqlDialect::ALL {
                s.field(dialect.name(), &self.statements(dialect));
            }
        }
        s.finish()
    }
}

/// The statements of an [`EmbeddedSection`], in order.
#[derive(Clone)]
pub struct StatementIter {
    data: Data,
    at: usize,
    left: usize,
    /// The line of the previous statement (at first, of the section's marker).
    line: u32,
    /// Where the previous statement ends in the text (at first, the section's
    /// start).
    cursor: usize,
}

impl StatementIter {
    /// How many statements are left.
    pub fn len(&self) -> usize {
        self.left
    }

    /// Whether no statement is left.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// The statement at `position` among those left (0 is the next one); reads
    /// the ones before it.
    pub fn get(&self, position: usize) -> Option<EmbeddedStatement> {
        self.clone().nth(position)
    }

    /// The statements left, as a new iterator.
    pub fn iter(&self) -> StatementIter {
        self.clone()
    }
}

impl Iterator for StatementIter {
    type Item = EmbeddedStatement;

    fn next(&mut self) -> Option<EmbeddedStatement> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut table = self.data.reader(self.at);
        self.line = self.line.wrapping_add(table.varint());
        let start = self.cursor.saturating_add(table.usize());
        let len = table.usize();
        self.at = table.at;
        self.cursor = start.saturating_add(len);
        Some(EmbeddedStatement {
            line: self.line,
            sql: self.data.str(start, len),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for StatementIter {}
impl FusedIterator for StatementIter {}

impl fmt::Debug for StatementIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// One SQL statement of an embedded section.
#[derive(Clone, Copy)]
pub struct EmbeddedStatement {
    line: u32,
    sql: &'static str,
}

impl EmbeddedStatement {
    /// The 1-based line in the migration file where the statement starts.
    pub const fn line(&self) -> u32 {
        self.line
    }

    /// The statement's text, trimmed, without its terminating `;`.
    pub const fn sql(&self) -> &'static str {
        self.sql
    }
}

impl fmt::Debug for EmbeddedStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedStatement")
            .field("line", &self.line)
            .field("sql", &self.sql)
            .finish()
    }
}

/// The checksum of an embedded migration's upgrade section, computed at build
/// time and stored as its 32 bytes of SHA-256; displays (and compares with text)
/// as the tagged `sha256:…` the core writes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmbeddedChecksum {
    sha256: &'static [u8; 32],
}

impl EmbeddedChecksum {
    /// The SHA-256 digest.
    pub const fn sha256(&self) -> &'static [u8; 32] {
        self.sha256
    }

    /// The core's [`Checksum`], as stored in the version table.
    pub fn to_checksum(&self) -> Checksum {
        Checksum::from_sha256(self.sha256)
    }
}

impl fmt::Display for EmbeddedChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ALGORITHM)?;
        f.write_str(":")?;
        self.sha256
            .iter()
            .try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for EmbeddedChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl PartialEq<str> for EmbeddedChecksum {
    /// Whether `other` is this checksum's text, compared without allocating.
    fn eq(&self, other: &str) -> bool {
        let hex = other
            .strip_prefix(ALGORITHM)
            .and_then(|rest| rest.strip_prefix(':'));
        hex.is_some_and(|hex| {
            hex.len() == 2 * self.sha256.len()
                && hex
                    .as_bytes()
                    .chunks(2)
                    .zip(self.sha256)
                    .all(|(pair, &byte)| {
                        pair == [
                            HEX_DIGITS[usize::from(byte >> 4)],
                            HEX_DIGITS[usize::from(byte & 0xf)],
                        ]
                    })
        })
    }
}

impl PartialEq<&str> for EmbeddedChecksum {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl PartialEq<Checksum> for EmbeddedChecksum {
    fn eq(&self, other: &Checksum) -> bool {
        self == other.as_str()
    }
}

/// Where a list (of names or statements) is in the table, and how many entries
/// it has.
#[derive(Clone, Copy)]
struct List {
    data: Data,
    at: usize,
    len: usize,
}

impl List {
    fn names(&self) -> NameIter {
        NameIter {
            data: self.data,
            at: self.at,
            left: self.len,
        }
    }
}

/// The two constants `embed_migrations!` writes (`alembix-macros/src/layout.rs`
/// writes them; this is the one place that reads them).
///
/// `text` holds every string of the set once. `table` is:
///
/// - the number of migrations, then for each one where its record starts in
///   `table` and where its text starts in `text`: `u32`s, little-endian, so a
///   migration is found by position without reading the ones before it;
/// - one record per migration, of unsigned LEB128 integers ("varints") unless
///   said otherwise:
///   - the length of the file name, where the revision id starts from the
///     start of the migration's text, the lengths of the revision id and the
///     message, the flags ([`HAS_CREATE_DATE`], [`HAS_DOWNGRADE`],
///     [`NO_TRANSACTION`], [`UPGRADE_VARIES`], [`DOWNGRADE_VARIES`],
///     [`UPGRADE_PARTS`], [`DOWNGRADE_PARTS`], [`HAS_TIMEOUTS`]), and
///     the length of the `create_date` if there is one.
///     The migration's text is the file name, then the revision id unless the
///     file name holds it (it does when the file is named as the core requires),
///     then the message, the `create_date`, the upgrade SQL and the downgrade
///     SQL;
///   - the four header lines (revision, down_revision, branch_labels,
///     depends_on);
///   - with [`HAS_TIMEOUTS`], the header's `lock_timeout` and
///     `statement_timeout`: each 0 when absent, else 1 + milliseconds;
///   - the checksum: 32 raw bytes of SHA-256;
///   - `down_revisions`, `branch_labels` and `depends_on`: each a count, then a
///     (start, length) in `text` per name (names are shared: a `down_revision`
///     points at the parent's revision id);
///   - the upgrade section, then the downgrade section if there is one: its
///     marker's line, the length of its SQL, then its split: the number of
///     statements, the size in bytes of the statements that follow, then per
///     statement its line minus the previous one's (the first: minus the
///     marker's; wrapping), the gap from the end of the previous statement
///     (the first: from the start of the section's SQL) to its start in
///     `text`, and its length.
///
///     When the dialects split the section differently ([`UPGRADE_VARIES`],
///     [`DOWNGRADE_VARIES`]), the split is instead one byte saying which split
///     each dialect runs (two bits each: SQLite, PostgreSQL, MySQL from the
///     low bits), then each distinct split as above followed by what it leaves
///     unterminated: 0, or a kind (1 `'`, 2 `"`, 3 `` ` ``, 4 `[`, 5 `E'`, 6
///     `/*`, 7 a dollar quote), the line, and for a dollar quote the start and
///     length of its tag in `text`.
///
/// Reading never panics: a position outside the data reads as empty.
#[derive(Clone, Copy)]
struct Data {
    text: &'static str,
    table: &'static [u8],
}

/// Flag: the migration has a `create_date`.
const HAS_CREATE_DATE: u32 = 1;
/// Flag: the migration has a downgrade section.
const HAS_DOWNGRADE: u32 = 2;
/// Flag: the migration runs outside a transaction.
const NO_TRANSACTION: u32 = 4;
/// Flag: dialects split the upgrade section differently.
const UPGRADE_VARIES: u32 = 8;
/// Flag: dialects split the downgrade section differently.
const DOWNGRADE_VARIES: u32 = 16;
/// Flag: the upgrade section has dialect variants (and a checksum per dialect).
const UPGRADE_PARTS: u32 = 32;
/// Flag: the downgrade section has dialect variants.
const DOWNGRADE_PARTS: u32 = 64;
/// Flag: the header gives a `lock_timeout` or a `statement_timeout`.
const HAS_TIMEOUTS: u32 = 128;

impl Data {
    const fn len(&self) -> usize {
        match self.table {
            [a, b, c, d, ..] => u32::from_le_bytes([*a, *b, *c, *d]) as usize,
            _ => 0,
        }
    }

    fn reader(&self, at: usize) -> Reader {
        Reader {
            table: self.table,
            at,
        }
    }

    /// `text[start..start + len]`, or `""` outside the text.
    fn str(&self, start: usize, len: usize) -> &'static str {
        self.text
            .get(start..start.saturating_add(len))
            .unwrap_or_default()
    }

    /// Where the record and the text of migration `index` start.
    fn entry(&self, index: usize) -> (usize, usize) {
        let at = index.saturating_mul(8).saturating_add(4);
        let reader = self.reader(at);
        (reader.u32_at(at), reader.u32_at(at.saturating_add(4)))
    }

    /// The revision id of migration `index`, reading nothing else.
    fn revision(&self, index: usize) -> &'static str {
        let (record, text) = self.entry(index);
        let mut table = self.reader(record);
        let (_file, at, len) = (table.usize(), table.usize(), table.usize());
        self.str(text.saturating_add(at), len)
    }

    /// The view of migration `index`.
    fn migration(&self, index: usize) -> EmbeddedMigration {
        let (record, text) = self.entry(index);
        let mut table = self.reader(record);
        let mut text = Cutter {
            data: *self,
            at: text,
        };
        let (file, revision_at) = (table.usize(), table.usize());
        let (revision, message) = (table.usize(), table.usize());
        let flags = table.varint();
        let create_date = (flags & HAS_CREATE_DATE != 0).then(|| table.usize());
        let header_lines = [
            table.varint(),
            table.varint(),
            table.varint(),
            table.varint(),
        ];
        let mut timeouts = Timeouts::default();
        if flags & HAS_TIMEOUTS != 0 {
            let mut read = || match table.varint() {
                0 => None,
                ms => Some(Duration::from_millis(u64::from(ms) - 1)),
            };
            timeouts.lock = read();
            timeouts.statement = read();
        }
        let checksums = if flags & UPGRADE_PARTS != 0 {
            [table.sha256(), table.sha256(), table.sha256()]
        } else {
            let one = table.sha256();
            [one; 3]
        };
        let down_revisions = table.names(*self);
        let branch_labels = table.names(*self);
        let depends_on = table.names(*self);
        // The strings, in the order the text holds them.
        let revision_at = text.at.saturating_add(revision_at);
        let file = text.cut(file);
        let revision = self.str(revision_at, revision);
        text.at = text.at.max(revision_at.saturating_add(revision.len()));
        let message = text.cut(message);
        let create_date = create_date.map(|len| text.cut(len));
        let upgrade = table.section(
            &mut text,
            flags & UPGRADE_VARIES != 0,
            flags & UPGRADE_PARTS != 0,
        );
        let downgrade = (flags & HAS_DOWNGRADE != 0).then(|| {
            table.section(
                &mut text,
                flags & DOWNGRADE_VARIES != 0,
                flags & DOWNGRADE_PARTS != 0,
            )
        });
        EmbeddedMigration {
            revision,
            down_revisions,
            branch_labels,
            depends_on,
            message,
            create_date,
            file,
            transaction: if flags & NO_TRANSACTION != 0 {
                TransactionMode::None
            } else {
                TransactionMode::PerMigration
            },
            timeouts,
            header_lines,
            upgrade,
            downgrade,
            checksums,
        }
    }
}

/// Reads `table` from `at` on.
struct Reader {
    table: &'static [u8],
    at: usize,
}

impl Reader {
    /// The little-endian `u32` at `at` (not moving on), 0 outside the table.
    fn u32_at(&self, at: usize) -> usize {
        let bytes = self
            .table
            .get(at..at.saturating_add(4))
            .and_then(|b| <[u8; 4]>::try_from(b).ok());
        bytes.map_or(0, |b| to_usize(u32::from_le_bytes(b)))
    }

    /// The next varint.
    fn varint(&mut self) -> u32 {
        let mut value = 0u32;
        let mut shift = 0u32;
        while let Some(&byte) = self.table.get(self.at) {
            self.at += 1;
            if shift < u32::BITS {
                value |= u32::from(byte & 0x7f) << shift;
            }
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        value
    }

    fn usize(&mut self) -> usize {
        to_usize(self.varint())
    }

    fn skip(&mut self, bytes: usize) {
        self.at = self.at.saturating_add(bytes);
    }

    fn sha256(&mut self) -> EmbeddedChecksum {
        static MISSING: [u8; 32] = [0; 32];
        let bytes = self
            .table
            .get(self.at..self.at.saturating_add(32))
            .and_then(|b| <&[u8; 32]>::try_from(b).ok());
        self.skip(32);
        EmbeddedChecksum {
            sha256: bytes.unwrap_or(&MISSING),
        }
    }

    /// A list of names; moves past it.
    fn names(&mut self, data: Data) -> List {
        let len = self.usize();
        let at = self.at;
        for _ in 0..len {
            self.varint();
            self.varint();
        }
        List { data, at, len }
    }

    /// A section, whose SQL is next in `text`; moves past it. `varies`: the
    /// dialects split it differently; `parts`: it has dialect variants (see
    /// `Data`).
    fn section(&mut self, text: &mut Cutter, varies: bool, parts: bool) -> EmbeddedSection {
        let line = self.varint();
        let sql_len = self.usize();
        let start = text.at;
        let data = text.data;
        let mut which = [0u8; 3];
        let mut splits = [EmbeddedSplit {
            statements: List {
                data,
                at: 0,
                len: 0,
            },
            unterminated: None,
        }; 3];
        if varies {
            let packed = self.table.get(self.at).copied().unwrap_or(0);
            self.skip(1);
            which = [packed & 3, packed >> 2 & 3, packed >> 4 & 3];
            let count = which.iter().max().map_or(1, |&m| usize::from(m) + 1);
            for split in splits.iter_mut().take(count) {
                split.statements = self.statements(data);
                split.unterminated = self.unterminated(data);
            }
        } else {
            splits[0].statements = self.statements(data);
        }
        let parts = parts.then(|| {
            let len = self.usize();
            let at = self.at;
            for _ in 0..len {
                for _ in 0..4 {
                    self.varint();
                }
            }
            List { data, at, len }
        });
        EmbeddedSection {
            line,
            sql: text.cut(sql_len),
            start,
            splits,
            which,
            parts,
        }
    }

    /// The statements of a split; moves past them.
    fn statements(&mut self, data: Data) -> List {
        let len = self.usize();
        let bytes = self.usize();
        let at = self.at;
        self.skip(bytes);
        List { data, at, len }
    }

    /// What a split leaves unterminated; moves past it.
    fn unterminated(&mut self, data: Data) -> Option<(u32, EmbeddedUnclosed)> {
        let kind = self.varint();
        if kind == 0 {
            return None;
        }
        let line = self.varint();
        let open = match kind {
            2 => EmbeddedUnclosed::Quote('"'),
            3 => EmbeddedUnclosed::Quote('`'),
            4 => EmbeddedUnclosed::Quote('['),
            5 => EmbeddedUnclosed::EscapeString,
            6 => EmbeddedUnclosed::BlockComment,
            7 => {
                let (at, len) = (self.usize(), self.usize());
                EmbeddedUnclosed::DollarQuote(data.str(at, len))
            }
            _ => EmbeddedUnclosed::Quote('\''),
        };
        Some((line, open))
    }
}

/// Cuts a migration's strings off its text, one after the other.
struct Cutter {
    data: Data,
    at: usize,
}

impl Cutter {
    fn cut(&mut self, len: usize) -> &'static str {
        let s = self.data.str(self.at, len);
        self.at = self.at.saturating_add(len);
        s
    }
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
