//! The migration set `embed_migrations!` builds into the binary: `&'static` data.
//!
//! ```text
//! static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
//!     migrate_runtime::embed_migrations!("migrations");
//! ```
//!
//! The expansion is a constant expression, so it also fits a `const` or a `let`.
//!
//! The macro reads the folder (relative to the `Cargo.toml` of the crate that calls
//! it) with the same scan, parsing and graph validation that the runtime and the
//! xtask use ([`migrate_core::scan::scan_folder`] and
//! [`migrate_core::MigrationSet::from_sources`]). A history with a problem does not
//! build: every problem becomes its own compile error, naming the file and line
//! relative to the crate root and saying what to do, all reported in one build:
//!
//! ```text
//! error: migrations/2026-01-02_add_email_aaaaaaaaaaa3.sql:2: down_revision of revision aaaaaaaaaaa3 names aaaaaaaaaaa2, which is not in the history
//!        help: no migration declares revision aaaaaaaaaaa2: restore the missing file, or point down_revision at an existing revision (`cargo xtask heads` lists them)
//!  --> src/main.rs:4:76
//!   |
//! 4 | static MIGRATIONS: EmbeddedMigrations = migrate_runtime::embed_migrations!("migrations");
//!   |                                                                            ^^^^^^^^^^^^
//! ```
//!
//! Code that names the static gets no second error: on error the macro also
//! expands to an empty placeholder set.
//!
//! A valid history becomes an [`EmbeddedMigrations`]: every revision in load order
//! (sorted file names, as Alembic loads them) with its parents, labels,
//! dependencies, upgrade and downgrade SQL already split into statements, the
//! checksum of its upgrade computed at build time, and the heads. Launch parses
//! nothing; [`EmbeddedMigrations::to_set`] rebuilds the core's
//! [`MigrationSet`] from this data without reading or parsing SQL.
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

use migrate_core::file::HeaderLines;
use migrate_core::{Checksum, GraphOptions, MigrationFile, MigrationSet, Problems, Section};
use migrate_core::{Statement, TransactionMode};
use std::fmt;

/// A validated migration history embedded in the binary by `embed_migrations!`.
///
/// Holds every migration in load order and the heads, as `&'static` data: reading
/// it allocates nothing.
///
/// ```rust
/// use migrate_runtime::EmbeddedMigrations;
///
/// // A fixture of this crate's tests stands in for your `migrations` folder.
/// static MIGRATIONS: EmbeddedMigrations =
///     migrate_runtime::embed_migrations!("tests/ui/fixtures/merged");
///
/// assert_eq!(MIGRATIONS.len(), 8);
/// assert_eq!(MIGRATIONS.heads(), ["8192a3b4c5d6"]);
/// let merge = MIGRATIONS.get("6f708192a3b4").map(|m| m.down_revisions());
/// assert_eq!(merge, Some(&["5e6f708192a3", "4d5e6f708192"][..]));
/// let set = MIGRATIONS.to_set()?;
/// assert_eq!(set.graph().ids(set.graph().heads()), ["8192a3b4c5d6"]);
/// # Ok::<(), migrate_runtime::core::Problems>(())
/// ```
#[derive(Clone, Copy)]
pub struct EmbeddedMigrations {
    migrations: &'static [EmbeddedMigration],
    heads: &'static [&'static str],
}

impl EmbeddedMigrations {
    /// Used by the code `embed_migrations!` generates; not a public API.
    #[doc(hidden)]
    pub const fn __new(
        migrations: &'static [EmbeddedMigration],
        heads: &'static [&'static str],
    ) -> Self {
        EmbeddedMigrations { migrations, heads }
    }

    /// Every migration, in load order (sorted by file name, as Alembic loads them).
    pub const fn migrations(&self) -> &'static [EmbeddedMigration] {
        self.migrations
    }

    /// The revision ids of the heads (revisions no other revision names as its
    /// `down_revision`), in load order; computed at build time, so the launch
    /// path can compare them with the database without building the graph.
    pub const fn heads(&self) -> &'static [&'static str] {
        self.heads
    }

    /// How many migrations are embedded.
    pub const fn len(&self) -> usize {
        self.migrations.len()
    }

    /// Whether the folder held no migration at all.
    pub const fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// The migration with revision id `revision`, if it is embedded.
    pub fn get(&self, revision: &str) -> Option<&'static EmbeddedMigration> {
        self.migrations.iter().find(|m| m.revision() == revision)
    }

    /// Rebuilds the core's [`MigrationSet`] (parsed files and the validated graph)
    /// from the embedded data, for planning.
    ///
    /// No SQL is read or parsed again: the files are rebuilt from the static data
    /// and only the graph is linked, with the same rules (and the default
    /// [`GraphOptions`]) that the macro checked at build time, so this succeeds for
    /// any set the macro produced.
    pub fn to_set(&self) -> Result<MigrationSet, Problems> {
        let files = self
            .migrations
            .iter()
            .map(EmbeddedMigration::to_file)
            .collect();
        MigrationSet::from_files(files, &GraphOptions::default())
    }
}

impl fmt::Debug for EmbeddedMigrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedMigrations")
            .field("migrations", &self.migrations)
            .field("heads", &self.heads)
            .finish()
    }
}

/// One embedded migration: the header, both sections and the checksum.
#[derive(Clone, Copy)]
pub struct EmbeddedMigration {
    revision: Slice,
    down_revisions: &'static [&'static str],
    branch_labels: &'static [&'static str],
    depends_on: &'static [&'static str],
    message: Slice,
    create_date: Option<Slice>,
    file: Slice,
    transaction: TransactionMode,
    header_lines: [u32; 4],
    upgrade: EmbeddedSection,
    downgrade: Option<EmbeddedSection>,
    checksum: Slice,
}

impl EmbeddedMigration {
    /// Used by the code `embed_migrations!` generates; not a public API.
    ///
    /// Each `[start, end]` is a range of `text`; `create_date` is `[0, 0, 0]`
    /// when absent, `[1, start, end]` otherwise.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        text: &'static str,
        revision: [u32; 2],
        down_revisions: &'static [&'static str],
        branch_labels: &'static [&'static str],
        depends_on: &'static [&'static str],
        message: [u32; 2],
        create_date: [u32; 3],
        file: [u32; 2],
        transaction: TransactionMode,
        header_lines: [u32; 4],
        upgrade: EmbeddedSection,
        downgrade: Option<EmbeddedSection>,
        checksum: [u32; 2],
    ) -> Self {
        EmbeddedMigration {
            revision: Slice::new(text, revision),
            down_revisions,
            branch_labels,
            depends_on,
            message: Slice::new(text, message),
            create_date: match create_date {
                [0, _, _] => None,
                [_, start, end] => Some(Slice::new(text, [start, end])),
            },
            file: Slice::new(text, file),
            transaction,
            header_lines,
            upgrade,
            downgrade,
            checksum: Slice::new(text, checksum),
        }
    }

    /// Used by the code `embed_migrations!` generates; not a public API.
    ///
    /// The section is `text[range[0]..range[1]]`, its marker on line `line`.
    #[doc(hidden)]
    pub const fn __section(
        text: &'static str,
        line: u32,
        range: [u32; 2],
        statements: &'static [EmbeddedStatement],
    ) -> EmbeddedSection {
        EmbeddedSection {
            text: Slice::new(text, range),
            line,
            statements,
        }
    }

    /// The revision id.
    pub fn revision(&self) -> &'static str {
        self.revision.get()
    }

    /// The revisions this one builds on (`down_revision`): none for a base,
    /// several for a merge.
    pub const fn down_revisions(&self) -> &'static [&'static str] {
        self.down_revisions
    }

    /// The branch labels declared in this file.
    pub const fn branch_labels(&self) -> &'static [&'static str] {
        self.branch_labels
    }

    /// Revisions or branch labels that must be applied first (`depends_on`).
    pub const fn depends_on(&self) -> &'static [&'static str] {
        self.depends_on
    }

    /// The one-line description from the `message:` header (empty when absent).
    pub fn message(&self) -> &'static str {
        self.message.get()
    }

    /// The `create_date:` header as written, if any.
    pub fn create_date(&self) -> Option<&'static str> {
        self.create_date.map(|d| d.get())
    }

    /// The file it came from, relative to the embedding crate's root
    /// (e.g. `migrations/2026-01-02_add_users_a1b2c3d4e5f6.sql`).
    pub fn file(&self) -> &'static str {
        self.file.get()
    }

    /// Whether it runs in one transaction with its bookkeeping.
    pub const fn transaction(&self) -> TransactionMode {
        self.transaction
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
    pub const fn upgrade(&self) -> &EmbeddedSection {
        &self.upgrade
    }

    /// The downgrade section; `None` when the file says `-- migrate:irreversible`.
    pub const fn downgrade(&self) -> Option<&EmbeddedSection> {
        self.downgrade.as_ref()
    }

    /// Whether the migration can be reverted (it has a downgrade section).
    pub const fn is_reversible(&self) -> bool {
        self.downgrade.is_some()
    }

    /// The checksum of the upgrade section computed at build time (`sha256:…`),
    /// to compare with the one recorded when it was applied.
    pub fn checksum(&self) -> &'static str {
        self.checksum.get()
    }

    /// The core's parsed form of this migration, rebuilt without parsing.
    pub fn to_file(&self) -> MigrationFile {
        MigrationFile {
            file: self.file().to_string(),
            revision: self.revision().to_string(),
            down_revisions: strings(self.down_revisions),
            branch_labels: strings(self.branch_labels),
            depends_on: strings(self.depends_on),
            message: self.message().to_string(),
            create_date: self.create_date().map(str::to_string),
            transaction: self.transaction,
            lines: self.header_lines(),
            upgrade: self.upgrade.core_section(),
            downgrade: self.downgrade.as_ref().map(EmbeddedSection::core_section),
            checksum: Checksum::from_stored(self.checksum()),
        }
    }
}

impl fmt::Debug for EmbeddedMigration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedMigration")
            .field("revision", &self.revision())
            .field("down_revisions", &self.down_revisions)
            .field("branch_labels", &self.branch_labels)
            .field("depends_on", &self.depends_on)
            .field("message", &self.message())
            .field("create_date", &self.create_date())
            .field("file", &self.file())
            .field("transaction", &self.transaction)
            .field("upgrade", &self.upgrade)
            .field("downgrade", &self.downgrade)
            .field("checksum", &self.checksum())
            .finish()
    }
}

/// The upgrade or downgrade section of an embedded migration.
#[derive(Clone, Copy)]
pub struct EmbeddedSection {
    text: Slice,
    line: u32,
    statements: &'static [EmbeddedStatement],
}

impl EmbeddedSection {
    /// The 1-based line of the section's marker (`-- migrate:upgrade`) in the file.
    pub const fn line(&self) -> u32 {
        self.line
    }

    /// The section's whole text as written after its marker (line endings
    /// normalized to `\n`), comments included.
    pub fn sql(&self) -> &'static str {
        self.text.get()
    }

    /// The statements of the section, in order, without their `;`.
    pub const fn statements(&self) -> &'static [EmbeddedStatement] {
        self.statements
    }

    fn core_section(&self) -> Section {
        Section {
            line: self.line,
            sql: self.sql().to_string(),
            statements: self
                .statements
                .iter()
                .map(|s| Statement {
                    line: s.line,
                    sql: s.sql().to_string(),
                })
                .collect(),
        }
    }
}

impl fmt::Debug for EmbeddedSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedSection")
            .field("line", &self.line)
            .field("sql", &self.sql())
            .field("statements", &self.statements)
            .finish()
    }
}

/// One SQL statement of an embedded section.
#[derive(Clone, Copy)]
pub struct EmbeddedStatement {
    text: Slice,
    line: u32,
}

impl EmbeddedStatement {
    /// Used by the code `embed_migrations!` generates; not a public API.
    ///
    /// The statement is `text[start..end]`, starting on line `line` of its file.
    #[doc(hidden)]
    pub const fn __new(text: &'static str, line: u32, start: u32, end: u32) -> Self {
        EmbeddedStatement {
            text: Slice::new(text, [start, end]),
            line,
        }
    }

    /// The 1-based line in the migration file where the statement starts.
    pub const fn line(&self) -> u32 {
        self.line
    }

    /// The statement's text, trimmed, without its terminating `;`.
    pub fn sql(&self) -> &'static str {
        self.text.get()
    }
}

impl fmt::Debug for EmbeddedStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedStatement")
            .field("line", &self.line)
            .field("sql", &self.sql())
            .finish()
    }
}

/// A range of the text all of a set's strings are cut from.
///
/// The macro writes every section, id, file name, message and checksum once into
/// one string constant and points into it, so the binary holds each text once and
/// rustc builds one constant instead of thousands.
#[derive(Clone, Copy)]
struct Slice {
    text: &'static str,
    start: u32,
    end: u32,
}

impl Slice {
    const fn new(text: &'static str, [start, end]: [u32; 2]) -> Self {
        Slice { text, start, end }
    }

    fn get(&self) -> &'static str {
        let range = usize::try_from(self.start).unwrap_or(usize::MAX)
            ..usize::try_from(self.end).unwrap_or(usize::MAX);
        // The macro only writes ranges it cut itself, on char boundaries.
        self.text.get(range).unwrap_or_default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}
