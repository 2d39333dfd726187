//! A migration set: parsed files plus the validated graph over them.
//!
//! This is the one entry point the macro, the runtime (folder mode) and the
//! xtask call, so a rule checked at build time and at launch can never drift.

use crate::file::HeaderLines;
use crate::file::{self, MigrationFile};
use crate::graph::{Declaration, Graph, GraphOptions, HeadPolicy, RevIdx, RevisionSpec};
use crate::problem::{Origin, Problem, ProblemKind, Problems};
use crate::settings::{Settings, SETTINGS_FILE};
use crate::sql::SqlDialect;
use std::borrow::Cow;
use std::num::NonZeroUsize;
use std::sync::{Mutex, OnceLock, PoisonError};

/// An importer's placeholder line (SQL still to be written); the parser refuses it as an unknown marker.
pub const PLACEHOLDER_MARKER: &str = "-- migrate:todo";

/// A file handed to the core: a name relative to the crate or project root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the root, with `/` separators (used in every message).
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// Parsed migration files and their validated graph; `files[i]` is revision `i`.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    files: Vec<MigrationFile>,
    graph: Graph,
    settings: Settings,
}

impl MigrationSet {
    /// Parses and validates `sources`, reporting every problem of every file at once.
    ///
    /// Load order is the order of file names (sorted), as Alembic's.
    pub fn from_sources(
        sources: &[SourceFile],
        options: &GraphOptions,
    ) -> Result<MigrationSet, Problems> {
        Self::from_sources_on(sources, options, &Settings::default(), Workers::available())
    }

    /// [`MigrationSet::from_sources`] for a history with `settings` (its
    /// `alembix.toml`): every migration must also have SQL for each dialect
    /// the settings declare, and no variant for another.
    pub fn from_sources_with_settings(
        sources: &[SourceFile],
        options: &GraphOptions,
        settings: &Settings,
    ) -> Result<MigrationSet, Problems> {
        Self::from_sources_on(sources, options, settings, Workers::available())
    }

    /// [`MigrationSet::from_sources_with_settings`], parsing the files on `workers`.
    fn from_sources_on(
        sources: &[SourceFile],
        options: &GraphOptions,
        settings: &Settings,
        workers: Workers,
    ) -> Result<MigrationSet, Problems> {
        // File names computed once, not on every comparison.
        let mut keyed: Vec<(&str, &SourceFile)> =
            sources.iter().map(|s| (file_name(&s.name), s)).collect();
        keyed.sort_by(|(a_name, a), (b_name, b)| a_name.cmp(b_name).then(a.name.cmp(&b.name)));
        // Each file parses on its own; the results come back in load order, so
        // files and problems are the same on any number of threads.
        let parsed = workers.map_in_order(
            &keyed,
            || (),
            // A failure is rare: boxed, so a result is no bigger than a file.
            |(), (_, source)| {
                file::parse(&source.name, &source.text)
                    .and_then(|f| {
                        let problems = check_file(&f, settings);
                        if problems.is_empty() {
                            Ok(f)
                        } else {
                            Err(problems)
                        }
                    })
                    .map_err(|ps| Box::new((ps, stand_in(source))))
            },
        );
        let mut problems: Vec<Problem> = Vec::new();
        let mut files = Vec::with_capacity(keyed.len());
        let mut stand_ins = Vec::new();
        for result in parsed {
            match result {
                Ok(f) => files.push(f),
                Err(failed) => {
                    let (mut ps, stand_in) = *failed;
                    problems.append(&mut ps);
                    stand_ins.extend(stand_in);
                }
            }
        }
        let mut specs: Vec<Declared<'_>> = files.iter().map(Declared::File).collect();
        let mut options = *options;
        if !problems.is_empty() {
            // A file that failed to parse still declares its revision as far as we can
            // read it, so the files that build on it get no second, misleading "names
            // X, which is not in the history". Heads are not judged on a partial history.
            specs.extend(stand_ins.into_iter().map(Declared::StandIn));
            options.heads = HeadPolicy::Any;
        }
        match Graph::build_from(specs, &options, workers) {
            Ok(graph) if problems.is_empty() => {
                // Graph::build drops nothing when it succeeds, so indices line up.
                Ok(MigrationSet {
                    files,
                    graph,
                    settings: *settings,
                })
            }
            Ok(_) => Err(Problems(problems)),
            Err(Problems(mut more)) => {
                problems.append(&mut more);
                Err(Problems(problems))
            }
        }
    }

    /// Validates already-parsed files (e.g. an embedded set turned back into files).
    pub fn from_files(
        mut files: Vec<MigrationFile>,
        options: &GraphOptions,
    ) -> Result<MigrationSet, Problems> {
        files.sort_by(|a, b| {
            file_name(&a.file)
                .cmp(file_name(&b.file))
                .then(a.file.cmp(&b.file))
        });
        let specs = files.iter().map(Declared::File).collect();
        let graph = Graph::build_from(specs, options, Workers::available())?;
        Ok(MigrationSet {
            files,
            graph,
            settings: Settings::default(),
        })
    }

    /// The set with `settings` (those its files were checked against when
    /// they were parsed: an embedded set carries the ones the macro read).
    pub fn with_settings(mut self, settings: Settings) -> MigrationSet {
        self.settings = settings;
        self
    }

    /// The history's settings (its `alembix.toml`): the dialects it declares.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Parses the SQL every declared dialect runs, and checks it can run the
    /// way the migration runs it ([`crate::sql_check`]); every problem of
    /// every file at once. A history that declares no dialect is not checked.
    /// A section a dialect reads as unterminated is skipped (it has its own
    /// problem, or is refused on that database at run time).
    #[cfg(feature = "sql-check")]
    pub fn check_sql(&self) -> Result<(), Problems> {
        self.check_sql_cached(&|_| false).1
    }

    /// [`MigrationSet::check_sql`], skipping the sections `passed` says
    /// passed before: each (section text, dialect, transaction mode) has a
    /// [`SqlCheckKey`], which also covers the checker's version. Returns the
    /// keys of every section that passes now (checked or skipped), for the
    /// caller to remember.
    #[cfg(feature = "sql-check")]
    pub fn check_sql_cached(
        &self,
        passed: &(dyn Fn(&SqlCheckKey) -> bool + Sync),
    ) -> (Vec<SqlCheckKey>, Result<(), Problems>) {
        let dialects = self.settings.dialects;
        if !dialects.is_declared() {
            return (Vec::new(), Ok(()));
        }
        let checked = Workers::available().map_in_order(
            &self.files,
            || (),
            |(), f| {
                let mut problems: Vec<Problem> = Vec::new();
                let mut good: Vec<SqlCheckKey> = Vec::new();
                for (index, section) in std::iter::once(&f.upgrade).chain(&f.downgrade).enumerate()
                {
                    // One problem for the dialects that find the same one in
                    // the same text: "as sqlite, postgresql SQL".
                    let mut seen: Vec<(Problem, String, Vec<&str>)> = Vec::new();
                    // Each part's text hashed once, whatever the dialects
                    // that run it (an upgrade's is its checksum, computed).
                    let mut digests: Vec<(Option<SqlDialect>, crate::Checksum)> = Vec::new();
                    for dialect in dialects.allowed() {
                        let (Some(text), Some(part)) =
                            (section.text(dialect), section.part(dialect))
                        else {
                            continue;
                        };
                        if section.unterminated(dialect).is_some() {
                            continue;
                        }
                        let digest = match digests.iter().find(|(d, _)| *d == part.dialect) {
                            Some((_, digest)) => digest.clone(),
                            None => {
                                let digest = if index == 0 {
                                    f.checksum(dialect).clone()
                                } else {
                                    crate::Checksum::of_sql(text)
                                };
                                digests.push((part.dialect, digest.clone()));
                                digest
                            }
                        };
                        let key = SqlCheckKey::of(dialect, f.transaction, digest.as_str());
                        if passed(&key) {
                            good.push(key);
                            continue;
                        }
                        let found = crate::sql_check::check_section(
                            &f.file,
                            dialect,
                            f.transaction,
                            text,
                            section.statements(dialect),
                        );
                        if found.is_empty() {
                            good.push(key);
                        }
                        for p in found {
                            let key =
                                p.message
                                    .replacen(&format!(" as {dialect} SQL"), " as {} SQL", 1);
                            match seen
                                .iter_mut()
                                .find(|(q, k, _)| *k == key && q.line == p.line && q.kind == p.kind)
                            {
                                Some((_, _, names)) => names.push(dialect.name()),
                                None => seen.push((p, key, vec![dialect.name()])),
                            }
                        }
                    }
                    for (mut p, key, names) in seen {
                        if names.len() > 1 && key.contains(" as {} SQL") {
                            let all = names.join(", ");
                            p.message = key.replacen("{}", &all, 1);
                            p.help = p.help.map(|h| {
                                h.replacen(
                                    &format!("if {} accepts it", names[0]),
                                    &format!("if {all} accept it"),
                                    1,
                                )
                            });
                        }
                        problems.push(p);
                    }
                }
                problems.sort_by_key(|p| p.line);
                (good, problems)
            },
        );
        let mut good = Vec::new();
        let mut problems = Vec::new();
        for (g, p) in checked {
            good.extend(g);
            problems.extend(p);
        }
        let result = if problems.is_empty() {
            Ok(())
        } else {
            Err(Problems(problems))
        };
        (good, result)
    }

    /// The validated graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The parsed files, in load order (index = [`RevIdx`]).
    pub fn files(&self) -> &[MigrationFile] {
        &self.files
    }

    /// The file of revision `idx`.
    pub fn file(&self, idx: RevIdx) -> &MigrationFile {
        &self.files[idx]
    }
}

/// What decides whether a section passes the SQL check, besides the
/// checker's version ([`crate::sql_check::CHECKER_VERSION`], which a cache
/// of keys must record beside them): the dialect, the transaction mode and
/// the text (by its checksum). Equal keys have equal outcomes, so a build may
/// skip a section whose key passed before.
#[cfg(feature = "sql-check")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SqlCheckKey(pub String);

#[cfg(feature = "sql-check")]
impl SqlCheckKey {
    /// The key of the text whose checksum ([`crate::Checksum::of_sql`]) is
    /// `text_checksum`, checked for `dialect` in a migration run `transaction`:
    /// `<dialect> <transaction> <checksum>`.
    pub fn of(
        dialect: SqlDialect,
        transaction: crate::TransactionMode,
        text_checksum: &str,
    ) -> SqlCheckKey {
        SqlCheckKey(format!(
            "{} {} {text_checksum}",
            dialect.name(),
            transaction.as_str()
        ))
    }
}

/// What the history's settings ask of one parsed file: SQL for every dialect
/// it may run on (each declared one, or every dialect when nothing is
/// declared), and no variant for a dialect the history does not declare.
fn check_file(f: &MigrationFile, settings: &Settings) -> Vec<Problem> {
    let dialects = settings.dialects;
    let mut problems = Vec::new();
    let sections = [
        ("upgrade", Some(&f.upgrade)),
        ("downgrade", f.downgrade.as_ref()),
    ];
    for (name, section) in sections {
        let Some(section) = section else { continue };
        if !section.has_variants() {
            continue;
        }
        let missing: Vec<&str> = dialects
            .allowed()
            .filter(|&d| section.part(d).is_none())
            .map(SqlDialect::name)
            .collect();
        if !missing.is_empty() {
            let first = missing.first().copied().unwrap_or("sqlite");
            let help = if dialects.is_declared() {
                format!("add `-- migrate:{name} {first}` and its SQL, or a default `-- migrate:{name}` that the dialects without a variant run")
            } else {
                format!("add a default `-- migrate:{name}` that the dialects without a variant run, or declare the dialects the history runs on in `{SETTINGS_FILE}` in the migrations folder (`dialects = [\"postgresql\"]`)")
            };
            problems.push(
                Problem::new(
                    ProblemKind::MissingDialect,
                    format!(
                        "the {name} section has no SQL for {} (it has variants and no default)",
                        missing.join(", ")
                    ),
                )
                .at(&f.file, Some(section.line))
                .help(help),
            );
        }
        if dialects.is_declared() {
            for part in &section.parts {
                match part.dialect {
                    Some(d) if !dialects.allows(d) => problems.push(
                        Problem::new(
                            ProblemKind::MissingDialect,
                            format!("a `{d}` variant, but the history declares {dialects} only"),
                        )
                        .at(&f.file, Some(part.line))
                        .help(format!(
                            "add `{d}` to `dialects` in `{SETTINGS_FILE}`, or remove the variant"
                        )),
                    ),
                    _ => {}
                }
            }
        }
    }
    problems
}

/// What a file that failed to parse declares, read leniently from its header:
/// its revision id and, when readable, its `down_revision`.
fn stand_in(source: &SourceFile) -> Option<RevisionSpec> {
    let mut revision = None;
    let mut down_revisions = Vec::new();
    for (index, line) in source.text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.starts_with("-- migrate:") {
            break;
        }
        let Some((key, value)) = line.strip_prefix("--").and_then(|l| l.split_once(':')) else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "revision" if file::check_revision_id(value).is_ok() => {
                revision = Some((
                    value.to_string(),
                    u32::try_from(index + 1).unwrap_or(u32::MAX),
                ));
            }
            "down_revision" => {
                let ids: Vec<String> = value.split(',').map(|v| v.trim().to_string()).collect();
                if ids.iter().all(|id| file::check_revision_id(id).is_ok()) {
                    down_revisions = ids;
                }
            }
            _ => {}
        }
    }
    let (revision, line) = revision?;
    Some(RevisionSpec {
        revision,
        down_revisions,
        origin: Origin::file(source.name.clone(), line),
        ..RevisionSpec::default()
    })
}

/// What the graph reads of a revision of a set: a parsed file (read in place,
/// as [`spec_of`] would copy it), or what a file that failed to parse declares.
enum Declared<'a> {
    File(&'a MigrationFile),
    StandIn(RevisionSpec),
}

impl Declaration for Declared<'_> {
    fn revision(&self) -> &str {
        match self {
            Declared::File(f) => &f.revision,
            Declared::StandIn(s) => &s.revision,
        }
    }
    fn down_revisions(&self) -> &[String] {
        match self {
            Declared::File(f) => &f.down_revisions,
            Declared::StandIn(s) => &s.down_revisions,
        }
    }
    fn branch_labels(&self) -> &[String] {
        match self {
            Declared::File(f) => &f.branch_labels,
            Declared::StandIn(s) => &s.branch_labels,
        }
    }
    fn depends_on(&self) -> &[String] {
        match self {
            Declared::File(f) => &f.depends_on,
            Declared::StandIn(s) => &s.depends_on,
        }
    }
    fn lines(&self) -> HeaderLines {
        match self {
            Declared::File(f) => f.lines,
            Declared::StandIn(s) => s.lines,
        }
    }
    fn origin(&self) -> Cow<'_, Origin> {
        match self {
            Declared::File(f) => Cow::Owned(file_origin(f)),
            Declared::StandIn(s) => Cow::Borrowed(&s.origin),
        }
    }
    fn into_parts(self) -> (String, Vec<String>, Vec<String>, Origin) {
        match self {
            Declared::File(f) => (
                f.revision.clone(),
                f.branch_labels.clone(),
                f.depends_on.clone(),
                file_origin(f),
            ),
            Declared::StandIn(s) => s.into_parts(),
        }
    }
}

fn file_origin(f: &MigrationFile) -> Origin {
    Origin::file(f.file.clone(), f.lines.revision)
}

/// The graph input for one parsed file.
pub fn spec_of(f: &MigrationFile) -> RevisionSpec {
    RevisionSpec {
        revision: f.revision.clone(),
        down_revisions: f.down_revisions.clone(),
        branch_labels: f.branch_labels.clone(),
        depends_on: f.depends_on.clone(),
        origin: file_origin(f),
        lines: f.lines,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The results of [`Workers::map_in_order`], block after block: moved out
/// once, never gathered into one more vector.
pub(crate) type InOrder<U> = std::iter::Flatten<std::vec::IntoIter<Vec<U>>>;

/// How many threads a per-file stage (reading, parsing) may use, and how many
/// files a thread takes at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Workers {
    /// Threads, the calling one included.
    pub(crate) threads: usize,
    /// Items a thread claims at once; fewer than two blocks of work run on the
    /// calling thread alone, so small histories spawn no thread.
    pub(crate) block: usize,
}

impl Workers {
    /// One thread per available core (asked once per process), 256 items a block.
    pub(crate) fn available() -> Workers {
        static THREADS: OnceLock<usize> = OnceLock::new();
        Workers {
            threads: *THREADS
                .get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get)),
            block: 256,
        }
    }

    /// The same threads with blocks `factor` times larger, for work so cheap per
    /// item that a thread is only worth starting for many of them.
    pub(crate) fn coarser(self, factor: usize) -> Workers {
        Workers {
            block: self.block.saturating_mul(factor),
            ..self
        }
    }

    /// `f` applied to every item, in the items' order, on up to `self.threads`
    /// threads. Each thread claims blocks of items in turn (a busy core gets
    /// fewer) and keeps one `state` (e.g. a read buffer) for all its items.
    pub(crate) fn map_in_order<T: Sync, U: Send, S>(
        self,
        items: &[T],
        state: impl Fn() -> S + Sync,
        f: impl Fn(&mut S, &T) -> U + Sync,
    ) -> InOrder<U> {
        let block = self.block.max(1);
        let count = items.len().div_ceil(block);
        let done = self.for_each_block(items.chunks(block), count, state, |state, chunk| {
            chunk.iter().map(|item| f(state, item)).collect::<Vec<U>>()
        });
        done.into_iter().flatten()
    }

    /// `f` applied to each of the `count` blocks `blocks` yields, on up to
    /// `self.threads` threads that claim the next block as they become free;
    /// the results are in the blocks' order. Fewer than two blocks run on the
    /// calling thread alone.
    fn for_each_block<B: Send, R: Send, S>(
        self,
        blocks: impl Iterator<Item = B> + Send,
        count: usize,
        state: impl Fn() -> S + Sync,
        f: impl Fn(&mut S, B) -> R + Sync,
    ) -> Vec<R> {
        let threads = self.threads.min(count);
        if threads <= 1 {
            let mut state = state();
            return blocks.map(|b| f(&mut state, b)).collect();
        }
        let queue = Mutex::new(blocks.enumerate());
        let work = || {
            let mut state = state();
            let mut done: Vec<(usize, R)> = Vec::new();
            loop {
                let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                let Some((index, b)) = next else {
                    break;
                };
                done.push((index, f(&mut state, b)));
            }
            done
        };
        let mut done = std::thread::scope(|scope| {
            // A thread that cannot be started leaves its share to the others.
            let helpers: Vec<_> = (1..threads)
                .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
                .collect();
            let mut done = work();
            for helper in helpers {
                match helper.join() {
                    Ok(mut more) => done.append(&mut more),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            done
        });
        // Each thread returns the blocks it claimed; put them back in order.
        done.sort_unstable_by_key(|(index, _)| *index);
        done.into_iter().map(|(_, result)| result).collect()
    }
}

#[cfg(all(test, feature = "sql-check"))]
mod sql_check_cache_tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::settings::Dialects;

    fn set(upgrade: &str) -> MigrationSet {
        let source = SourceFile {
            name: "m/0001_a_aaaaaaaaaaa1.sql".to_string(),
            text: format!(
                "-- revision: aaaaaaaaaaa1\n-- down_revision: none\n\n-- migrate:upgrade\n{upgrade}\n\n-- migrate:downgrade\nDROP TABLE t;\n"
            ),
        };
        let settings =
            Settings::with_dialects(Dialects::of(&[SqlDialect::Sqlite, SqlDialect::Postgres]));
        MigrationSet::from_sources_with_settings(&[source], &GraphOptions::default(), &settings)
            .unwrap()
    }

    #[test]
    fn a_section_that_passed_is_skipped_and_only_passing_keys_come_back() {
        let good = set("CREATE TABLE t (id INTEGER);");
        let (keys, result) = good.check_sql_cached(&|_| false);
        assert!(result.is_ok());
        // Two sections, two dialects.
        assert_eq!(keys.len(), 4);
        let bad = set("CREAT TABLE t (id INTEGER);");
        let (bad_keys, result) = bad.check_sql_cached(&|_| false);
        assert!(result.is_err());
        // Only the downgrades passed.
        assert_eq!(bad_keys.len(), 2);
        assert!(bad_keys.iter().all(|k| keys.contains(k)));
        // A key that passed is not checked again (here: a verdict forced
        // through the cache, which a real cache could only hold for text that
        // passed).
        let (_, forced) = bad.check_sql_cached(&|_| true);
        assert!(forced.is_ok());
    }

    #[test]
    fn the_key_covers_dialect_transaction_and_text() {
        let key = SqlCheckKey::of(
            SqlDialect::Postgres,
            crate::TransactionMode::PerMigration,
            "SELECT 1;",
        );
        assert_eq!(
            key,
            SqlCheckKey::of(
                SqlDialect::Postgres,
                crate::TransactionMode::PerMigration,
                "SELECT 1;"
            )
        );
        assert_ne!(
            key,
            SqlCheckKey::of(
                SqlDialect::Mysql,
                crate::TransactionMode::PerMigration,
                "SELECT 1;"
            )
        );
        assert_ne!(
            key,
            SqlCheckKey::of(
                SqlDialect::Postgres,
                crate::TransactionMode::None,
                "SELECT 1;"
            )
        );
        assert_ne!(
            key,
            SqlCheckKey::of(
                SqlDialect::Postgres,
                crate::TransactionMode::PerMigration,
                "SELECT 2;"
            )
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use proptest::prelude::*;

    /// `from_sources` as it was before it parsed on several threads and read
    /// the parsed files in place: sequential, through [`spec_of`] and [`Graph::build`].
    fn reference_from_sources(
        sources: &[SourceFile],
        options: &GraphOptions,
    ) -> Result<MigrationSet, Problems> {
        let mut keyed: Vec<(&str, &SourceFile)> =
            sources.iter().map(|s| (file_name(&s.name), s)).collect();
        keyed.sort_by(|(a_name, a), (b_name, b)| a_name.cmp(b_name).then(a.name.cmp(&b.name)));
        let mut problems: Vec<Problem> = Vec::new();
        let mut files = Vec::new();
        let mut stand_ins = Vec::new();
        for (_, source) in keyed {
            match file::parse(&source.name, &source.text) {
                Ok(f) => files.push(f),
                Err(mut ps) => {
                    problems.append(&mut ps);
                    stand_ins.extend(stand_in(source));
                }
            }
        }
        let mut specs: Vec<RevisionSpec> = files.iter().map(spec_of).collect();
        let mut options = *options;
        if !problems.is_empty() {
            specs.extend(stand_ins);
            options.heads = HeadPolicy::Any;
        }
        match Graph::build(specs, &options) {
            Ok(graph) if problems.is_empty() => Ok(MigrationSet {
                files,
                graph,
                settings: Settings::default(),
            }),
            Ok(_) => Err(Problems(problems)),
            Err(Problems(mut more)) => {
                problems.append(&mut more);
                Err(Problems(problems))
            }
        }
    }

    /// What a test compares of a set: files, and everything the graph answers.
    fn summary(set: &MigrationSet) -> impl PartialEq + std::fmt::Debug + '_ {
        let g = set.graph();
        let lookups: Vec<Option<RevIdx>> = g
            .revisions()
            .iter()
            .map(|r| g.index_of(&r.id))
            .chain([g.index_of("nothing"), g.index_of("")])
            .collect();
        let mut labels: Vec<(&str, RevIdx)> = g.branch_labels().collect();
        labels.sort_unstable();
        (
            set.files(),
            g.revisions(),
            (g.heads(), g.real_heads(), g.bases()),
            (0..g.len())
                .map(|i| (g.parents(i), g.followers(i)))
                .collect::<Vec<_>>(),
            lookups,
            labels,
        )
    }

    fn assert_same_as_before(sources: &[SourceFile], options: &GraphOptions) {
        let before = reference_from_sources(sources, options);
        for threads in 1..=4 {
            for block in [1, 2, 5] {
                let workers = Workers { threads, block };
                let now =
                    MigrationSet::from_sources_on(sources, options, &Settings::default(), workers);
                match (&now, &before) {
                    (Ok(now), Ok(before)) => {
                        assert_eq!(summary(now), summary(before), "{workers:?}");
                    }
                    (Err(now), Err(before)) => assert_eq!(now, before, "{workers:?}"),
                    _ => panic!(
                        "{workers:?}: {:?} but before {:?}",
                        now.is_ok(),
                        before.is_ok()
                    ),
                }
            }
        }
    }

    /// One generated file: its id, parents, labels and dependencies among a
    /// few ids (so duplicates, gaps, loops and clashes all happen), and maybe a flaw.
    fn source() -> impl Strategy<Value = SourceFile> {
        let id = || proptest::sample::select(vec!["a1", "b2", "c3", "d4", "e5", "f6"]);
        (
            id(),
            proptest::collection::vec(id(), 0..3),
            proptest::collection::vec(proptest::sample::select(vec!["x", "y", "a1"]), 0..2),
            proptest::collection::vec(id(), 0..2),
            0u8..12,
            "[a-z]{0,3}",
        )
            .prop_map(|(id, down, labels, deps, flaw, folder)| {
                let down = if down.is_empty() {
                    "none".to_string()
                } else {
                    down.join(", ")
                };
                let mut header = vec![
                    format!("-- revision: {id}"),
                    format!("-- down_revision: {down}"),
                ];
                if !labels.is_empty() {
                    header.push(format!("-- branch_labels: {}", labels.join(",")));
                }
                if !deps.is_empty() {
                    header.push(format!("-- depends_on: {}", deps.join(",")));
                }
                let mut body =
                    "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n".to_string();
                match flaw {
                    0 => {
                        header.remove(1);
                    }
                    1 => header.push("-- revison: typo".to_string()),
                    2 => {
                        body = "-- migrate:upgrade\n-- nothing\n-- migrate:downgrade\n".to_string()
                    }
                    3 => body = "SELECT 0;\n".to_string() + &body,
                    4 => header[0] = "-- revision: bad-id".to_string(),
                    _ => {}
                }
                let name = if flaw == 5 {
                    "other".to_string()
                } else {
                    id.to_string()
                };
                let folder = if folder.is_empty() {
                    String::new()
                } else {
                    format!("{folder}/")
                };
                SourceFile {
                    name: format!("m/{folder}{name}.sql"),
                    text: header.join("\n") + "\n\n" + &body,
                }
            })
    }

    proptest! {
        #[test]
        fn parallel_parse_gives_the_same_set_or_problems_as_before(
            sources in proptest::collection::vec(source(), 0..14),
            any_heads in any::<bool>(),
        ) {
            let heads = if any_heads { HeadPolicy::Any } else { HeadPolicy::OnePerBranchLabel };
            assert_same_as_before(&sources, &GraphOptions { heads });
        }
    }

    #[test]
    fn a_long_chain_parses_the_same_on_any_workers() {
        let sources: Vec<SourceFile> = (0..600)
            .map(|i| {
                let down = if i == 0 { "none".to_string() } else { format!("r{}", i - 1) };
                SourceFile {
                    name: format!("m/{i:04}_r{i}.sql"),
                    text: format!(
                        "-- revision: r{i}\n-- down_revision: {down}\n-- migrate:upgrade\nCREATE TABLE t{i} (id int);\n-- migrate:downgrade\nDROP TABLE t{i};\n"
                    ),
                }
            })
            .collect();
        assert_same_as_before(&sources, &GraphOptions::default());
    }
}
