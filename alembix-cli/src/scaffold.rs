//! `new-migration` and `merge`: write a new migration file chained onto the history.

use crate::autogenerate;
use crate::folder::Context;
use crate::import_output::slug;
use alembix_core::file::{check_header_text, check_label, check_revision_id};
use alembix_core::plan::{new_revision_parents, resolve_depends_on};
use alembix_core::scan::{read_settings, scan_folder};
use alembix_core::{GraphOptions, HeadPolicy, MigrationSet, Settings, SourceFile, SqlDialect};
use alembix_runtime::schema::Rename;
use clap::Args;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Arguments of `new-migration`.
#[derive(Debug, Clone, Args)]
pub struct NewMigration {
    /// One-line description; also names the file.
    #[arg(short, long)]
    message: String,
    /// The revision to build on (default: the single head); `base` starts a new root.
    #[arg(long)]
    head: Option<String>,
    /// Branch label(s) for the new revision.
    #[arg(long = "branch-label")]
    branch_labels: Vec<String>,
    /// Revision(s) or branch label(s) that must be applied first.
    #[arg(long = "depends-on")]
    depends_on: Vec<String>,
    /// Allow `--head` to name a revision that is not a head (starts a new branch).
    #[arg(long)]
    splice: bool,
    /// Use this revision id instead of a fresh random one.
    #[arg(long)]
    rev_id: Option<String>,
    /// Run the migration outside a transaction (`-- transaction: none`).
    #[arg(long)]
    no_transaction: bool,
    /// Add an upgrade and a downgrade variant for this dialect (`sqlite`,
    /// `postgresql`, `mysql`), beside the portable default; repeat for several.
    #[arg(long = "variant", value_name = "DIALECT", value_parser = dialect_name)]
    variants: Vec<SqlDialect>,
    /// Keep a historical date (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, UTC) for
    /// `create_date` and the file name, e.g. when re-creating a file.
    #[arg(long, value_name = "DATE", value_parser = create_date)]
    create_date: Option<String>,
    /// Write the SQL: what changes from the schema the history produces to
    /// the schema the model describes (`--model`), upgrade and downgrade,
    /// for each declared dialect. Nothing is written when nothing differs.
    #[arg(long, conflicts_with = "variants")]
    autogenerate: bool,
    /// The model: a diesel `schema.rs`, or a `schema.sql` holding the whole
    /// desired DDL [default: the crate's src/schema.rs, else schema.sql in
    /// the migrations folder].
    #[arg(long, value_name = "FILE", requires = "autogenerate")]
    model: Option<PathBuf>,
    /// A rename, never guessed: `table.old_column=new_column` or
    /// `old_table=new_table`; repeat for several.
    #[arg(long = "rename", value_name = "RENAME", requires = "autogenerate")]
    renames: Vec<Rename>,
    /// A server to replay on, for each dialect other than SQLite (which
    /// replays in memory): a scratch database is created there and dropped.
    #[arg(long = "db", value_name = "URL", requires = "autogenerate")]
    databases: Vec<String>,
    /// Write SQL for these dialects only [default: those alembix.toml
    /// declares, else sqlite].
    #[arg(long = "dialect", value_name = "DIALECT", value_parser = dialect_name, requires = "autogenerate")]
    dialects: Vec<SqlDialect>,
    /// The dialect whose diesel types a schema.rs model holds (the one
    /// print-schema printed it for) [default: sqlite when written for, else
    /// the first dialect].
    #[arg(long, value_name = "DIALECT", value_parser = dialect_name, requires = "autogenerate")]
    model_dialect: Option<SqlDialect>,
}

/// `--variant`: a dialect name as section markers write it.
pub(crate) fn dialect_name(value: &str) -> Result<SqlDialect, String> {
    SqlDialect::from_name(value.trim()).ok_or_else(|| {
        format!(
            "unknown dialect `{value}`: the dialects are {}{}",
            alembix_core::sql::DIALECT_NAMES,
            alembix_core::sql::near_dialect(value)
        )
    })
}

/// `--create-date`: `YYYY-MM-DD`, optionally followed by ` HH:MM:SS` (or
/// `THH:MM:SS`); normalized to `YYYY-MM-DD HH:MM:SS`.
fn create_date(value: &str) -> Result<String, String> {
    let value = value.trim();
    let (date, time) = match value.split_once([' ', 'T']) {
        Some((date, time)) => (date, time.trim()),
        None => (value, "00:00:00"),
    };
    let numbers = |text: &str, sep: char, widths: &[usize]| -> Option<Vec<u32>> {
        let parts: Vec<&str> = text.split(sep).collect();
        (parts.len() == widths.len()
            && parts
                .iter()
                .zip(widths)
                .all(|(p, &w)| p.len() == w && p.bytes().all(|b| b.is_ascii_digit())))
        .then(|| parts.iter().filter_map(|p| p.parse().ok()).collect())
    };
    let ymd = numbers(date, '-', &[4, 2, 2]);
    let hms = numbers(time, ':', &[2, 2, 2]);
    match (ymd.as_deref(), hms.as_deref()) {
        (Some(&[_, month, day]), Some(&[hour, minute, second]))
            if (1..=12).contains(&month)
                && (1..=31).contains(&day)
                && hour < 24
                && minute < 60
                && second < 60 =>
        {
            Ok(format!("{date} {time}"))
        }
        _ => Err(format!(
            "`{value}` is not a date: write `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC)"
        )),
    }
}

/// Arguments of `merge`.
#[derive(Debug, Clone, Args)]
pub struct Merge {
    /// One-line description; also names the file.
    #[arg(short, long, default_value = "merge heads")]
    message: String,
    /// The heads to merge (default: all heads).
    revisions: Vec<String>,
    /// Use this revision id instead of a fresh random one.
    #[arg(long)]
    rev_id: Option<String>,
}

/// A migrations folder loaded with the core, tolerating several heads.
struct Folder<'a> {
    dir: PathBuf,
    sources: Vec<SourceFile>,
    set: MigrationSet,
    root: PathBuf,
    rel: String,
    /// Set when the folder is still to be created: why it goes where it goes.
    create: Option<String>,
    context: &'a Context<'a>,
}

/// Loads `dir`; a folder still to be created (`create`) is an empty history.
fn load<'a>(
    context: &'a Context<'a>,
    dir: PathBuf,
    create: Option<String>,
) -> Result<Folder<'a>, String> {
    let (root, rel) = match (dir.parent(), dir.file_name()) {
        (Some(parent), Some(name)) => (parent.to_path_buf(), name.to_string_lossy().into_owned()),
        _ => return Err(format!("`{}` is not a folder path", dir.display())),
    };
    let (sources, settings) = match create {
        Some(_) => (Vec::new(), Settings::default()),
        None => (
            scan_folder(&root, &rel).map_err(|p| p.to_string())?,
            read_settings(&root, &rel).map_err(|p| p.to_string())?,
        ),
    };
    let options = GraphOptions {
        heads: HeadPolicy::Any,
    };
    let set = MigrationSet::from_sources_with_settings(&sources, &options, &settings)
        .map_err(|p| format!("{p}\nfix these first; then run the command again"))?;
    Ok(Folder {
        dir,
        sources,
        set,
        root,
        rel,
        create,
        context,
    })
}

/// Runs `new-migration`: in the folder found, or in a `migrations/` made beside
/// the nearest `Cargo.toml` when there is none.
pub(crate) fn new_migration(args: &NewMigration, context: &Context<'_>) -> Result<(), String> {
    let target = context.folder_to_write(None)?;
    let folder = load(context, target.dir, target.created_because)?;
    let graph = folder.set.graph();
    let heads: Vec<&str> = args.head.iter().map(String::as_str).collect();
    let parents = if heads == ["base"] {
        Vec::new()
    } else {
        let parents =
            new_revision_parents(graph, &heads, args.splice).map_err(|e| e.to_string())?;
        graph.ids(&parents)
    };
    for label in &args.branch_labels {
        check_label(label).map_err(|why| format!("branch label `{label}` {why}"))?;
    }
    let depends: Vec<&str> = args.depends_on.iter().map(String::as_str).collect();
    let depends_on = resolve_depends_on(graph, &depends).map_err(|e| e.to_string())?;
    let mut draft = Draft {
        message: &args.message,
        parents,
        branch_labels: args.branch_labels.clone(),
        depends_on,
        no_transaction: args.no_transaction,
        variants: args.variants.clone(),
        merge: false,
        create_date: args.create_date.as_deref(),
        bodies: None,
    };
    if !args.autogenerate {
        return write(&folder, &draft, args.rev_id.as_deref()).map(|_| ());
    }
    let model = autogenerate::model_path(args.model.as_deref(), &folder.dir)?;
    let shown = context.show(&model);
    let migrator = autogenerate::migrator(folder.set.clone())?;
    let declared: Vec<SqlDialect> = if folder.set.settings().dialects.is_declared() {
        folder.set.settings().dialects.allowed().collect()
    } else {
        Vec::new()
    };
    let request = autogenerate::Request {
        renames: &args.renames,
        databases: &args.databases,
        dialects: &args.dialects,
        model_dialect: args.model_dialect,
    };
    let generated = autogenerate::generate(&migrator, &request, &model, &shown, declared)?;
    for note in &generated.notes {
        println!("note: {note}");
    }
    if generated.is_empty() {
        println!(
            "nothing to write: the history at its heads already has the schema {shown} describes"
        );
        return Ok(());
    }
    draft.bodies = Some(bodies(&generated));
    let parent = draft.parents.first().cloned();
    let revision = write(&folder, &draft, args.rev_id.as_deref())?;
    // Proven on the history as it now is, the new file included.
    let folder = load(context, folder.dir.clone(), None)?;
    let migrator = autogenerate::migrator(folder.set.clone())?;
    match autogenerate::prove(&migrator, &generated, &revision, parent.as_deref()) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            println!("next: review it (every DESTRUCTIVE statement above all), then build");
            Ok(())
        }
        Err(why) => Err(format!(
            "{why}\nthe file is kept for you to fix: review its SQL, or delete it and run the command again"
        )),
    }
}

/// A file's sections from the generated SQL of each dialect: each
/// section's default is the text most dialects share, the others are
/// variants. A dialect with nothing to change runs a no-op.
fn bodies(generated: &autogenerate::Generated) -> Bodies {
    let text = |sql: &str, dialect: SqlDialect| {
        if sql.is_empty() {
            format!("-- nothing changes on {dialect}\nSELECT 1;\n")
        } else {
            sql.to_string()
        }
    };
    let split = |pick: fn(&(SqlDialect, String, String)) -> &String| {
        let parts: Vec<(SqlDialect, String)> = generated
            .parts
            .iter()
            .map(|p| (p.0, text(pick(p), p.0)))
            .collect();
        crate::import_dialects::default_and_variants(parts, |_| false).unwrap_or_default()
    };
    Bodies {
        upgrade: split(|p| &p.1),
        downgrade: split(|p| &p.2),
    }
}

/// Runs `merge`.
pub(crate) fn merge(args: &Merge, context: &Context<'_>) -> Result<(), String> {
    let folder = load(context, context.existing_folder()?, None)?;
    let graph = folder.set.graph();
    let revisions: Vec<&str> = if args.revisions.is_empty() {
        vec!["heads"]
    } else {
        args.revisions.iter().map(String::as_str).collect()
    };
    let parents = new_revision_parents(graph, &revisions, false).map_err(|e| e.to_string())?;
    if parents.len() < 2 {
        return Err(format!(
            "nothing to merge: the history has {} head(s) ({}); a merge needs two or more",
            graph.heads().len(),
            graph.ids(graph.heads()).join(", ")
        ));
    }
    let draft = Draft {
        message: &args.message,
        parents: graph.ids(&parents),
        branch_labels: Vec::new(),
        depends_on: Vec::new(),
        no_transaction: false,
        variants: Vec::new(),
        merge: true,
        create_date: None,
        bodies: None,
    };
    write(&folder, &draft, args.rev_id.as_deref()).map(|_| ())
}

struct Draft<'a> {
    message: &'a str,
    parents: Vec<String>,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    no_transaction: bool,
    /// `--variant`s: dialects that get their own sections.
    variants: Vec<SqlDialect>,
    merge: bool,
    /// `--create-date`, normalized; `None`: now.
    create_date: Option<&'a str>,
    /// The sections' SQL (autogenerate); `None`: empty sections to fill.
    bodies: Option<Bodies>,
}

/// Each section's default SQL and its dialect variants.
struct Bodies {
    upgrade: (String, Vec<(SqlDialect, String)>),
    downgrade: (String, Vec<(SqlDialect, String)>),
}

/// The `-m` message as its header line holds it: line breaks become spaces;
/// other control characters (a terminal escape, a bell) are refused, as the
/// file format refuses them.
fn message_value(message: &str) -> Result<String, String> {
    let value = message.replace(['\r', '\n'], " ");
    check_header_text(&value).map_err(|why| {
        format!(
            "the message (-m) {why}; write it as plain text (tab is allowed): it goes into the file's header, and the commands print it"
        )
    })?;
    Ok(value)
}

/// Renders the new file, checks the history still validates with it, and
/// creates it; its revision id.
fn write(folder: &Folder<'_>, draft: &Draft<'_>, rev_id: Option<&str>) -> Result<String, String> {
    let message = message_value(draft.message)?;
    let graph = folder.set.graph();
    let revision = match rev_id {
        Some(id) => {
            check_revision_id(id).map_err(|why| format!("revision id `{id}` {why}"))?;
            if graph.index_of(id).is_some() {
                return Err(format!("revision id {id} is already used"));
            }
            id.to_string()
        }
        None => loop {
            let id = fresh_revision_id();
            if graph.index_of(&id).is_none() {
                break id;
            }
        },
    };
    let now = Utc::now();
    let created = match draft.create_date {
        Some(date) => date.to_string(),
        None => format!("{} {}", now.date(), now.time()),
    };
    let day = created.split(' ').next().unwrap_or_default();
    let file_name = format!("{day}_{}_{revision}.sql", slug(draft.message));
    let mut text = String::new();
    let _ = writeln!(text, "-- revision: {revision}");
    let parents = if draft.parents.is_empty() {
        "none".to_string()
    } else {
        draft.parents.join(", ")
    };
    let _ = writeln!(text, "-- down_revision: {parents}");
    if !draft.branch_labels.is_empty() {
        let _ = writeln!(text, "-- branch_labels: {}", draft.branch_labels.join(", "));
    }
    if !draft.depends_on.is_empty() {
        let _ = writeln!(text, "-- depends_on: {}", draft.depends_on.join(", "));
    }
    let _ = writeln!(text, "-- message: {message}");
    let _ = writeln!(text, "-- create_date: {created}");
    if draft.no_transaction {
        let _ = writeln!(text, "-- transaction: none");
    }
    let mut variants = draft.variants.clone();
    variants.sort();
    variants.dedup();
    match &draft.bodies {
        None => {
            for section in ["upgrade", "downgrade"] {
                let _ = write!(text, "\n-- migrate:{section}\n");
                for dialect in &variants {
                    let _ = write!(text, "\n-- migrate:{section} {dialect}\n");
                }
            }
        }
        Some(bodies) => {
            for (section, (default, variants)) in [
                ("upgrade", &bodies.upgrade),
                ("downgrade", &bodies.downgrade),
            ] {
                let _ = write!(text, "\n-- migrate:{section}\n{default}");
                for (dialect, sql) in variants {
                    let _ = write!(text, "\n-- migrate:{section} {dialect}\n{sql}");
                }
            }
        }
    }

    // The history with the new file must still load (a merge must be complete; a new
    // file that is still empty is expected to fail only for its empty sections).
    let mut sources = folder.sources.clone();
    let name = format!("{}/{file_name}", folder.rel);
    let probe = if draft.merge || draft.bodies.is_some() {
        text.clone()
    } else {
        text.lines()
            .map(|line| {
                if line.starts_with("-- migrate:") {
                    format!("{line}\nSELECT 1;\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect::<String>()
    };
    sources.push(SourceFile {
        name: name.clone(),
        text: probe,
    });
    let options = GraphOptions {
        heads: if draft.merge || draft.parents.is_empty() {
            HeadPolicy::OnePerBranchLabel
        } else {
            HeadPolicy::Any
        },
    };
    if let Err(problems) =
        MigrationSet::from_sources_with_settings(&sources, &options, folder.set.settings())
    {
        return Err(format!(
            "the history would not be valid with this migration:\n{problems}"
        ));
    }

    let context = folder.context;
    if let Some(why) = &folder.create {
        std::fs::create_dir_all(&folder.dir)
            .map_err(|e| format!("cannot create the folder {}: {e}", folder.dir.display()))?;
        println!("{why}");
    }
    let path = folder.dir.join(&file_name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    // Where the file went, as the reader can open it from here.
    let shown = context.show(&path);
    println!("created {shown} (revision {revision}, down_revision {parents})");
    ensure_build_script(folder);
    if !draft.merge && draft.bodies.is_none() {
        println!("next: write its SQL after `-- migrate:upgrade` and the SQL that reverts it after `-- migrate:downgrade`");
    }
    Ok(revision)
}

/// Makes sure the crate that embeds `folder` rebuilds when a file is added to it.
///
/// `embed_migrations!` tracks edits and deletions itself; a stable proc macro
/// cannot see a new file, so the embedding crate needs one `build.rs` line. We
/// create `build.rs` when the crate has none, and otherwise only say what to add.
fn ensure_build_script(folder: &Folder<'_>) {
    let crate_dir = &folder.root;
    if !crate_dir.join("Cargo.toml").is_file() {
        return;
    }
    let line = format!("cargo:rerun-if-changed={}", folder.rel);
    let path = crate_dir.join("build.rs");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.contains(&line) => {}
        Ok(_) => println!(
            "note: add `println!(\"{line}\");` to {} so the next build sees new migration files",
            folder.context.show(&path)
        ),
        Err(_) => {
            let text = format!(
                "//! Rebuilds this crate when a migration file is added to `{rel}/`\n//! (`embed_migrations!` tracks edits and deletions by itself).\n\nfn main() {{\n    println!(\"{line}\");\n}}\n",
                rel = folder.rel
            );
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .and_then(|mut f| f.write_all(text.as_bytes()));
            match created {
                Ok(()) => println!(
                    "created {} so that new migration files are embedded by the next build",
                    folder.context.show(&path)
                ),
                Err(e) => println!("note: could not create {}: {e}", folder.context.show(&path)),
            }
        }
    }
}

/// A fresh 12-hex-digit revision id, like Alembic's.
fn fresh_revision_id() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// The current UTC date and time, without a date crate.
struct Utc {
    secs: u64,
}

impl Utc {
    fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Utc { secs }
    }

    /// `YYYY-MM-DD`, from days since 1970-01-01 (Howard Hinnant's civil_from_days).
    fn date(&self) -> String {
        let days = i64::try_from(self.secs / 86_400).unwrap_or(0);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!("{year:04}-{month:02}-{day:02}")
    }

    /// `HH:MM:SS`.
    fn time(&self) -> String {
        let s = self.secs % 86_400;
        format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn slug_keeps_words_and_length() {
        assert_eq!(slug("Add users table!"), "add_users_table");
        assert_eq!(slug("   "), "migration");
        assert!(slug(&"word ".repeat(40)).len() <= 40);
    }

    #[test]
    fn create_dates_are_checked_and_normalized() {
        assert_eq!(create_date("2019-03-04").unwrap(), "2019-03-04 00:00:00");
        assert_eq!(
            create_date("2019-03-04T05:06:07").unwrap(),
            "2019-03-04 05:06:07"
        );
        assert_eq!(
            create_date(" 2019-03-04 05:06:07 ").unwrap(),
            "2019-03-04 05:06:07"
        );
        for bad in [
            "2019-3-4",
            "2019-13-01",
            "2019-03-04 25:00:00",
            "yesterday",
            "2019-03-04 05:06",
            "",
        ] {
            let err = create_date(bad).unwrap_err();
            assert!(err.contains("YYYY-MM-DD"), "{bad}: {err}");
        }
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(Utc { secs: 0 }.date(), "1970-01-01");
        assert_eq!(Utc { secs: 951_782_400 }.date(), "2000-02-29");
        assert_eq!(
            Utc {
                secs: 1_795_305_600 + 3_661
            }
            .time(),
            "01:01:01"
        );
    }

    #[test]
    fn messages_with_control_characters_are_refused() {
        assert_eq!(
            message_value("add users\tand\r\nroles").as_deref(),
            Ok("add users\tand  roles")
        );
        for bad in [
            "\u{1b}[31mred\u{1b}[0m",
            "bell\u{7}",
            "nul\u{0}",
            "\u{202e}txt.exe",
        ] {
            let err = message_value(bad).unwrap_err();
            assert!(
                err.starts_with("the message (-m) holds the control character U+"),
                "{err}"
            );
        }
    }

    #[test]
    fn new_migration_refuses_an_escape_in_the_message_and_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("alembix-cli-scaffold-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let args = NewMigration {
            message: "\u{1b}[2Jcleared".to_string(),
            head: Some("base".to_string()),
            branch_labels: Vec::new(),
            depends_on: Vec::new(),
            splice: false,
            rev_id: None,
            no_transaction: false,
            variants: Vec::new(),
            create_date: None,
            autogenerate: false,
            model: None,
            renames: Vec::new(),
            databases: Vec::new(),
            dialects: Vec::new(),
            model_dialect: None,
        };
        let context = Context::new("alembix", Some(&dir)).unwrap();
        let err = new_migration(&args, &context).unwrap_err();
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.contains("U+001B"), "{err}");
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_historical_create_date_names_the_file_and_the_header() {
        let dir =
            std::env::temp_dir().join(format!("alembix-cli-create-date-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let args = NewMigration {
            message: "create users".to_string(),
            head: Some("base".to_string()),
            branch_labels: Vec::new(),
            depends_on: Vec::new(),
            splice: false,
            rev_id: Some("c0ffee000001".to_string()),
            no_transaction: false,
            variants: Vec::new(),
            create_date: Some("2019-03-04 05:06:07".to_string()),
            autogenerate: false,
            model: None,
            renames: Vec::new(),
            databases: Vec::new(),
            dialects: Vec::new(),
            model_dialect: None,
        };
        let context = Context::new("alembix", Some(&dir)).unwrap();
        new_migration(&args, &context).unwrap();
        let path = dir.join("2019-03-04_create_users_c0ffee000001.sql");
        let text = std::fs::read_to_string(&path);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            text.unwrap()
                .contains("-- create_date: 2019-03-04 05:06:07\n"),
            "{path:?}"
        );
    }

    #[test]
    fn fresh_ids_are_valid_and_differ() {
        let a = fresh_revision_id();
        let b = fresh_revision_id();
        assert_eq!(a.len(), 12);
        assert!(check_revision_id(&a).is_ok());
        assert_ne!(a, b);
    }
}
