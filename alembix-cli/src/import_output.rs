//! Writing imported revisions (from Alembic or diesel) as migration files: rendered
//! in the file format, checked with the core **before** anything is written, created
//! with `create_new` (never overwriting), then the folder is loaded again to verify.
//!
//! SQL that could not be imported becomes a placeholder that fails the build until a
//! person fills it: a `-- migrate:todo …` line, which the core rejects as an unknown
//! section marker (naming the file and line) in any section, the upgrade of a merge
//! and a downgrade included, where a comment alone would be valid. The folder-mode
//! commands that only read the history read past it, with a warning.
//!
//! An import for several dialects writes each section's dialect variants
//! (`-- migrate:upgrade postgresql`) and declares the dialects in the folder's
//! `alembix.toml` ([`SettingsPlan`]): written when missing, or already
//! declaring exactly those dialects; the folder is checked, and verified,
//! under the settings it ends up with.

use crate::folder::Context;
use alembix_core::scan::{read_settings, scan_folder};
use alembix_core::settings::{Dialects, Settings, SETTINGS_FILE};
use alembix_core::sql::SqlDialect;
use alembix_core::{GraphOptions, HeadPolicy, MigrationSet, SourceFile, TransactionMode};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The start of a placeholder line; the core refuses it as an unknown section marker,
/// and the folder-mode reading commands (`heads`, `history`…) read past it.
pub use alembix_core::set::PLACEHOLDER_MARKER;

/// The upgrade section of an imported revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upgrade {
    /// SQL statements, each terminated by `;`.
    Sql(String),
    /// The source applies nothing; the text says so (one line, no `--`).
    Nothing(String),
    /// The SQL is still to be written; the text says why and what to do (lines, no `--`).
    Placeholder(String),
}

/// The downgrade section of an imported revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Downgrade {
    /// SQL statements, each terminated by `;`.
    Sql(String),
    /// The source reverts nothing: written as a comment, a deliberate no-op.
    Nothing(String),
    /// The source cannot be reverted: `-- migrate:irreversible` and this comment.
    Irreversible(String),
    /// The SQL is still to be written; the text says why and what to do.
    Placeholder(String),
}

/// One revision to write, in the importer's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRevision {
    /// Where it came from, for the header comment and the report (a relative path).
    pub source: String,
    /// The revision id, kept as in the source.
    pub revision: String,
    /// Parents, in the source's order.
    pub down_revisions: Vec<String>,
    /// Branch labels declared on it.
    pub branch_labels: Vec<String>,
    /// Revisions or labels it depends on.
    pub depends_on: Vec<String>,
    /// The message: its first line is the `-- message:`, the others follow it as
    /// comment lines.
    pub message: String,
    /// When it was created, as the source says.
    pub create_date: Option<String>,
    /// Transaction mode.
    pub transaction: TransactionMode,
    /// The file name is `<name_prefix>_<slug of message>_<revision>.sql`.
    pub name_prefix: String,
    /// The upgrade section: what every dialect without a variant runs.
    pub upgrade: Upgrade,
    /// The upgrade's dialect variants (`-- migrate:upgrade postgresql`), in
    /// the order written.
    pub upgrade_variants: Vec<(SqlDialect, Upgrade)>,
    /// The downgrade section: what every dialect without a variant runs.
    pub downgrade: Downgrade,
    /// The downgrade's dialect variants; none when the default is
    /// [`Downgrade::Irreversible`] (a migration is irreversible everywhere).
    pub downgrade_variants: Vec<(SqlDialect, Downgrade)>,
}

impl ImportedRevision {
    /// Whether any section or variant is a placeholder.
    pub fn has_placeholder(&self) -> bool {
        std::iter::once(&self.upgrade)
            .chain(self.upgrade_variants.iter().map(|(_, u)| u))
            .any(|u| matches!(u, Upgrade::Placeholder(_)))
            || matches!(self.downgrade, Downgrade::Placeholder(_))
            || self
                .downgrade_variants
                .iter()
                .any(|(_, d)| matches!(d, Downgrade::Placeholder(_) | Downgrade::Irreversible(_)))
    }

    /// Whether either section has dialect variants.
    pub fn has_variants(&self) -> bool {
        !self.upgrade_variants.is_empty() || !self.downgrade_variants.is_empty()
    }

    /// The file name this revision is written to.
    pub fn file_name(&self) -> String {
        format!(
            "{}_{}_{}.sql",
            self.name_prefix,
            slug(&message_lines(&self.message).next().unwrap_or_default()),
            self.revision
        )
    }

    /// The file's text. `tool` names the command in comments (`import-alembic`),
    /// `program` the command line it ran under (`alembix`).
    pub fn render(&self, program: &str, tool: &str) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "-- revision: {}", self.revision);
        let parents = if self.down_revisions.is_empty() {
            "none".to_string()
        } else {
            self.down_revisions.join(", ")
        };
        let _ = writeln!(text, "-- down_revision: {parents}");
        if !self.branch_labels.is_empty() {
            let _ = writeln!(text, "-- branch_labels: {}", self.branch_labels.join(", "));
        }
        if !self.depends_on.is_empty() {
            let _ = writeln!(text, "-- depends_on: {}", self.depends_on.join(", "));
        }
        let mut message = message_lines(&self.message);
        if let Some(first) = message.next() {
            let _ = writeln!(text, "-- message: {first}");
        }
        for more in message {
            // Prose to the parser: its key part (`message (continued)`) is no key.
            let _ = writeln!(text, "-- {MESSAGE_CONTINUED}: {more}");
        }
        if let Some(date) = self.create_date.as_deref().map(one_line) {
            if !date.is_empty() {
                let _ = writeln!(text, "-- create_date: {date}");
            }
        }
        if self.transaction == TransactionMode::None {
            let _ = writeln!(text, "-- transaction: none");
        }
        let _ = writeln!(
            text,
            "-- Imported by `{program} {tool}` from {}",
            one_line(&self.source)
        );
        let merge = self.down_revisions.len() > 1;
        text.push_str("\n-- migrate:upgrade\n");
        push_upgrade(&mut text, &self.upgrade, None, merge, tool);
        for (dialect, upgrade) in &self.upgrade_variants {
            let _ = writeln!(text, "\n-- migrate:upgrade {dialect}");
            push_upgrade(&mut text, upgrade, Some(*dialect), merge, tool);
        }
        text.push('\n');
        match &self.downgrade {
            Downgrade::Irreversible(why) => {
                let _ = writeln!(text, "-- migrate:irreversible\n-- {}", one_line(why));
            }
            downgrade => {
                text.push_str("-- migrate:downgrade\n");
                push_downgrade(&mut text, downgrade, None, tool);
            }
        }
        for (dialect, downgrade) in &self.downgrade_variants {
            let _ = writeln!(text, "\n-- migrate:downgrade {dialect}");
            push_downgrade(&mut text, downgrade, Some(*dialect), tool);
        }
        text
    }
}

/// One upgrade part's body (`dialect`: the variant's, `None` for the default).
fn push_upgrade(
    text: &mut String,
    upgrade: &Upgrade,
    dialect: Option<SqlDialect>,
    merge: bool,
    tool: &str,
) {
    match upgrade {
        Upgrade::Sql(sql) => push_sql(text, sql),
        Upgrade::Nothing(why) if merge => {
            let _ = writeln!(text, "-- {}", one_line(why));
        }
        Upgrade::Nothing(why) => {
            let _ = writeln!(
                text,
                "-- {}\n-- `SELECT 1` keeps the section valid: an upgrade needs a statement.\nSELECT 1;",
                one_line(why)
            );
        }
        Upgrade::Placeholder(todo) => push_placeholder(text, tool, "upgrade", dialect, todo),
    }
}

/// One downgrade part's body; an irreversible one is only ever the whole
/// downgrade (see [`ImportedRevision::downgrade_variants`]).
fn push_downgrade(
    text: &mut String,
    downgrade: &Downgrade,
    dialect: Option<SqlDialect>,
    tool: &str,
) {
    match downgrade {
        Downgrade::Sql(sql) => push_sql(text, sql),
        Downgrade::Nothing(why) => {
            let _ = writeln!(text, "-- {}", one_line(why));
        }
        // Never a variant's by construction; if it were, a person decides.
        Downgrade::Irreversible(why) => push_placeholder(
            text,
            tool,
            "downgrade",
            dialect,
            &format!("{why}\nA migration is irreversible on every database or on none: write the SQL that reverts it here,\nor make the whole downgrade `-- migrate:irreversible`."),
        ),
        Downgrade::Placeholder(todo) => push_placeholder(text, tool, "downgrade", dialect, todo),
    }
}

fn push_sql(text: &mut String, sql: &str) {
    text.push_str(sql.trim_end());
    text.push('\n');
}

fn push_placeholder(
    text: &mut String,
    tool: &str,
    section: &str,
    dialect: Option<SqlDialect>,
    todo: &str,
) {
    for line in todo.lines() {
        let _ = writeln!(text, "-- TODO({tool}): {}", line.trim_end());
    }
    let for_dialect = dialect.map_or(String::new(), |d| format!(" for {d}"));
    let _ = writeln!(
        text,
        "{PLACEHOLDER_MARKER} ({tool}) write the {section} SQL{for_dialect} here, then delete this line"
    );
}

/// What starts each line of a message after the first.
const MESSAGE_CONTINUED: &str = "message (continued)";

/// The non-blank lines of a message, each as [`one_line`] makes it.
fn message_lines(message: &str) -> impl Iterator<Item = String> + '_ {
    message
        .split(['\r', '\n'])
        .map(one_line)
        .filter(|l| !l.is_empty())
}

/// `text` on one line, without the characters a header line may not hold
/// (controls such as an ANSI escape, bidi controls): an imported message
/// never makes a file that does not build.
fn one_line(text: &str) -> String {
    let allowed: String = text
        .chars()
        .filter(|&c| {
            matches!(c, '\r' | '\n')
                || alembix_core::file::check_header_text(c.encode_utf8(&mut [0; 4])).is_ok()
        })
        .collect();
    allowed
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The message as a file-name slug: lowercase words joined by `_`, at most 40
/// characters (the same rule as `new-migration`).
pub fn slug(message: &str) -> String {
    let mut out = String::new();
    for word in message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.len() + word.len() + 1 > 40 {
            break;
        }
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    if out.is_empty() {
        out.push_str("migration");
    }
    out
}

/// Checks that a body of imported SQL will not be read as part of the file format.
pub fn check_sql_body(sql: &str) -> Result<(), String> {
    match sql
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("-- migrate:"))
    {
        Some((n, l)) => Err(format!(
            "line {} is `{}`, which the migration file format would read as a section marker; change that comment",
            n + 1,
            l.trim()
        )),
        None => Ok(()),
    }
}

/// What becomes of the output folder's `alembix.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SettingsPlan {
    /// Nothing to write: no dialects were asked for, or the file declares
    /// exactly them. The folder is checked under these settings.
    Keep(Settings),
    /// The file is missing: written with this text, declaring these dialects.
    Write(Settings, String),
}

impl SettingsPlan {
    /// The settings the folder has once written.
    pub(crate) fn settings(&self) -> Settings {
        match self {
            SettingsPlan::Keep(s) | SettingsPlan::Write(s, _) => *s,
        }
    }
}

/// What to do with the `alembix.toml` of the folder `dir` (shown as
/// `shown_dir`) for an import that declares `dialects` (none: the folder's
/// own settings stay as they are): `Err` when the file cannot be read, or
/// declares other dialects, or exists without declaring any (it is never
/// rewritten). `tool` and `program` name the command in the written file.
pub(crate) fn settings_plan(
    dir: &Path,
    shown_dir: &Path,
    dialects: &[SqlDialect],
    program: &str,
    tool: &str,
) -> Result<SettingsPlan, String> {
    let shown_file = shown_dir.join(SETTINGS_FILE);
    let existing = match (dir.parent(), dir.file_name()) {
        // Not a folder (yet): nothing to read; `write_all` says what is wrong.
        _ if !dir.is_dir() => Settings::default(),
        (Some(root), Some(rel)) => read_settings(root, &rel.to_string_lossy()).map_err(|p| {
            format!(
                "{} cannot be read:\n{p}\nnothing was written",
                shown_file.display()
            )
        })?,
        _ => Settings::default(),
    };
    if dialects.is_empty() {
        return Ok(SettingsPlan::Keep(existing));
    }
    let wanted = Dialects::of(dialects);
    let asked: Vec<&str> = dialects.iter().map(|d| d.name()).collect();
    if existing.dialects.is_declared() {
        if existing.dialects == wanted {
            return Ok(SettingsPlan::Keep(existing));
        }
        return Err(format!(
            "{} declares the dialects {}, and the import is for {}: the imported files must have SQL for exactly the dialects the folder declares. Import for those (`--dialect` for each of them, or no --dialect to render for what it declares), or into another folder with --out; nothing was written",
            shown_file.display(),
            existing.dialects,
            asked.join(", ")
        ));
    }
    if dir.join(SETTINGS_FILE).exists() {
        return Err(format!(
            "{} declares no dialects, and the import is for {}: add `dialects = [{}]` to it (this command never rewrites a file), or import into another folder with --out; nothing was written",
            shown_file.display(),
            asked.join(", "),
            toml_list(dialects)
        ));
    }
    let text = format!(
        "# The databases this history is written for (`{program} {tool} --dialect …`):\n# every migration has SQL for each, its default section or a variant.\ndialects = [{}]\n",
        toml_list(dialects)
    );
    Ok(SettingsPlan::Write(Settings::with_dialects(wanted), text))
}

/// `"postgresql", "mysql"`.
fn toml_list(dialects: &[SqlDialect]) -> String {
    dialects
        .iter()
        .map(|d| format!("\"{d}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the folder looked like after writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The folder loads with the core: the history is valid.
    Valid,
    /// The folder fails to load only because of the placeholders in these files.
    OnlyPlaceholders(Vec<String>),
    /// Other problems (printed as the core reports them).
    Problems(String),
}

/// The result of [`write_all`].
#[derive(Debug, Clone)]
pub struct Written {
    /// The output folder as shown to the user.
    pub shown_dir: PathBuf,
    /// The file written for each revision, in the importer's order.
    pub files: Vec<String>,
    /// How many migrations the folder held before.
    pub existing: usize,
    /// The folder loaded again after writing.
    pub verification: Verification,
    /// Set when the build's default rule (one head, or one per branch label)
    /// refuses the history that Alembic's rule (any heads) accepts.
    pub heads_problem: Option<String>,
    /// The `alembix.toml` written, as shown, when one was.
    pub settings_written: Option<PathBuf>,
}

/// Writes `revisions` into `out` (default: the migrations folder found from the
/// current directory, or a new `migrations/` beside the nearest `Cargo.toml`):
/// checks first that no file or revision id is already there and that the history
/// loads with them (placeholders aside) under the folder's settings (with
/// `dialects`, declaring them: see [`settings_plan`]), then writes `alembix.toml`
/// if it is to be written, creates every file, then loads the folder.
pub(crate) fn write_all(
    context: &Context<'_>,
    out: Option<&Path>,
    revisions: &[ImportedRevision],
    dialects: &[SqlDialect],
    tool: &str,
) -> Result<Written, String> {
    let target = context.folder_to_write(out)?;
    // The core's help, naming the program the user runs.
    let name_program = |text: &str| alembix_core::problem::name_program(text, context.program);
    let dir = target.dir;
    let shown_dir = PathBuf::from(context.show(&dir));
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "--out `{}` is a file; give a folder for the migration files",
            shown_dir.display()
        ));
    }
    if let Some(why) = target.created_because.filter(|_| !dir.exists()) {
        println!("{why}");
    }
    let plan = settings_plan(&dir, &shown_dir, dialects, context.program, tool)?;
    let settings = plan.settings();
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the folder {}: {e}", shown_dir.display()))?;
    let (root, rel) = match (dir.parent(), dir.file_name()) {
        (Some(parent), Some(name)) => (parent.to_path_buf(), name.to_string_lossy().into_owned()),
        _ => return Err(format!("`{}` is not a folder path", dir.display())),
    };
    let folder_settings = read_settings(&root, &rel).unwrap_or_default();
    let options = GraphOptions {
        heads: HeadPolicy::Any,
    };
    // Placeholders left by an earlier import are probed, so they do not hide the
    // checks below.
    let existing: Vec<SourceFile> = scan_folder(&root, &rel)
        .map_err(|p| {
            format!(
                "the output folder {} cannot be read:\n{p}",
                shown_dir.display()
            )
        })?
        .into_iter()
        .map(|s| SourceFile {
            text: probe(&s.text),
            name: s.name,
        })
        .collect();
    let existing_set = MigrationSet::from_sources_with_settings(&existing, &options, &folder_settings).map_err(|p| {
        format!(
            "the output folder {} already holds migrations that do not load:\n{p}\nfix them first, or import into another folder with --out",
            shown_dir.display()
        )
    })?;

    // Everything is checked before the first file is written.
    let mut errors = Vec::new();
    let mut names = Vec::with_capacity(revisions.len());
    let mut sources = existing.clone();
    for rev in revisions {
        let name = rev.file_name();
        let path = dir.join(&name);
        if path.exists() {
            errors.push(format!(
                "{} already exists; this command never overwrites a file (move it away, or import into another folder with --out)",
                shown_dir.join(&name).display()
            ));
        }
        if let Some(i) = existing_set.graph().index_of(&rev.revision) {
            errors.push(format!(
                "revision {} (from {}) is already in {}: {}; was this history imported before? Import into an empty folder with --out",
                rev.revision,
                rev.source,
                shown_dir.display(),
                existing_set.file(i).file
            ));
        }
        let text = rev.render(context.program, tool);
        sources.push(SourceFile {
            name: format!("{rel}/{name}"),
            text: probe(&text),
        });
        names.push((name, text));
    }
    if !errors.is_empty() {
        return Err(format!("nothing was written:\n{}", errors.join("\n")));
    }
    if let Err(problems) = MigrationSet::from_sources_with_settings(&sources, &options, &settings) {
        return Err(format!(
            "nothing was written: the imported history would not load:\n{problems}"
        ));
    }

    let settings_written = match &plan {
        SettingsPlan::Keep(_) => None,
        SettingsPlan::Write(_, text) => {
            let path = dir.join(SETTINGS_FILE);
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(|e| {
                    format!(
                        "cannot write {}: {e}\nno file was written",
                        shown_dir.join(SETTINGS_FILE).display()
                    )
                })?;
            Some(shown_dir.join(SETTINGS_FILE))
        }
    };

    let mut files = Vec::with_capacity(names.len());
    for (name, text) in &names {
        let path = dir.join(name);
        let result = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = result {
            let done_files: Vec<&str> = settings_written
                .iter()
                .map(|_| SETTINGS_FILE)
                .chain(files.iter().map(String::as_str))
                .collect();
            let done = if done_files.is_empty() {
                "no file was written".to_string()
            } else {
                format!("already written: {}", done_files.join(", "))
            };
            return Err(format!(
                "cannot write {}: {e}\n{done}",
                shown_dir.join(name).display()
            ));
        }
        files.push(name.clone());
    }

    let verification = match verify(&root, &rel) {
        Verification::OnlyPlaceholders(files) => Verification::OnlyPlaceholders(
            files
                .iter()
                .map(|f| {
                    let name = f.strip_prefix(&format!("{rel}/")).unwrap_or(f);
                    shown_dir.join(name).display().to_string()
                })
                .collect(),
        ),
        Verification::Problems(problems) => Verification::Problems(name_program(&problems)),
        other => other,
    };
    let heads_problem = heads_problem(&root, &rel).map(|p| name_program(&p));
    Ok(Written {
        shown_dir,
        files,
        existing: existing.len(),
        verification,
        heads_problem,
        settings_written,
    })
}

/// The text with each placeholder line replaced by a statement, to check the history
/// without the placeholders.
fn probe(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with(PLACEHOLDER_MARKER) {
                "SELECT 1;"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads the folder with the core and its `alembix.toml`, as the macro will; when that fails, loads it
/// again with the placeholder lines probed, to tell placeholders from real problems
/// (a file that fails to parse also drops out of the graph, so its children would
/// report a gap).
fn verify(root: &Path, rel: &str) -> Verification {
    let options = GraphOptions {
        heads: HeadPolicy::Any,
    };
    let sources = match scan_folder(root, rel) {
        Ok(s) => s,
        Err(p) => return Verification::Problems(p.to_string()),
    };
    let settings = match read_settings(root, rel) {
        Ok(s) => s,
        Err(p) => return Verification::Problems(p.to_string()),
    };
    if MigrationSet::from_sources_with_settings(&sources, &options, &settings).is_ok() {
        return Verification::Valid;
    }
    let files: Vec<String> = sources
        .iter()
        .filter(|s| s.text.lines().any(|l| l.starts_with(PLACEHOLDER_MARKER)))
        .map(|s| s.name.clone())
        .collect();
    let probed: Vec<SourceFile> = sources
        .into_iter()
        .map(|s| SourceFile {
            text: probe(&s.text),
            name: s.name,
        })
        .collect();
    match MigrationSet::from_sources_with_settings(&probed, &options, &settings) {
        Ok(_) if !files.is_empty() => Verification::OnlyPlaceholders(files),
        Ok(_) => Verification::Problems("the folder loads only when probed".to_string()),
        Err(problems) => Verification::Problems(problems.to_string()),
    }
}

/// The multiple-heads problem the build's default head rule reports, if any
/// (placeholders probed, so only the graph counts).
fn heads_problem(root: &Path, rel: &str) -> Option<String> {
    let probed: Vec<SourceFile> = scan_folder(root, rel)
        .ok()?
        .into_iter()
        .map(|s| SourceFile {
            text: probe(&s.text),
            name: s.name,
        })
        .collect();
    let settings = read_settings(root, rel).ok()?;
    let problems =
        MigrationSet::from_sources_with_settings(&probed, &GraphOptions::default(), &settings)
            .err()?;
    let text: Vec<String> = problems
        .iter()
        .filter(|p| p.kind == alembix_core::ProblemKind::MultipleHeads)
        .map(ToString::to_string)
        .collect();
    (!text.is_empty()).then(|| text.join("\n"))
}

/// Prints the verification result and the next steps.
pub fn print_verification(written: &Written) {
    match &written.verification {
        Verification::Valid => println!(
            "verified: {} loads with alembix-core (the same check the build runs)",
            written.shown_dir.display()
        ),
        Verification::OnlyPlaceholders(files) => {
            println!(
                "verified: the history's graph is valid, but the build fails until the {} placeholder file(s) are filled:",
                files.len()
            );
            for f in files {
                println!("  {f}");
            }
            println!(
                "next: in each, write the SQL where a `{PLACEHOLDER_MARKER}` line stands and delete that line; meanwhile `heads`, `history`, `branches` and `show` can read the folder"
            );
        }
        Verification::Problems(problems) => {
            println!("the written folder does not load with alembix-core:\n{problems}");
        }
    }
    if let Some(problem) = &written.heads_problem {
        println!(
            "warning: the history is valid for Alembic (any number of heads), but the build's default rule refuses it:\n{problem}"
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use alembix_core::sql::SqlDialect;
    use alembix_core::ProblemKind;

    fn rev(upgrade: Upgrade, downgrade: Downgrade, parents: &[&str]) -> ImportedRevision {
        ImportedRevision {
            source: "versions/x.py".into(),
            revision: "abc123".into(),
            down_revisions: parents.iter().map(|p| p.to_string()).collect(),
            branch_labels: vec![],
            depends_on: vec![],
            message: "Add users: table".into(),
            create_date: Some("2024-01-02 03:04:05".into()),
            transaction: TransactionMode::PerMigration,
            name_prefix: "2024-01-02".into(),
            upgrade,
            upgrade_variants: Vec::new(),
            downgrade,
            downgrade_variants: Vec::new(),
        }
    }

    fn is_placeholder_problem(p: &alembix_core::Problem) -> bool {
        p.kind == ProblemKind::MalformedSections && p.message.contains("migrate:todo")
    }

    fn parse(
        r: &ImportedRevision,
    ) -> Result<alembix_core::MigrationFile, Vec<alembix_core::Problem>> {
        alembix_core::file::parse(
            &format!("m/{}", r.file_name()),
            &r.render("alembix", "import-test"),
        )
    }

    #[test]
    fn messages_lose_what_a_header_may_not_hold() {
        assert_eq!(
            one_line("add\u{1b}[31m users\r\n  table\u{202e}"),
            "add[31m users table"
        );
        assert_eq!(one_line("tab\tkept"), "tab\tkept");
    }

    #[test]
    fn rendered_files_parse() {
        let r = rev(
            Upgrade::Sql("CREATE TABLE t (id INT);".into()),
            Downgrade::Sql("DROP TABLE t;".into()),
            &[],
        );
        assert_eq!(r.file_name(), "2024-01-02_add_users_table_abc123.sql");
        let f = parse(&r).unwrap();
        assert_eq!(f.message, "Add users: table");
        assert_eq!(f.upgrade.statements(SqlDialect::Sqlite).len(), 1);
        let r = rev(
            Upgrade::Nothing("nothing here".into()),
            Downgrade::Irreversible("cannot".into()),
            &["p"],
        );
        let f = parse(&r).unwrap();
        assert_eq!(f.upgrade.statements(SqlDialect::Sqlite)[0].sql, "SELECT 1");
        assert!(f.downgrade.is_none());
        let r = rev(
            Upgrade::Nothing("merge".into()),
            Downgrade::Nothing("merge".into()),
            &["p", "q"],
        );
        assert!(parse(&r).unwrap().upgrade.is_empty());
    }

    #[test]
    fn placeholders_fail_in_every_section() {
        for r in [
            rev(
                Upgrade::Placeholder("fill me".into()),
                Downgrade::Nothing("x".into()),
                &["p"],
            ),
            rev(
                Upgrade::Placeholder("fill me".into()),
                Downgrade::Nothing("x".into()),
                &["p", "q"],
            ),
            rev(
                Upgrade::Sql("SELECT 2;".into()),
                Downgrade::Placeholder("fill me".into()),
                &[],
            ),
        ] {
            let problems = parse(&r).unwrap_err();
            assert!(problems.iter().any(is_placeholder_problem), "{problems:?}");
            assert!(
                problems
                    .iter()
                    .all(|p| is_placeholder_problem(p) || p.kind == ProblemKind::EmptyUpgrade),
                "{problems:?}"
            );
            assert!(
                alembix_core::file::parse("m/x_abc123.sql", &probe(&r.render("alembix", "t")))
                    .is_ok()
            );
        }
    }

    #[test]
    fn multi_line_messages_keep_the_first_line_and_the_rest_as_comments() {
        let mut r = rev(
            Upgrade::Sql("SELECT 1;".into()),
            Downgrade::Nothing("x".into()),
            &[],
        );
        r.message =
            "Add users\r\nNote: a colon here\n\nrevision: not a key\n-- migrate:upgrade\n".into();
        let text = r.render("alembix", "import-test");
        let f = parse(&r).unwrap_or_else(|p| panic!("{p:?}\n{text}"));
        assert_eq!(f.message, "Add users");
        assert_eq!(f.revision, "abc123");
        assert_eq!(f.upgrade.statements(SqlDialect::Sqlite).len(), 1);
        assert!(
            text.contains(
                "-- message: Add users\n-- message (continued): Note: a colon here\n-- message (continued): revision: not a key\n-- message (continued): -- migrate:upgrade\n"
            ),
            "{text}"
        );
        assert_eq!(r.file_name(), "2024-01-02_add_users_abc123.sql");
    }

    #[test]
    fn variants_follow_their_default_and_placeholders_stay_in_theirs() {
        let mut r = rev(
            Upgrade::Sql("CREATE TABLE t (id SERIAL);".into()),
            Downgrade::Sql("DROP TABLE t;".into()),
            &[],
        );
        r.upgrade_variants = vec![(
            SqlDialect::Mysql,
            Upgrade::Sql("CREATE TABLE t (id INT AUTO_INCREMENT);".into()),
        )];
        r.downgrade_variants = vec![(
            SqlDialect::Sqlite,
            Downgrade::Placeholder("sqlite failed".into()),
        )];
        assert!(r.has_placeholder() && r.has_variants());
        let text = r.render("alembix", "import-test");
        assert!(
            text.contains("-- migrate:upgrade\nCREATE TABLE t (id SERIAL);\n\n-- migrate:upgrade mysql\nCREATE TABLE t (id INT AUTO_INCREMENT);\n\n-- migrate:downgrade\nDROP TABLE t;\n\n-- migrate:downgrade sqlite\n-- TODO(import-test): sqlite failed\n-- migrate:todo (import-test) write the downgrade SQL for sqlite here, then delete this line\n"),
            "{text}"
        );
        let problems = parse(&r).unwrap_err();
        assert!(problems.iter().all(is_placeholder_problem), "{problems:?}");
        let f = alembix_core::file::parse("m/x_abc123.sql", &probe(&text)).unwrap();
        assert_eq!(
            f.upgrade.text(SqlDialect::Mysql).map(str::trim),
            Some("CREATE TABLE t (id INT AUTO_INCREMENT);")
        );
        assert_eq!(
            f.upgrade.text(SqlDialect::Postgres).map(str::trim),
            Some("CREATE TABLE t (id SERIAL);")
        );
        let down = f.downgrade.unwrap();
        assert_eq!(down.statements(SqlDialect::Sqlite)[0].sql, "SELECT 1");
        assert_eq!(down.statements(SqlDialect::Mysql)[0].sql, "DROP TABLE t");
    }

    #[test]
    fn alembix_toml_is_written_when_missing_and_must_agree_when_present() {
        use SqlDialect::{Mysql, Postgres};
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        let shown = Path::new("m");
        let plan = |dialects: &[SqlDialect]| settings_plan(&dir, shown, dialects, "alembix", "t");
        assert_eq!(plan(&[]).unwrap(), SettingsPlan::Keep(Settings::default()));
        let wanted = Settings::with_dialects(Dialects::of(&[Postgres, Mysql]));
        match plan(&[Postgres, Mysql]).unwrap() {
            SettingsPlan::Write(settings, text) => {
                assert_eq!(settings, wanted);
                assert!(
                    text.ends_with("dialects = [\"postgresql\", \"mysql\"]\n"),
                    "{text}"
                );
                assert_eq!(
                    alembix_core::settings::parse("m/alembix.toml", &text).unwrap(),
                    wanted
                );
            }
            other => panic!("{other:?}"),
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(SETTINGS_FILE),
            "dialects = [\"mysql\", \"postgresql\"]\n",
        )
        .unwrap();
        assert_eq!(
            plan(&[Postgres, Mysql]).unwrap(),
            SettingsPlan::Keep(wanted)
        );
        assert_eq!(plan(&[]).unwrap(), SettingsPlan::Keep(wanted));
        let err = plan(&[Postgres]).unwrap_err();
        assert!(
            err.starts_with("m/alembix.toml declares the dialects postgresql, mysql, and the import is for postgresql:"),
            "{err}"
        );
        std::fs::write(dir.join(SETTINGS_FILE), "# nothing yet\n").unwrap();
        let err = plan(&[Postgres]).unwrap_err();
        assert!(
            err.starts_with("m/alembix.toml declares no dialects, and the import is for postgresql: add `dialects = [\"postgresql\"]` to it"),
            "{err}"
        );
        std::fs::write(dir.join(SETTINGS_FILE), "dialect = 1\n").unwrap();
        let err = plan(&[]).unwrap_err();
        assert!(err.contains("unknown setting `dialect`"), "{err}");
    }

    #[test]
    fn sql_bodies_cannot_carry_markers() {
        assert!(check_sql_body("SELECT 1;\n  -- migrate:downgrade\n").is_err());
        assert!(check_sql_body("SELECT 1; -- migrate: later\n").is_ok());
    }
}
