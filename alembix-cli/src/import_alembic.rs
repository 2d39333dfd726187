//! `import-alembic PATH`: turn an Alembic project's versions folder into
//! migration files with the **same** revision ids, parents (merge order kept),
//! branch labels, `depends_on` and messages, so a database that Alembic manages can
//! be continued by our runtime without re-baselining.
//!
//! The pipeline, one stage after the other:
//!
//! 1. **locate**: PATH is a project (a folder with `alembic.ini`, or the ini file), a
//!    script folder (with `env.py`), or a versions folder. The ini gives
//!    `script_location`, `version_locations` and `recursive_version_locations`;
//!    relative locations are resolved against the current directory, as Alembic
//!    resolves them (and Alembic runs there too).
//! 2. **load**: where Alembic can run, the headers come from Alembic's own loading
//!    of the scripts, which executes each module: a header that names a constant
//!    of the project's own code (`branch_labels = (cli.EXPAND_BRANCH,)`) is
//!    evaluated as Alembic evaluates it. Where it cannot (`--skip-sql`, no
//!    alembic.ini, no Python with Alembic, or Alembic fails to load them), every
//!    file is read statically ([`crate::python`]), which takes literal headers only.
//!    Every file is read statically anyway, for what its functions' bodies do.
//! 3. **validate**: ids and labels against our format, then the graph with the same
//!    core code the build uses; every problem of every file is reported at once.
//! 4. **SQL**: the same Python process renders the whole history in offline mode
//!    ([`crate::alembic_driver`]): upgrading from base to the heads and downgrading
//!    from the heads to base, each revision's step captured on its own. A revision
//!    that raises fails alone and the run goes on past it, so a history takes one
//!    launch however many of its revisions offline mode cannot render. Everything
//!    is rendered twice: a value that differs between the two renderings
//!    (`uuid4()`, `datetime.now()`) was computed by Python while rendering, and is
//!    frozen into the file with a note. [`crate::offline_sql`] makes each step a
//!    body: Alembic's bookkeeping and `BEGIN;`/`COMMIT;` removed, `%%` undone where
//!    SQLAlchemy doubled `%`, a statement that still holds a bind parameter makes a
//!    placeholder. A revision that enters `autocommit_block()` (seen while
//!    rendering, or named in the source of a revision that did not render) is
//!    `-- transaction: none`, placeholder or not. A function that statically does
//!    nothing (`pass`, a docstring) needs no Alembic: a merge stays empty, another
//!    revision gets `SELECT 1;`; a `downgrade()` that raises becomes
//!    `-- migrate:irreversible`. What cannot be had — or code that emitted no SQL
//!    offline — becomes a placeholder that fails the build until filled.
//!    Python runs with `PYTHONHASHSEED=0`, and the driver orders what SQLAlchemy
//!    keeps in sets, so a re-import writes the same bytes (frozen values aside).
//!    With `--dialect` (several, [`crate::import_dialects`]), the same process
//!    renders the history once per dialect, env.py's migration context made for
//!    each; a section whose renderings differ gets a variant per dialect.
//! 5. **online** (`--online-scratch URL`, [`crate::import_online`]): the
//!    sections offline mode left as placeholders (a revision that inspects the
//!    live schema, or runs its SQL through the connection) are rendered by
//!    running the whole history with Alembic against an empty scratch database
//!    of the target dialect, created on that server and dropped afterwards;
//!    each such section is marked in its file as what a fresh install runs.
//! 6. **write**: file names keep Alembic's load order (the tie-breaker between
//!    independent branches); see [`name_prefixes`]. With dialects, the
//!    folder's `alembix.toml` declares them.

use crate::alembic_driver::{self, Direction, Job, LoadedScript, Rendered};
use crate::folder::Context;
use crate::import_dialects;
use crate::import_online::{self, Online, ScratchServer};
use crate::import_output::{self, Downgrade, ImportedRevision, SettingsPlan, Upgrade};
use crate::offline_sql::{clean_chunk, Cleaned, Family, Frozen, Rendering};
use crate::python::{self, Body, Value};
use alembix_core::file::{check_label, check_revision_id};
use alembix_core::settings::SETTINGS_FILE;
use alembix_core::sql::SqlDialect;
use alembix_core::{Graph, GraphOptions, HeadPolicy, Origin, RevisionSpec, TransactionMode};
use clap::Args;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

const TOOL: &str = "import-alembic";

/// Arguments of `import-alembic`.
#[derive(Debug, Clone, Args)]
pub struct ImportAlembic {
    /// The Alembic project: the folder with alembic.ini (or the ini file itself), the
    /// script folder (with env.py), or a versions folder.
    path: PathBuf,
    /// The folder to write the migration files into (default: the `migrations/`
    /// found from the current directory upward, as the other commands find it);
    /// created if missing. No file is ever overwritten.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The alembic.ini to read and to run Alembic with (default: found from PATH).
    #[arg(short = 'c', long)]
    config: Option<PathBuf>,
    /// The ini section to use, as `alembic --name`.
    #[arg(short = 'n', long, default_value = "alembic")]
    name: String,
    /// A Python interpreter with Alembic and the project's dependencies (e.g. a
    /// virtualenv's `bin/python`): Alembic loads and renders the revisions in it.
    #[arg(long, conflicts_with = "alembic")]
    python: Option<PathBuf>,
    /// An `alembic` script whose `#!` line names the Python to use (default:
    /// `alembic` on PATH, then `python3`).
    #[arg(long)]
    alembic: Option<PathBuf>,
    /// Extra arguments for env.py, passed to Alembic as `-x ARG`.
    #[arg(short = 'x', long = "x-arg", value_name = "ARG")]
    x_args: Vec<String>,
    /// The version of the database server the SQL is for, as `SELECT VERSION()`
    /// prints it there (`10.11.6-MariaDB`): SQLAlchemy's MySQL dialect then
    /// renders as Alembic's does online against that server (on MariaDB, `DROP
    /// CONSTRAINT` where MySQL has `DROP CHECK`), keeping the dialect's name.
    #[arg(long, value_name = "VERSION")]
    server_version: Option<String>,
    /// Render the SQL for this dialect: `sqlite`, `postgresql` or `mysql`
    /// (MySQL and MariaDB). Repeat it for one history that runs on several
    /// (`--dialect postgresql --dialect mysql`): Alembic renders the whole
    /// history once per dialect, in one Python process, env.py's
    /// `context.configure(url=…)` made for that dialect (a URL of the same
    /// backend is kept, driver and all) and the rest of its configuration
    /// kept. Each section holds the rendering most dialects share (on a tie,
    /// the first given) and a variant (`-- migrate:upgrade mysql`) for each
    /// dialect whose rendering differs; a revision only one dialect cannot
    /// render has its placeholder in that variant. The folder's alembix.toml
    /// is written declaring the dialects, or must already declare exactly
    /// them. Default: the dialects the folder's alembix.toml declares, else
    /// the one env.py configures (and no alembix.toml). --server-version
    /// applies to the mysql rendering, --online-scratch fills the
    /// placeholders of its server's dialect.
    #[arg(long = "dialect", value_name = "DIALECT", value_parser = crate::scaffold::dialect_name)]
    dialects: Vec<SqlDialect>,
    /// Render what offline mode cannot (revisions that inspect the live schema:
    /// `sa.inspect(bind)`, `has_table`, reflection; or that run SQL through the
    /// connection) by running the history with Alembic online against a scratch
    /// database on this server: `postgresql://user@host/postgres`,
    /// `mysql://root@host` (or `mariadb://`; `+driver` picks the Python driver),
    /// or `sqlite` for a temporary file. The import creates an empty database
    /// there with a unique name, runs `upgrade heads` then `downgrade base` in one
    /// Python process, keeps the SQL each placeholder revision executed
    /// (parameters inlined), and drops the database, also on failure. Those
    /// sections are marked in their files: they are what a fresh install runs.
    /// env.py's engine is pointed at the scratch database (its dialect and driver
    /// kept); nothing runs unless its connection is there. On MySQL/MariaDB the
    /// server's version is used as --server-version unless given.
    #[arg(long, value_name = "URL", conflicts_with = "skip_sql")]
    online_scratch: Option<String>,
    /// Do not run Alembic: headers are read without Python (literals only), and
    /// SQL bodies become placeholders (except those that are statically empty).
    #[arg(long)]
    skip_sql: bool,
}

/// Runs `import-alembic`.
pub(crate) fn import_alembic(args: &ImportAlembic, context: &Context<'_>) -> Result<(), String> {
    let cwd = context.cwd.clone();
    let hints = Hints {
        command: format!("{} {TOOL}", context.program),
        out: context.folder_to_write(args.out.as_deref())?.dir,
    };
    let scratch = args
        .online_scratch
        .as_deref()
        .map(ScratchServer::parse)
        .transpose()?;
    let shown_out = PathBuf::from(context.show(&hints.out));
    let folder_settings =
        import_output::settings_plan(&hints.out, &shown_out, &[], context.program, TOOL)?
            .settings();
    let dialects = import_dialects::chosen(
        &args.dialects,
        &folder_settings,
        &shown_out.join(SETTINGS_FILE),
    )?;
    // Refused before Alembic runs: alembix.toml declaring other dialects.
    let settings_plan =
        import_output::settings_plan(&hints.out, &shown_out, &dialects, context.program, TOOL)?;
    let online_target = check_dialect_options(args, &dialects, scratch.as_ref())?;
    let project = locate(&cwd, args, &hints)?;
    let files = list_revision_files(&project)?;
    if files.is_empty() {
        return Err(format!(
            "no Alembic revision files (*.py) in {}; point at the project folder (with alembic.ini), the script folder (with env.py) or the versions folder",
            project
                .version_dirs
                .iter()
                .map(|d| project.show_user(d))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let sources: Vec<Source> = files.iter().map(|f| Source::read(&project, f)).collect();

    let rendered = run_alembic(args, &project, scratch.as_ref(), &dialects)?;
    let mut server_version = args.server_version.clone();
    if let (Ok(rendered), Some(server)) = (&rendered, &scratch) {
        match &rendered.probed_version {
            Some(Ok(version)) => {
                println!(
                    "note: the SQL is rendered for the --online-scratch server's version, {version} (as --server-version would)"
                );
                server_version = Some(version.clone());
            }
            Some(Err(why)) => {
                return Err(format!(
                "--online-scratch {}: cannot ask the server its version: {}; nothing was written",
                server.shown,
                server.scrub(why)
            ))
            }
            None => {}
        }
    }
    // One rendering per dialect (without --dialect: env.py's one).
    let targets = dialects.len().max(1);
    let unavailable = |why: String| -> Vec<SqlSource> {
        (0..targets)
            .map(|_| SqlSource::Unavailable(why.clone()))
            .collect()
    };
    let (revisions, sql) = match rendered {
        Ok(rendered) => match &rendered.scripts {
            Some(Ok(scripts)) => {
                let revisions = revisions_from_alembic(&project, scripts, &sources)?;
                let each = if dialects.is_empty() {
                    String::new()
                } else {
                    format!(" for each of {}", import_dialects::names(&dialects))
                };
                println!(
                    "Alembic loaded {} revision script(s) and rendered them in offline mode{each}, in {} Python process(es) ({})",
                    scripts.len(),
                    rendered.launches,
                    rendered.versions.as_deref().unwrap_or("versions unknown")
                );
                check_rendered_dialects(&rendered, &dialects)?;
                let sql = (0..targets)
                    .map(|target| {
                        SqlSource::Generated(Box::new(generated(&rendered, target, &revisions)))
                    })
                    .collect();
                (revisions, sql)
            }
            Some(Err(why)) => {
                let why = format!("Alembic could not load the revision scripts: {why}");
                (revisions_from_text(&sources, &why)?, unavailable(why))
            }
            None => {
                let why = format!(
                    "Alembic did not finish loading the revision scripts: {}",
                    rendered.crashed.as_deref().unwrap_or("no report")
                );
                (revisions_from_text(&sources, &why)?, unavailable(why))
            }
        },
        Err(why) => (revisions_from_text(&sources, &why)?, unavailable(why)),
    };
    let graph = validate(&revisions)?;
    if let Some(version) = &server_version {
        for source in &sql {
            if let SqlSource::Generated(g) = source {
                if let Some(why) = &g.server_version_error {
                    return Err(format!(
                        "--server-version {version}: {why}; nothing was written. It applies to MySQL and MariaDB (a `mysql://` URL); drop it for other databases"
                    ));
                }
            }
        }
    }

    let online = match (&scratch, online_target.and_then(|t| sql.get(t))) {
        (Some(server), Some(SqlSource::Generated(g))) => {
            render_online(args, &project, server, g, &revisions)?
        }
        (Some(_), Some(SqlSource::Unavailable(why))) => {
            println!(
                "note: --online-scratch was not used: Alembic did not render the history here ({})",
                why.trim_end_matches('.')
            );
            None
        }
        _ => None,
    };
    let online_of = |target: usize| online.as_ref().filter(|_| online_target == Some(target));

    let prefixes = name_prefixes(&revisions, &graph);
    let mut imported = Vec::with_capacity(revisions.len());
    let mut statuses = Vec::with_capacity(revisions.len());
    for (rev, prefix) in revisions.iter().zip(prefixes.needed) {
        let per_target: Vec<Sections> = sql
            .iter()
            .enumerate()
            .map(|(target, source)| bodies(rev, source, online_of(target)))
            .collect();
        let sections = Sections::combined(&dialects, per_target)
            .ok_or_else(|| format!("{}: no rendering to import", rev.revision))?;
        statuses.push(sections.status);
        imported.push(ImportedRevision {
            source: rev.file.clone(),
            revision: rev.revision.clone(),
            down_revisions: rev.down_revisions.clone(),
            branch_labels: rev.branch_labels.clone(),
            depends_on: rev.depends_on.clone(),
            message: rev.message.clone(),
            create_date: rev.create_date.clone(),
            transaction: sections.transaction,
            name_prefix: prefix,
            upgrade: sections.upgrade,
            upgrade_variants: sections.upgrade_variants,
            downgrade: sections.downgrade,
            downgrade_variants: sections.downgrade_variants,
        });
    }
    let written =
        import_output::write_all(context, args.out.as_deref(), &imported, &dialects, TOOL)?;

    println!(
        "imported {} Alembic revision(s) from {} into {}:",
        imported.len(),
        args.path.display(),
        written.shown_dir.display()
    );
    let width = imported.iter().map(|r| r.revision.len()).max().unwrap_or(0);
    for ((rev, file), status) in imported.iter().zip(&written.files).zip(&statuses) {
        println!(
            "  {:width$}  {}  upgrade: {}; downgrade: {}",
            rev.revision,
            written.shown_dir.join(file).display(),
            status.upgrade,
            status.downgrade
        );
    }
    let filled = statuses.iter().filter(|s| s.upgrade_filled).count()
        + statuses.iter().filter(|s| s.downgrade_filled).count();
    let placeholders = imported.iter().filter(|r| r.has_placeholder()).count();
    let online_sections = statuses.iter().filter(|s| s.upgrade_online).count()
        + statuses.iter().filter(|s| s.downgrade_online).count();
    let online_revisions = statuses
        .iter()
        .filter(|s| s.upgrade_online || s.downgrade_online)
        .count();
    let online_summary = match &online {
        Some(o) => format!(
            "; {online_sections} section(s) of {online_revisions} revision(s) rendered online against an empty {} database",
            o.server
        ),
        None => String::new(),
    };
    let variants_summary = if dialects.is_empty() {
        String::new()
    } else {
        format!(
            "; {} file(s) with dialect variants",
            imported.iter().filter(|r| r.has_variants()).count()
        )
    };
    println!(
        "summary: {} revision(s); {filled} section(s) filled from Alembic's offline SQL{online_summary}; {placeholders} file(s) with placeholders{variants_summary}",
        imported.len()
    );
    match (&settings_plan, &written.settings_written) {
        (_, Some(file)) => println!(
            "wrote {}: the history declares {}; a database of another dialect is refused",
            file.display(),
            import_dialects::names(&dialects)
        ),
        (SettingsPlan::Keep(s), None) if !dialects.is_empty() => println!(
            "note: {} already declares {}",
            shown_out.join(SETTINGS_FILE).display(),
            s.dialects
        ),
        _ => {}
    }
    if online_sections > 0 {
        println!(
            "note: the {online_sections} section(s) rendered online are what a fresh install runs; each is marked `-- NOTE({TOOL}): rendered online against an empty …` in its file: review them for databases in another state"
        );
    }
    let offline_failures = sql
        .iter()
        .filter_map(|source| match source {
            SqlSource::Generated(g) if g.environment_failure.is_none() => {
                Some(needs_online(&revisions, g))
            }
            _ => None,
        })
        .flatten()
        .collect::<HashSet<_>>()
        .len();
    if scratch.is_none() && offline_failures > 0 {
        println!(
            "note: offline mode could not render {offline_failures} section(s) (e.g. revisions that inspect the live schema); `--online-scratch URL` renders them by running Alembic against an empty scratch database on a server of your kind, which the import creates and drops"
        );
    }
    if prefixes.ordinal {
        println!(
            "note: the file names start with a sequence number in Alembic's load order, because sorting by create date would reorder revisions on independent branches (the order is the tie-breaker when both are applied)"
        );
    }
    let not_generated = sql.iter().find_map(|source| match source {
        SqlSource::Unavailable(why) => Some(why),
        SqlSource::Generated(g) => g.environment_failure.as_ref(),
    });
    if let Some(why) = not_generated.filter(|_| placeholders > 0) {
        println!(
            "note: the SQL was not generated: {}. To fill the placeholders from Alembic, delete the imported files and run again with `--python <venv>/bin/python` (a Python with alembic and your project's packages)",
            why.trim_end_matches('.')
        );
    }
    let mut notes: Vec<String> = Vec::new();
    for (target, source) in sql.iter().enumerate() {
        if let SqlSource::Generated(g) = source {
            let dialect = dialects.get(target).copied();
            // Said once when renderings agree (the version table).
            for note in rendering_notes(g, server_version.as_deref(), dialect) {
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
    }
    if !dialects.is_empty() && sql.iter().any(|s| matches!(s, SqlSource::Generated(_))) {
        notes.push(format!(
            "note: the SQL is rendered for each of {} in turn (env.py's migration context made for that dialect, the rest of its configuration kept); where a dialect's rendering differs from the default, its variant holds it, and the runtime runs each database's own",
            import_dialects::names(&dialects)
        ));
    }
    for note in notes {
        println!("{note}");
    }
    for (rev, status) in imported.iter().zip(&statuses) {
        if rev.transaction == TransactionMode::None {
            let placeholder = if rev.has_placeholder() {
                "; its placeholder keeps that mode"
            } else {
                ""
            };
            println!(
                "note: {} commits inside its upgrade or downgrade (an `autocommit_block`, {}), so it runs with `-- transaction: none`{placeholder}",
                rev.revision, status.autocommit_seen
            );
        }
        for (direction, frozen) in &status.frozen {
            println!(
                "note: {} {direction} statement {}: {} was computed by Python while Alembic rendered it (a second rendering gave another), so the file holds that one value for every database; if each database needs its own, make the SQL compute it (e.g. gen_random_uuid(), CURRENT_TIMESTAMP)",
                rev.revision,
                frozen.statement,
                frozen.shown()
            );
        }
    }
    if written.existing > 0 {
        println!(
            "note: {} already held {} migration(s); the imported history sits beside them",
            written.shown_dir.display(),
            written.existing
        );
    }
    import_output::print_verification(&written);
    Ok(())
}

/// What the import says about how Alembic rendered: the version table (name and
/// schema) env.py configures, the dialect, the `%` escaping undone. `dialect`:
/// the `--dialect` rendered for, if any.
fn rendering_notes(
    g: &Generated,
    server_version: Option<&str>,
    dialect: Option<SqlDialect>,
) -> Vec<String> {
    let mut notes = Vec::new();
    if g.environment_failure.is_some() {
        return notes;
    }
    match (server_version, g.dialect_name.as_deref()) {
        (Some(given), Some(name)) if Family::of(name) == Family::Mysql => {
            let server = if g.is_mariadb { "MariaDB" } else { "MySQL" };
            let version = g
                .server_version_info
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(".");
            notes.push(format!(
                "note: the SQL is rendered as Alembic renders it online against {server} {version} (--server-version {given})"
            ));
        }
        (None, Some("mysql")) => notes.push(
            "note: the mysql dialect rendered for MySQL; for a MariaDB server, import again with --server-version set to what `SELECT VERSION()` prints there (e.g. `10.11.6-MariaDB`), so that the SQL is what Alembic runs online on it (MariaDB needs `DROP CONSTRAINT` where MySQL has `DROP CHECK`)".to_string()
        ),
        (None, Some("mariadb")) => notes.push(
            "note: the mariadb dialect (a `mariadb://` URL) rendered this SQL: code that tests `dialect.name == \"mysql\"` took its other branch, and column types differ from what Alembic online makes on MariaDB through a MySQL driver (`mysql+pymysql://`); if that is how Alembic runs against your database, import with that URL and --server-version".to_string()
        ),
        _ => {}
    }
    if g.version_table != "alembic_version" {
        notes.push(format!(
            "note: env.py names the version table `{}`; configure the runtime with the same table (`Config {{ version_table: \"{}\".into(), .. }}`) when it takes over the database",
            g.version_table, g.version_table
        ));
    }
    if let Some(schema) = &g.version_table_schema {
        notes.push(format!(
            "note: env.py keeps the version table in schema `{schema}` (`version_table_schema`); configure the runtime with the same schema (`Config {{ version_table_schema: Some(\"{schema}\".into()), .. }}`) when it takes over the database, or it looks for `{}` in the connection's default schema",
            g.version_table
        ));
    }
    if let Some(used) = g.dialect.as_ref().filter(|_| dialect.is_none()) {
        notes.push(format!("note: the SQL is for the dialect in alembic.ini (Alembic used {used}); the runtime must run it on that database"));
    }
    if let Some(r) = g.rendering.as_ref().filter(|r| r.double_percents) {
        notes.push(format!(
            "note: SQLAlchemy wrote each `%` as `%%` for the {} paramstyle (its driver turns `%%` back into `%`); the imported SQL has `%` as the database must see it",
            r.paramstyle
        ));
    }
    notes
}

/// Runs the driver: `Ok(Err(why))` when Alembic cannot run here (placeholders
/// follow), `Err` when the Python the user named cannot be used. With an
/// `--online-scratch` server of MySQL's family and no `--server-version`, the
/// driver asks that server its version first.
fn run_alembic(
    args: &ImportAlembic,
    project: &Project,
    scratch: Option<&ScratchServer>,
    dialects: &[SqlDialect],
) -> Result<Result<Rendered, String>, String> {
    if args.skip_sql {
        return Ok(Err("--skip-sql was given".to_string()));
    }
    let Some(ini) = &project.ini else {
        return Ok(Err(format!(
            "no alembic.ini was found for {} (give it with --config)",
            args.path.display()
        )));
    };
    let (candidates, named) = pythons(args)?;
    let mut tried = Vec::new();
    let each = if dialects.is_empty() {
        String::new()
    } else {
        format!(" for each of {}", import_dialects::names(dialects))
    };
    // MySQL's dialect renders per server version; with --dialect, only the
    // mysql rendering takes it.
    let mysql_rendered = dialects.is_empty() || dialects.contains(&SqlDialect::Mysql);
    for python in candidates {
        println!(
            "loading the revisions with Alembic and rendering them in offline mode{each}, as `{} -m alembic -c {} upgrade heads --sql` does (and the downgrades), in one process…",
            python.display(),
            project.show_user(ini)
        );
        let probe = scratch
            .filter(|s| s.renders_per_version() && args.server_version.is_none() && mysql_rendered);
        let job = Job {
            python: &python,
            ini,
            name: &args.name,
            x_args: &args.x_args,
            dialects,
            server_version: args.server_version.as_deref(),
            server_url: probe.map(ScratchServer::driver_url),
            probe: probe.is_some(),
        };
        let why = match alembic_driver::render(&job) {
            Ok(rendered) => return Ok(Ok(rendered)),
            Err(alembic_driver::Failure::NoAlembic(why)) => {
                format!("{} cannot import Alembic ({why})", python.display())
            }
            Err(alembic_driver::Failure::Broken(why)) => why,
        };
        if let Some(option) = named {
            return Err(format!(
                "{option}: {why}\ninstall Alembic into that Python (`{} -m pip install alembic` plus your project's packages), or drop {option}",
                python.display()
            ));
        }
        tried.push(why);
    }
    Ok(Err(format!(
        "Alembic is not available here ({})",
        tried.join("; ")
    )))
}

/// Checks `--server-version` and `--online-scratch` against the dialects
/// rendered, before Alembic runs; returns the rendering `--online-scratch`
/// fills (the one of its server's dialect; without --dialect, the only one).
fn check_dialect_options(
    args: &ImportAlembic,
    dialects: &[SqlDialect],
    scratch: Option<&ScratchServer>,
) -> Result<Option<usize>, String> {
    if dialects.is_empty() {
        return Ok(scratch.map(|_| 0));
    }
    let names = import_dialects::names(dialects);
    if let Some(version) = &args.server_version {
        if !dialects.contains(&SqlDialect::Mysql) {
            return Err(format!(
                "--server-version {version}: it applies to MySQL and MariaDB, and the SQL is rendered for {names}; drop it, or add --dialect mysql; nothing was written"
            ));
        }
    }
    let Some(server) = scratch else {
        return Ok(None);
    };
    let dialect = server.family().sql_dialect();
    match dialects.iter().position(|&d| d == dialect) {
        Some(target) => Ok(Some(target)),
        None => Err(format!(
            "--online-scratch {}: a {dialect} server, and the SQL is rendered for {names}; it fills the placeholders of its own dialect's rendering: give a server of one of those, or add --dialect {dialect}; nothing was written",
            server.shown
        )),
    }
}

/// With `--dialect`, every migration context of a rendering must be of its
/// dialect: the import makes the one env.py configures for it.
fn check_rendered_dialects(rendered: &Rendered, dialects: &[SqlDialect]) -> Result<(), String> {
    for context in &rendered.contexts {
        let Some(&dialect) = dialects.get(context.target) else {
            continue;
        };
        let family = Family::of(&context.dialect);
        if family == Family::Other || family.sql_dialect() != dialect {
            return Err(format!(
                "--dialect {dialect}: Alembic rendered for the {} dialect instead; the import makes the migration context that env.py's `context.configure(…)` creates for each dialect, and env.py seems to make another; nothing was written",
                context.dialect
            ));
        }
    }
    Ok(())
}

/// The Pythons to try, and the option that named them (its failure is an error).
fn pythons(args: &ImportAlembic) -> Result<(Vec<PathBuf>, Option<&'static str>), String> {
    if let Some(python) = &args.python {
        return Ok((vec![python.clone()], Some("--python")));
    }
    if let Some(alembic) = &args.alembic {
        return match script_python(alembic) {
            Some(python) => Ok((vec![python], Some("--alembic"))),
            None => Err(format!(
                "--alembic {}: the import runs Alembic inside the Python that runs this script, and cannot tell which Python that is from its first line (not `#!/path/to/python` or `#!/usr/bin/env python3`); give that Python with --python instead",
                alembic.display()
            )),
        };
    }
    let mut candidates: Vec<PathBuf> = on_path("alembic")
        .as_deref()
        .and_then(script_python)
        .into_iter()
        .collect();
    if !candidates.iter().any(|p| p == Path::new("python3")) {
        candidates.push(PathBuf::from("python3"));
    }
    Ok((candidates, None))
}

/// Where the revisions are and how to run Alembic on them.
#[derive(Debug)]
struct Project {
    /// The current directory: Alembic resolves relative locations against it, and
    /// runs in it.
    cwd: PathBuf,
    /// The Alembic project's folder (the ini's): the written files name their
    /// source relative to it.
    root: PathBuf,
    /// The alembic.ini to run Alembic with.
    ini: Option<PathBuf>,
    /// Version locations, in Alembic's order.
    version_dirs: Vec<PathBuf>,
    /// `recursive_version_locations`.
    recursive: bool,
}

impl Project {
    fn new(
        cwd: &Path,
        root: PathBuf,
        ini: Option<PathBuf>,
        version_dirs: Vec<PathBuf>,
        recursive: bool,
    ) -> Project {
        Project {
            cwd: cwd.to_path_buf(),
            root,
            ini,
            version_dirs,
            recursive,
        }
    }

    /// `path` as the user reaches it from the current directory (for messages).
    fn show_user(&self, path: &Path) -> String {
        match path.strip_prefix(&self.cwd) {
            Ok(rel) => slash_path(rel),
            Err(_) => path.display().to_string(),
        }
    }

    /// `path` inside the Alembic project (written into the files): relative to the
    /// ini's folder, else to the current directory, else to the folder that holds
    /// its version location's script folder (`alembic/versions/x.py`).
    fn show(&self, path: &Path) -> String {
        let version_dir_base = self
            .version_dirs
            .iter()
            .find(|d| path.starts_with(d))
            .map(|d| d.parent().and_then(Path::parent).unwrap_or(d));
        let rel = [
            Some(self.root.as_path()),
            Some(self.cwd.as_path()),
            version_dir_base,
        ]
        .into_iter()
        .flatten()
        .find_map(|base| path.strip_prefix(base).ok())
        .unwrap_or(path);
        slash_path(rel)
    }
}

/// A relative path with `/` separators (`.` when empty); an absolute one as it is.
fn slash_path(path: &Path) -> String {
    if path.is_absolute() {
        return path.display().to_string();
    }
    let shown = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    if shown.is_empty() {
        ".".to_string()
    } else {
        shown
    }
}

/// How the help in messages names this command.
struct Hints {
    /// The command as typed: `alembix import-alembic`.
    command: String,
    /// The folder the import writes into, absolute: a run from another folder
    /// must name it.
    out: PathBuf,
}

/// Finds the revisions from PATH.
fn locate(cwd: &Path, args: &ImportAlembic, hints: &Hints) -> Result<Project, String> {
    let path = cwd.join(&args.path);
    if !path.exists() {
        return Err(format!("{} does not exist", args.path.display()));
    }
    let explicit_ini = args.config.as_ref().map(|c| cwd.join(c));
    if let Some(ini) = &explicit_ini {
        if !ini.is_file() {
            return Err(format!("--config {}: no such file", ini.display()));
        }
    }
    let has_py = std::fs::read_dir(&path).is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".py")))
    });
    let is_script_dir = path.join("env.py").is_file() || path.join("script.py.mako").is_file();
    // A project: its ini names the version folders.
    let project_ini = if path.is_file() {
        Some(explicit_ini.clone().unwrap_or_else(|| path.clone()))
    } else if path.join("alembic.ini").is_file() {
        Some(
            explicit_ini
                .clone()
                .unwrap_or_else(|| path.join("alembic.ini")),
        )
    } else if !is_script_dir && !has_py {
        explicit_ini.clone()
    } else {
        None
    };
    if let Some(ini) = project_ini {
        let root = ini
            .parent()
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
        let config = IniConfig::read(&ini, &args.name)?;
        let (version_dirs, recursive) = config.version_locations(cwd, &ini, hints)?;
        return Ok(Project::new(cwd, root, Some(ini), version_dirs, recursive));
    }
    // A script folder or a versions folder: the ini, unless given, is the one above
    // it whose version locations are this folder.
    let (versions, above) = if is_script_dir {
        (
            path.join("versions"),
            path.parent().map(|p| p.join("alembic.ini")),
        )
    } else {
        (
            path.clone(),
            path.parent()
                .and_then(Path::parent)
                .map(|p| p.join("alembic.ini")),
        )
    };
    let ini = match explicit_ini {
        Some(ini) => Some(ini),
        None => above.filter(|i| i.is_file()).filter(|ini| {
            IniConfig::read(ini, &args.name)
                .and_then(|c| c.version_locations(cwd, ini, hints))
                .is_ok_and(|(dirs, _)| dirs.iter().any(|d| same_dir(d, &versions)))
        }),
    };
    let recursive = match &ini {
        Some(ini) => IniConfig::read(ini, &args.name)?.recursive(),
        None => false,
    };
    let root = ini
        .as_ref()
        .and_then(|i| i.parent())
        .filter(|r| versions.starts_with(r))
        .map_or_else(|| path.clone(), Path::to_path_buf);
    Ok(Project::new(cwd, root, ini, vec![versions], recursive))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The `[alembic]` (or `--name`) section of an ini file, `%(here)s` interpolated.
struct IniConfig {
    file: PathBuf,
    values: HashMap<String, String>,
}

impl IniConfig {
    fn read(ini: &Path, section: &str) -> Result<IniConfig, String> {
        let text = std::fs::read_to_string(ini)
            .map_err(|e| format!("cannot read {}: {e}", ini.display()))?;
        let here = ini
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut values: HashMap<String, String> = HashMap::new();
        let mut defaults: HashMap<String, String> = HashMap::new();
        let mut current: Option<String> = None;
        let mut last_key: Option<String> = None;
        for raw in text.lines() {
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if raw.starts_with([' ', '\t']) {
                // A continuation line of a multi-line value.
                if let (Some(key), Some(sec)) = (&last_key, &current) {
                    let map = if sec == "DEFAULT" {
                        &mut defaults
                    } else {
                        &mut values
                    };
                    if sec == section || sec == "DEFAULT" {
                        if let Some(v) = map.get_mut(key) {
                            v.push('\n');
                            v.push_str(trimmed);
                        }
                    }
                }
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                current = Some(name.trim().to_string());
                last_key = None;
                continue;
            }
            let split = trimmed.find(['=', ':']);
            let (key, value) = match split {
                Some(at) => (trimmed[..at].trim(), trimmed[at + 1..].trim()),
                None => (trimmed, ""),
            };
            let key = key.to_ascii_lowercase();
            match current.as_deref() {
                Some("DEFAULT") => {
                    defaults.insert(key.clone(), value.to_string());
                }
                Some(s) if s == section => {
                    values.insert(key.clone(), value.to_string());
                }
                _ => {}
            }
            last_key = Some(key);
        }
        for (k, v) in defaults {
            values.entry(k).or_insert(v);
        }
        let snapshot = values.clone();
        for v in values.values_mut() {
            *v = interpolate(v, &here, &snapshot);
        }
        Ok(IniConfig {
            file: ini.to_path_buf(),
            values,
        })
    }

    fn recursive(&self) -> bool {
        self.values
            .get("recursive_version_locations")
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1"))
    }

    /// The version folders Alembic reads. A relative location is resolved against
    /// `cwd`, as Alembic does (`Path(…).absolute()`); `%(here)s` names the ini's folder.
    fn version_locations(
        &self,
        cwd: &Path,
        ini: &Path,
        hints: &Hints,
    ) -> Result<(Vec<PathBuf>, bool), String> {
        let recursive = self.recursive();
        if let Some(list) = self
            .values
            .get("version_locations")
            .filter(|v| !v.is_empty())
        {
            let sep = self
                .values
                .get("path_separator")
                .or_else(|| self.values.get("version_path_separator"));
            let parts: Vec<String> = match sep.map(String::as_str) {
                Some("space") => list.split(' ').map(str::to_string).collect(),
                Some("newline") => list.split('\n').map(str::to_string).collect(),
                Some("os") | Some(":") => list.split(':').map(str::to_string).collect(),
                Some(";") => list.split(';').map(str::to_string).collect(),
                Some(other) => {
                    return Err(format!(
                        "{}: path_separator `{other}` is not one of space, newline, os, :, ;",
                        ini.display()
                    ))
                }
                None => list.split([',', ' ', '\n']).map(str::to_string).collect(),
            };
            let dirs = parts
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(|p| self.folder(cwd, p, "version_locations", hints))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok((dirs, recursive));
        }
        let script = self.values.get("script_location").ok_or_else(|| {
            format!(
                "{} has no `script_location` in its [alembic] section; pass the versions folder instead (`{} path/to/versions --config {}`)",
                self.file.display(),
                hints.command,
                self.file.display()
            )
        })?;
        let script_dir = self.folder(cwd, script, "script_location", hints)?;
        if !script_dir.is_dir() {
            // Alembic refuses it too ("Path doesn't exist").
            let beside_ini = ini.parent().map(|p| p.join(script)).filter(|p| p.is_dir());
            let help = match beside_ini {
                Some(_) if Path::new(script).is_relative() => format!(
                    "a relative `script_location` is resolved against the current directory, as Alembic does; run the import from the folder you run Alembic in (`cd {} && {} . --out {}`), or write `script_location = %(here)s/{script}`",
                    ini.parent().unwrap_or(Path::new(".")).display(),
                    hints.command,
                    hints.out.display(),
                ),
                _ => "give the right folder in the ini, or pass the versions folder instead".to_string(),
            };
            return Err(format!(
                "{}: script_location `{script}` is {}, which does not exist; {help}",
                self.file.display(),
                script_dir.display()
            ));
        }
        Ok((vec![script_dir.join("versions")], recursive))
    }

    fn folder(&self, cwd: &Path, value: &str, key: &str, hints: &Hints) -> Result<PathBuf, String> {
        let path = Path::new(value);
        if !path.is_absolute() && value.contains(':') {
            return Err(format!(
                "{}: {key} `{value}` names a Python package resource, which this command cannot resolve; pass the versions folder instead (`{} path/to/versions --config {}`)",
                self.file.display(),
                hints.command,
                self.file.display()
            ));
        }
        Ok(cwd.join(path))
    }
}

/// configparser's interpolation: `%(name)s` from the section (or `here`), `%%` → `%`.
fn interpolate(value: &str, here: &str, values: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(tail) = rest.strip_prefix("%%") {
            out.push('%');
            rest = tail;
        } else if let Some((name, tail)) = rest.strip_prefix("%(").and_then(|t| t.split_once(")s"))
        {
            let name = name.to_ascii_lowercase();
            match (name.as_str(), values.get(&name)) {
                ("here", _) => out.push_str(here),
                (_, Some(v)) if !v.contains('%') => out.push_str(v),
                _ => {
                    out.push_str("%(");
                    out.push_str(&name);
                    out.push_str(")s");
                }
            }
            rest = tail;
        } else {
            out.push('%');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Revision files in Alembic's load order (`ScriptDirectory._load_revisions`).
fn list_revision_files(project: &Project) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for dir in &project.version_dirs {
        if !dir.is_dir() {
            // Alembic skips version locations that do not exist.
            continue;
        }
        walk(dir, project.recursive, &mut |file| {
            let real = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
            if seen.insert(real) {
                out.push(file.to_path_buf());
            }
        })
        .map_err(|e| format!("cannot list {}: {e}", project.show(dir)))?;
    }
    Ok(out)
}

/// os.walk, top-down: a folder's files sorted, then its subfolders sorted (when recursive).
fn walk(dir: &Path, recursive: bool, visit: &mut dyn FnMut(&Path)) -> std::io::Result<()> {
    if dir
        .file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with("__pycache__"))
    {
        return Ok(());
    }
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.is_dir() {
            dirs.push(path);
        } else {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Alembic's `(?!\.\#|__init__)(.*\.py)$`.
        if name.ends_with(".py") && !name.starts_with(".#") && !name.starts_with("__init__") {
            visit(f);
        }
    }
    if recursive {
        dirs.sort();
        for d in dirs {
            walk(&d, true, visit)?;
        }
    }
    Ok(())
}

/// One Alembic revision, as Alembic loaded it or as read from its file.
#[derive(Debug, Clone)]
struct AlembicRevision {
    /// The file, relative to the project root (written into the migration file).
    file: String,
    /// The file as the user reaches it (in messages).
    shown: String,
    /// Line of `revision = …`.
    line: u32,
    revision: String,
    down_revisions: Vec<String>,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    message: String,
    create_date: Option<String>,
    upgrade_body: Body,
    downgrade_body: Body,
    /// Whether its source names `autocommit_block`: the transaction mode of a
    /// revision whose rendering did not get that far.
    autocommit_in_source: bool,
}

impl AlembicRevision {
    fn is_merge(&self) -> bool {
        self.down_revisions.len() > 1
    }
}

const NAMES: &[&str] = &["revision", "down_revision", "branch_labels", "depends_on"];

/// A revision file, read statically.
struct Source {
    /// The file, symlinks resolved (as Alembic names it).
    real: PathBuf,
    /// Its legacy id: the file name, when it is hex (Alembic's rule for a module
    /// without `revision`).
    stem: String,
    /// Relative to the project root.
    file: String,
    /// As the user reaches it.
    shown: String,
    /// What the static reader found, or why it could not read the file.
    module: Result<python::Module, String>,
    /// Whether the text names `autocommit_block`.
    autocommit: bool,
}

impl Source {
    fn read(project: &Project, path: &Path) -> Source {
        let shown = project.show_user(path);
        let text = std::fs::read(path)
            .map_err(|e| format!("{shown}: cannot be read: {e}"))
            .and_then(|bytes| {
                String::from_utf8(bytes).map_err(|_| {
                    format!("{shown}: not valid UTF-8; save it as UTF-8 and run again")
                })
            })
            // Python reads source with universal newlines.
            .map(|text| text.replace("\r\n", "\n"));
        let autocommit = text.as_ref().is_ok_and(|t| t.contains("autocommit_block"));
        let module = text.and_then(|text| {
            python::read_module(&text, NAMES).map_err(|e| {
                format!(
                    "{shown}:{}: cannot read this file statically: {}",
                    e.line, e.message
                )
            })
        });
        Source {
            real: path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
            stem: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file: project.show(path),
            shown,
            module,
            autocommit,
        }
    }

    /// What the function `name` does; `Code` when the file could not be read.
    fn body(&self, name: &str) -> Body {
        self.module
            .as_ref()
            .ok()
            .and_then(|m| m.function(name))
            .map_or(Body::Code, |(_, b)| b)
    }
}

/// The revisions as Alembic loaded them (in its load order), checked against our
/// identifier rules; every problem of every file reported at once.
fn revisions_from_alembic(
    project: &Project,
    scripts: &[LoadedScript],
    sources: &[Source],
) -> Result<Vec<AlembicRevision>, String> {
    let by_path: HashMap<&Path, &Source> = sources.iter().map(|s| (s.real.as_path(), s)).collect();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for script in scripts {
        let source = by_path.get(script.path.as_path()).copied();
        let (file, shown) = match source {
            Some(s) => (s.file.clone(), s.shown.clone()),
            None => (project.show(&script.path), project.show_user(&script.path)),
        };
        let line = source
            .and_then(|s| s.module.as_ref().ok())
            .and_then(|m| m.get("revision"))
            .map_or(1, |a| a.line);
        let before = problems.len();
        for p in &script.problems {
            problems.push(format!(
                "{shown}: {p}; Alembic reads a revision id, or a tuple or list of them"
            ));
        }
        let down_revisions = deduped(&script.down_revision);
        let branch_labels = deduped(&script.branch_labels);
        let depends_on = deduped(&script.depends_on);
        problems.extend(check_identifiers(
            &shown,
            line,
            &script.revision,
            &down_revisions,
            &branch_labels,
            &depends_on,
        ));
        if problems.len() > before {
            continue;
        }
        let (message, create_date) = docstring_fields(script.doc.as_deref().unwrap_or(""));
        out.push(AlembicRevision {
            file,
            shown,
            line,
            revision: script.revision.clone(),
            down_revisions,
            branch_labels,
            depends_on,
            message,
            create_date,
            upgrade_body: source.map_or(Body::Code, |s| s.body("upgrade")),
            downgrade_body: source.map_or(Body::Code, |s| s.body("downgrade")),
            autocommit_in_source: source.is_some_and(|s| s.autocommit),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "{} problem(s) in the Alembic history (as Alembic loaded it); nothing was written:\n{}",
            problems.len(),
            problems.join("\n")
        ))
    }
}

/// The revisions as read statically from their files, when Alembic did not load
/// them (`without_alembic` says why); every problem of every file reported at once.
fn revisions_from_text(
    sources: &[Source],
    without_alembic: &str,
) -> Result<Vec<AlembicRevision>, String> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut literal_only = false;
    for source in sources {
        match read_revision(source) {
            Ok(rev) => out.push(rev),
            Err((mut ps, literal)) => {
                literal_only |= literal;
                problems.append(&mut ps);
            }
        }
    }
    if problems.is_empty() {
        return Ok(out);
    }
    let help = if literal_only {
        format!(
            "\nWithout Alembic the import reads headers as literals only; with Alembic it takes them from Alembic's own loading of the scripts, which evaluates them. Alembic did not load them here ({}): let the import run Alembic (no --skip-sql; --python naming a Python with alembic and your project's packages).",
            without_alembic.trim_end_matches('.')
        )
    } else {
        String::new()
    };
    Err(format!(
        "{} problem(s) in the Alembic history; nothing was written:\n{}{help}",
        problems.len(),
        problems.join("\n")
    ))
}

/// A revision from its file's literal headers: `Err` with its problems, and
/// whether one of them is a header that is not a literal.
fn read_revision(source: &Source) -> Result<AlembicRevision, (Vec<String>, bool)> {
    let shown = &source.shown;
    let module = source
        .module
        .as_ref()
        .map_err(|why| (vec![why.clone()], false))?;
    let mut problems = Vec::new();
    let mut literal_only = false;
    let (revision, line) = match module.get("revision") {
        Some(a) => match &a.value {
            Ok(Value::Str(s)) => (s.clone(), a.line),
            Ok(other) => {
                problems.push(format!(
                    "{shown}:{}: `revision` is {other:?}; it must be a string",
                    a.line
                ));
                (String::new(), a.line)
            }
            Err(why) => {
                literal_only = true;
                problems.push(format!(
                    "{shown}:{}: cannot read `revision` statically: {why}; write it as a string literal",
                    a.line
                ));
                (String::new(), a.line)
            }
        },
        None => {
            // Alembic's legacy rule: a hex file name is the revision id.
            let stem = &source.stem;
            if !stem.is_empty()
                && stem
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                (stem.clone(), 1)
            } else {
                problems.push(format!(
                    "{shown}: no module-level `revision = \"…\"`; Alembic cannot load this file either"
                ));
                (String::new(), 1)
            }
        }
    };
    let mut list = |key: &str, problems: &mut Vec<String>| -> Vec<String> {
        match module.get(key) {
            None => Vec::new(),
            Some(a) => match a
                .value
                .as_ref()
                .map_err(Clone::clone)
                .and_then(Value::as_id_list)
            {
                Ok(v) => deduped(&v),
                Err(why) => {
                    literal_only = true;
                    problems.push(format!(
                        "{shown}:{}: cannot read `{key}` statically: {why}; write it as a string, a tuple or list of strings, or None",
                        a.line
                    ));
                    Vec::new()
                }
            },
        }
    };
    let down_revisions = list("down_revision", &mut problems);
    let branch_labels = list("branch_labels", &mut problems);
    let depends_on = list("depends_on", &mut problems);
    if module.get("down_revision").is_none() && !revision.is_empty() {
        problems.push(format!(
            "{shown}: no module-level `down_revision`; write `down_revision = None` for a base revision"
        ));
    }
    problems.extend(check_identifiers(
        shown,
        line,
        &revision,
        &down_revisions,
        &branch_labels,
        &depends_on,
    ));
    if !problems.is_empty() {
        return Err((problems, literal_only));
    }
    let (message, create_date) = docstring_fields(module.docstring.as_deref().unwrap_or(""));
    Ok(AlembicRevision {
        file: source.file.clone(),
        shown: shown.clone(),
        line,
        revision,
        down_revisions,
        branch_labels,
        depends_on,
        message,
        create_date,
        upgrade_body: source.body("upgrade"),
        downgrade_body: source.body("downgrade"),
        autocommit_in_source: source.autocommit,
    })
}

/// The entries in order, each once (Alembic drops repeats, `util.dedupe_tuple`).
fn deduped(items: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .iter()
        .filter(|item| seen.insert(item.as_str()))
        .cloned()
        .collect()
}

/// Our format's identifier rules, stricter than Alembic's.
fn check_identifiers(
    shown: &str,
    line: u32,
    revision: &str,
    down_revisions: &[String],
    branch_labels: &[String],
    depends_on: &[String],
) -> Vec<String> {
    let id_help = "databases store this id in alembic_version, so rename the revision in Alembic first (its file, every down_revision and depends_on naming it, and the alembic_version rows), then import again";
    let mut problems = Vec::new();
    // An empty id is already reported as missing.
    if let Some(why) = check_revision_id(revision)
        .err()
        .filter(|_| !revision.is_empty())
    {
        problems.push(format!(
            "{shown}:{line}: revision id `{revision}` {why}; {id_help}"
        ));
    }
    for parent in down_revisions {
        if let Err(why) = check_revision_id(parent) {
            problems.push(format!(
                "{shown}: down_revision `{parent}` {why}; {id_help}"
            ));
        }
    }
    for label in branch_labels {
        if let Err(why) = check_label(label) {
            problems.push(format!(
                "{shown}: branch label `{label}` {why}; rename the label in Alembic (labels use A-Z, a-z, 0-9 and _, up to 64 characters) and import again"
            ));
        }
    }
    for dep in depends_on {
        if let Err(why) = check_label(dep) {
            problems.push(format!(
                "{shown}: depends_on entry `{dep}` {why}; {id_help}"
            ));
        }
    }
    problems
}

/// The message (Alembic's `Script.doc`: the docstring's first paragraph, its
/// lines kept) and the `Create Date:` value.
fn docstring_fields(doc: &str) -> (String, Option<String>) {
    let doc = doc.trim();
    let first = doc.split("\n\n").next().unwrap_or("");
    let message = if first.starts_with("Revision ID:") {
        String::new()
    } else {
        first
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let create_date = doc
        .lines()
        .find_map(|l| l.trim().strip_prefix("Create Date:"))
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    (message, create_date)
}

/// Builds the graph with the core, in Alembic's load order; its problems name the
/// Python files.
fn validate(revisions: &[AlembicRevision]) -> Result<Graph, String> {
    let specs = revisions
        .iter()
        .map(|r| RevisionSpec {
            revision: r.revision.clone(),
            down_revisions: r.down_revisions.clone(),
            branch_labels: r.branch_labels.clone(),
            depends_on: r.depends_on.clone(),
            origin: Origin::file(r.shown.clone(), r.line),
            lines: Default::default(),
        })
        .collect();
    Graph::build(
        specs,
        &GraphOptions {
            heads: HeadPolicy::Any,
        },
    )
    .map_err(|p| {
        format!("the Alembic history does not form a valid revision graph; nothing was written:\n{p}\nfix it in Alembic first (Alembic's own commands would misbehave on it too)")
    })
}

/// The file-name prefix of each revision, and whether a sequence number was needed.
struct Prefixes {
    needed: Vec<String>,
    ordinal: bool,
}

/// File names are `<create date>_<slug>_<rev>.sql` when sorting them keeps every
/// pair of revisions on independent branches in Alembic's load order (which breaks
/// ties between them, in Alembic and in our core alike). Otherwise every name starts
/// with a sequence number in Alembic's load order: `0001_<date>_<slug>_<rev>.sql`.
fn name_prefixes(revisions: &[AlembicRevision], graph: &Graph) -> Prefixes {
    let dates: Vec<String> = revisions
        .iter()
        .map(|r| {
            r.create_date
                .as_deref()
                .and_then(|d| d.get(..10))
                .filter(|d| {
                    d.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    })
                })
                .unwrap_or("0000-00-00")
                .to_string()
        })
        .collect();
    let names: Vec<String> = revisions
        .iter()
        .zip(&dates)
        .map(|(r, d)| {
            let first_line = r.message.lines().next().unwrap_or("");
            format!("{d}_{}_{}.sql", import_output::slug(first_line), r.revision)
        })
        .collect();
    let mut sorted: Vec<usize> = (0..revisions.len()).collect();
    sorted.sort_by(|&a, &b| names[a].cmp(&names[b]));
    let mut position = vec![0; revisions.len()];
    for (pos, &i) in sorted.iter().enumerate() {
        position[i] = pos;
    }
    // Graph indices are load order (the specs were given in that order).
    let ancestors: Vec<Vec<bool>> = (0..graph.len())
        .map(|i| graph.ancestor_mask(&[i], true))
        .collect();
    let reordered = (0..revisions.len()).any(|i| {
        (i + 1..revisions.len())
            .any(|j| position[j] < position[i] && !ancestors[i][j] && !ancestors[j][i])
    });
    if !reordered {
        return Prefixes {
            needed: dates,
            ordinal: false,
        };
    }
    let width = revisions.len().to_string().len().max(4);
    Prefixes {
        needed: dates
            .iter()
            .enumerate()
            .map(|(i, d)| format!("{:0width$}_{d}", i + 1))
            .collect(),
        ordinal: true,
    }
}

/// The Python a script such as a virtualenv's `bin/alembic` runs with, from its
/// `#!` line; `None` when that is not a plain Python interpreter.
fn script_python(script: &Path) -> Option<PathBuf> {
    let mut head = [0u8; 256];
    let n = std::io::Read::read(&mut std::fs::File::open(script).ok()?, &mut head).ok()?;
    let first = std::str::from_utf8(&head[..n]).ok()?.lines().next()?;
    let words: Vec<&str> = first.strip_prefix("#!")?.split_whitespace().collect();
    let program = match words.as_slice() {
        [env, python] if env.ends_with("/env") => *python,
        [python] => *python,
        _ => return None,
    };
    let name = Path::new(program).file_name()?.to_string_lossy();
    let python = PathBuf::from(program);
    (name.starts_with("python") && (python.is_relative() || python.is_file())).then_some(python)
}

/// `program` as the shell finds it on PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// What offline mode gave for each revision.
#[derive(Debug, Default)]
struct Generated {
    /// The Python that rendered it.
    python: PathBuf,
    upgrades: HashMap<String, Cleaned>,
    downgrades: HashMap<String, Cleaned>,
    /// Why a revision has no upgrade/downgrade SQL.
    upgrade_failures: HashMap<String, String>,
    downgrade_failures: HashMap<String, String>,
    /// Revisions whose rendering entered `autocommit_block()`, either way,
    /// whether or not it then failed.
    autocommit: HashSet<String>,
    /// Set when Alembic failed before any revision (env.py, the URL…).
    environment_failure: Option<String>,
    /// `SQLiteImpl`, `PostgresqlImpl`… as Alembic reports it.
    dialect: Option<String>,
    /// How SQLAlchemy rendered the SQL.
    rendering: Option<Rendering>,
    /// The version table env.py configures (`alembic_version` unless changed).
    version_table: String,
    /// The schema env.py puts it in (`version_table_schema`), if any.
    version_table_schema: Option<String>,
    /// SQLAlchemy's dialect name (`mysql`, `mariadb`, `postgresql`…).
    dialect_name: Option<String>,
    /// Whether the dialect rendered for MariaDB.
    is_mariadb: bool,
    /// The server version the dialect rendered for, when it knew one.
    server_version_info: Vec<u64>,
    /// Why `--server-version` could not be applied.
    server_version_error: Option<String>,
}

enum SqlSource {
    Unavailable(String),
    Generated(Box<Generated>),
}

/// Each revision's SQL both ways from what the driver reported: a step that
/// raised, or whose SQL cannot be taken as it is, is a failure naming why; a
/// step compared with its second rendering notes its frozen values.
fn generated(rendered: &Rendered, target: usize, revisions: &[AlembicRevision]) -> Generated {
    let contexts = rendered.contexts_of(target);
    let first = contexts.first();
    let rendering = Rendering::from_contexts(&contexts);
    let family = match (&rendering, first) {
        (Some(r), _) => r.family,
        (None, Some(c)) => Family::of(&c.dialect),
        (None, None) => Family::Other,
    };
    let mut g = Generated {
        python: rendered.python.clone(),
        dialect: first.map(|c| c.implementation.clone()),
        version_table: first.map_or_else(
            || "alembic_version".to_string(),
            |c| c.version_table.clone(),
        ),
        version_table_schema: first.and_then(|c| c.version_table_schema.clone()),
        dialect_name: first.map(|c| c.dialect.clone()),
        is_mariadb: first.and_then(|c| c.is_mariadb).unwrap_or(false),
        server_version_info: first
            .and_then(|c| c.server_version_info.clone())
            .unwrap_or_default(),
        server_version_error: contexts.iter().find_map(|c| c.server_version_error.clone()),
        rendering,
        ..Generated::default()
    };
    let upgraded_any = revisions.iter().any(|r| {
        rendered
            .step(target, Direction::Upgrade, &r.revision)
            .is_some()
    });
    if !upgraded_any {
        g.environment_failure = Some(match (rendered.run_failure(target, Direction::Upgrade), &rendered.crashed) {
            (Some(f), _) => format!("Alembic's `upgrade heads --sql` failed before any revision: {}", f.message),
            (None, Some(crash)) => format!("Alembic's `upgrade heads --sql` stopped before any revision: {crash}"),
            (None, None) => "env.py ran no migration in offline mode (does it call `context.run_migrations()` when `context.is_offline_mode()`?)".to_string(),
        });
        return g;
    }
    for rev in revisions {
        for direction in [Direction::Upgrade, Direction::Downgrade] {
            let (sqls, failures) = match direction {
                Direction::Upgrade => (&mut g.upgrades, &mut g.upgrade_failures),
                Direction::Downgrade => (&mut g.downgrades, &mut g.downgrade_failures),
            };
            let id = rev.revision.clone();
            let Some(step) = rendered.step(target, direction, &rev.revision) else {
                let why = match (rendered.run_failure(target, direction), &rendered.crashed) {
                    (Some(f), _) => format!("Alembic failed: {}", f.message),
                    (None, Some(crash)) => format!("Alembic stopped: {crash}"),
                    (None, None) => {
                        "Alembic's offline run has no step for this revision".to_string()
                    }
                };
                failures.insert(id, why);
                continue;
            };
            if step.autocommit {
                g.autocommit.insert(id.clone());
            }
            if let Some(error) = &step.error {
                failures.insert(id, format!("Alembic failed in this revision: {error}"));
                continue;
            }
            let clean =
                |sql: &str| clean_chunk(sql, &g.version_table, g.rendering.as_ref(), family);
            match clean(&step.sql) {
                Ok(mut cleaned) => {
                    let second = rendered
                        .second(target, direction, &rev.revision)
                        .filter(|s| s.error.is_none())
                        .and_then(|s| clean(&s.sql).ok());
                    if let Some(second) = second {
                        cleaned.compare(&second, family);
                    }
                    sqls.insert(id, cleaned);
                }
                Err(why) => {
                    failures.insert(id, why);
                }
            }
        }
    }
    g
}

/// The sections offline mode left without SQL although their function has code
/// (it failed, or emitted nothing): what `--online-scratch` renders. A
/// `downgrade()` that raises is irreversible, not missing.
fn needs_online(revisions: &[AlembicRevision], g: &Generated) -> Vec<(Direction, String)> {
    let missing =
        |sqls: &HashMap<String, Cleaned>, id: &str| sqls.get(id).is_none_or(|c| c.statements == 0);
    let mut needed = Vec::new();
    for rev in revisions {
        if rev.upgrade_body != Body::Empty && missing(&g.upgrades, &rev.revision) {
            needed.push((Direction::Upgrade, rev.revision.clone()));
        }
        if rev.downgrade_body == Body::Code && missing(&g.downgrades, &rev.revision) {
            needed.push((Direction::Downgrade, rev.revision.clone()));
        }
    }
    needed
}

/// `--online-scratch`: renders the sections offline mode could not, against a
/// scratch database on `server`; `None` when none needed it (no database is made).
fn render_online(
    args: &ImportAlembic,
    project: &Project,
    server: &ScratchServer,
    g: &Generated,
    revisions: &[AlembicRevision],
) -> Result<Option<Online>, String> {
    if let Some(why) = &g.environment_failure {
        println!(
            "note: --online-scratch was not used: {}",
            why.trim_end_matches('.')
        );
        return Ok(None);
    }
    let needed = needs_online(revisions, g);
    if needed.is_empty() {
        println!(
            "note: offline mode rendered every section: --online-scratch was not needed, and no scratch database was made"
        );
        return Ok(None);
    }
    let dialect = g.dialect_name.as_deref().unwrap_or("unknown");
    if Family::of(dialect) != server.family() {
        return Err(format!(
            "--online-scratch {}: the SQL is rendered for the {dialect} dialect (the URL env.py configures), and this server is of another kind; give a server of the kind you target, or make env.py render for this one (`-x url=…` if it reads it, or sqlalchemy.url); nothing was written",
            server.shown
        ));
    }
    let Some(ini) = &project.ini else {
        return Ok(None);
    };
    let online = import_online::render(
        &import_online::AlembicArgs {
            python: &g.python,
            ini,
            name: &args.name,
            x_args: &args.x_args,
        },
        server,
        &import_online::Offline {
            dialect,
            is_mariadb: g.is_mariadb,
            version_table: &g.version_table,
        },
        &needed,
    )?;
    Ok(Some(online))
}

/// What the report says about one revision.
struct Status {
    upgrade: String,
    downgrade: String,
    upgrade_filled: bool,
    downgrade_filled: bool,
    /// Whether the section's SQL comes from the online run.
    upgrade_online: bool,
    downgrade_online: bool,
    /// Where its `autocommit_block` was seen, when it runs without a transaction.
    autocommit_seen: &'static str,
    /// The values frozen into each section, by the section's name
    /// (`upgrade`, or `upgrade (mysql)` for one dialect's rendering).
    frozen: Vec<(String, Frozen)>,
}

impl Status {
    /// What the report says about a section rendered for several dialects:
    /// each dialect's `parts`, the dialects of its `variants`.
    fn merged(
        parts: &[(SqlDialect, Status)],
        upgrade_variants: &[SqlDialect],
        downgrade_variants: &[SqlDialect],
    ) -> Status {
        let said = |which: fn(&Status) -> &String, variants: &[SqlDialect]| {
            let first = parts.first().map(|(_, s)| which(s));
            let mut text = if parts.iter().all(|(_, s)| Some(which(s)) == first) {
                first.cloned().unwrap_or_default()
            } else {
                parts
                    .iter()
                    .map(|(d, s)| format!("{d}: {}", which(s)))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            if !variants.is_empty() {
                text.push_str(&format!(
                    ", variant for {}",
                    import_dialects::names(variants)
                ));
            }
            text
        };
        Status {
            upgrade: said(|s| &s.upgrade, upgrade_variants),
            downgrade: said(|s| &s.downgrade, downgrade_variants),
            upgrade_filled: parts.iter().all(|(_, s)| s.upgrade_filled),
            downgrade_filled: parts.iter().all(|(_, s)| s.downgrade_filled),
            upgrade_online: parts.iter().any(|(_, s)| s.upgrade_online),
            downgrade_online: parts.iter().any(|(_, s)| s.downgrade_online),
            autocommit_seen: parts
                .iter()
                .map(|(_, s)| s.autocommit_seen)
                .find(|seen| !seen.is_empty())
                .unwrap_or(""),
            frozen: parts
                .iter()
                .flat_map(|(d, s)| {
                    s.frozen
                        .iter()
                        .map(move |(section, f)| (format!("{section} ({d})"), f.clone()))
                })
                .collect(),
        }
    }
}

/// A revision's sections as one rendering gave them, or, once
/// [`Sections::combined`], as its file holds them for every dialect.
struct Sections {
    upgrade: Upgrade,
    upgrade_variants: Vec<(SqlDialect, Upgrade)>,
    downgrade: Downgrade,
    downgrade_variants: Vec<(SqlDialect, Downgrade)>,
    transaction: TransactionMode,
    status: Status,
}

impl Sections {
    /// The sections of a file from each rendering's (one per dialect of
    /// `dialects`, in order; without dialects, the one rendering's): the
    /// default each section's most common rendering, a variant per dialect
    /// whose rendering differs; without a transaction when any rendering
    /// needs none.
    fn combined(dialects: &[SqlDialect], per_target: Vec<Sections>) -> Option<Sections> {
        if dialects.is_empty() {
            return per_target.into_iter().next();
        }
        let mut upgrades = Vec::with_capacity(dialects.len());
        let mut downgrades = Vec::with_capacity(dialects.len());
        let mut statuses = Vec::with_capacity(dialects.len());
        let mut transaction = TransactionMode::PerMigration;
        for (&dialect, sections) in dialects.iter().zip(per_target) {
            upgrades.push((dialect, sections.upgrade));
            downgrades.push((dialect, sections.downgrade));
            statuses.push((dialect, sections.status));
            if sections.transaction == TransactionMode::None {
                transaction = TransactionMode::None;
            }
        }
        let (upgrade, mut upgrade_variants) = import_dialects::upgrades(upgrades)?;
        let (downgrade, mut downgrade_variants) = import_dialects::downgrades(downgrades)?;
        // A variant's placeholder beside a default that rendered says so.
        if !matches!(upgrade, Upgrade::Placeholder(_)) {
            for (dialect, variant) in &mut upgrade_variants {
                if let Upgrade::Placeholder(todo) = variant {
                    todo.push('\n');
                    todo.push_str(&import_dialects::variant_placeholder_note(*dialect));
                }
            }
        }
        if !matches!(downgrade, Downgrade::Placeholder(_)) {
            for (dialect, variant) in &mut downgrade_variants {
                if let Downgrade::Placeholder(todo) = variant {
                    todo.push('\n');
                    todo.push_str(&import_dialects::variant_placeholder_note(*dialect));
                }
            }
        }
        let status = Status::merged(
            &statuses,
            &upgrade_variants.iter().map(|(d, _)| *d).collect::<Vec<_>>(),
            &downgrade_variants
                .iter()
                .map(|(d, _)| *d)
                .collect::<Vec<_>>(),
        );
        Some(Sections {
            upgrade,
            upgrade_variants,
            downgrade,
            downgrade_variants,
            transaction,
            status,
        })
    }
}

/// Chooses each section's content: Alembic's offline SQL, a statically known
/// no-op or irreversible downgrade, the SQL the online run executed (marked),
/// or a placeholder saying why and what to do.
fn bodies(rev: &AlembicRevision, sql: &SqlSource, online: Option<&Online>) -> Sections {
    let file = &rev.file;
    let (generated, unavailable) = match sql {
        SqlSource::Generated(g) => (Some(g), g.environment_failure.clone()),
        SqlSource::Unavailable(why) => (None, Some(why.clone())),
    };
    let up_sql = generated.and_then(|g| g.upgrades.get(&rev.revision));
    let down_sql = generated.and_then(|g| g.downgrades.get(&rev.revision));
    let up_online = online.and_then(|o| o.sql(Direction::Upgrade, &rev.revision));
    let down_online = online.and_then(|o| o.sql(Direction::Downgrade, &rev.revision));
    let why_not = |failures: Option<&HashMap<String, String>>| -> String {
        unavailable
            .clone()
            .or_else(|| failures.and_then(|f| f.get(&rev.revision).cloned()))
            .unwrap_or_else(|| "Alembic gave no SQL for it".to_string())
    };
    // What offline mode said, for the marker of a section rendered online.
    let why_offline =
        |offline: Option<&Cleaned>, failures: Option<&HashMap<String, String>>| match offline {
            Some(_) => "it emitted no SQL there".to_string(),
            None => why_not(failures),
        };
    // Why the online run could not fill a placeholder too.
    let online_too = |direction: Direction| -> String {
        online
            .and_then(|o| {
                o.failure(direction, &rev.revision).map(|why| {
                    format!(
                        "\nRun online against an empty {} database, it gave no SQL either: {}.",
                        o.server,
                        why.trim_end_matches('.')
                    )
                })
            })
            .unwrap_or_default()
    };
    // Alembic's own printout, which the placeholders point to, has every `%` doubled.
    let percent_note = generated
        .and_then(|g| g.rendering.as_ref())
        .filter(|r| r.double_percents)
        .map_or(String::new(), |r| {
            format!(
                "\nThat printout writes every `%` as `%%` (SQLAlchemy's escaping for the {} driver): write it once here.",
                r.paramstyle
            )
        });
    let mut status = Status {
        upgrade: String::new(),
        downgrade: String::new(),
        upgrade_filled: false,
        downgrade_filled: false,
        upgrade_online: false,
        downgrade_online: false,
        autocommit_seen: "",
        frozen: Vec::new(),
    };
    let upgrade = match (up_sql, rev.upgrade_body, up_online.zip(online)) {
        (Some(c), _, _) if c.statements > 0 => {
            status.upgrade = format!("SQL from Alembic ({} statement(s))", c.statements);
            status.upgrade_filled = true;
            status
                .frozen
                .extend(c.frozen.iter().map(|f| ("upgrade".to_string(), f.clone())));
            Upgrade::Sql(c.sql(TOOL))
        }
        (Some(_), Body::Empty, _) | (None, Body::Empty, _) => {
            status.upgrade = if rev.is_merge() {
                "none (merge)".to_string()
            } else {
                "no-op (upgrade() emits no SQL)".to_string()
            };
            status.upgrade_filled = up_sql.is_some();
            Upgrade::Nothing(format!("upgrade() in {file} emits no SQL."))
        }
        (_, _, Some((c, o))) => {
            status.upgrade_online = true;
            let marker = o.marker(
                TOOL,
                Direction::Upgrade,
                &why_offline(up_sql, generated.map(|g| &g.upgrade_failures)),
                c.statements,
            );
            if c.statements > 0 {
                status.upgrade = format!(
                    "SQL from Alembic run online on an empty database ({} statement(s))",
                    c.statements
                );
                Upgrade::Sql(format!("{marker}\n{}", c.sql(TOOL)))
            } else {
                status.upgrade = "no statement on an empty database (run online)".to_string();
                Upgrade::Sql(format!(
                    "{marker}\n-- `SELECT 1` keeps the section valid: an upgrade needs a statement.\nSELECT 1;"
                ))
            }
        }
        (Some(_), _, None) => {
            status.upgrade =
                "PLACEHOLDER (upgrade() has code, but no SQL in offline mode)".to_string();
            Upgrade::Placeholder(format!(
                "upgrade() in {file} has code, but Alembic's offline mode emitted no SQL for it\n(does it skip offline mode, or change data from Python?). Write the SQL it runs;\nif it truly does nothing, write `SELECT 1;` and say so in a comment.{}",
                online_too(Direction::Upgrade)
            ))
        }
        (None, _, None) => {
            let why = why_not(generated.map(|g| &g.upgrade_failures));
            status.upgrade = placeholder_status(&why, unavailable.is_some());
            Upgrade::Placeholder(format!(
                "No SQL was imported: {}.{}\nWrite the SQL that upgrade() in {file} runs. Where Alembic works,\n`alembic upgrade {}:{} --sql` prints it (leave out the alembic_version statements).{percent_note}",
                why.trim_end_matches('.'),
                online_too(Direction::Upgrade),
                rev.down_revisions.first().map_or("base", String::as_str),
                rev.revision
            ))
        }
    };
    let downgrade = match (down_sql, rev.downgrade_body, down_online.zip(online)) {
        (Some(c), _, _) if c.statements > 0 => {
            status.downgrade = format!("SQL from Alembic ({} statement(s))", c.statements);
            status.downgrade_filled = true;
            status.frozen.extend(
                c.frozen
                    .iter()
                    .map(|f| ("downgrade".to_string(), f.clone())),
            );
            Downgrade::Sql(c.sql(TOOL))
        }
        (_, Body::Raises, _) => {
            status.downgrade = "irreversible (downgrade() raises)".to_string();
            Downgrade::Irreversible(format!(
                "downgrade() in {file} raises an exception: Alembic cannot revert this revision either."
            ))
        }
        (Some(_), Body::Empty, _) | (None, Body::Empty, _) => {
            status.downgrade = if rev.is_merge() {
                "none (merge)".to_string()
            } else {
                "no-op (downgrade() emits no SQL)".to_string()
            };
            status.downgrade_filled = down_sql.is_some();
            Downgrade::Nothing(format!(
                "downgrade() in {file} emits no SQL: nothing to revert."
            ))
        }
        (_, _, Some((c, o))) => {
            status.downgrade_online = true;
            let marker = o.marker(
                TOOL,
                Direction::Downgrade,
                &why_offline(down_sql, generated.map(|g| &g.downgrade_failures)),
                c.statements,
            );
            if c.statements > 0 {
                status.downgrade = format!(
                    "SQL from Alembic run online on an empty database ({} statement(s))",
                    c.statements
                );
                Downgrade::Sql(format!("{marker}\n{}", c.sql(TOOL)))
            } else {
                status.downgrade = "no statement on an empty database (run online)".to_string();
                Downgrade::Sql(marker)
            }
        }
        (Some(_), _, None) => {
            status.downgrade =
                "PLACEHOLDER (downgrade() has code, but no SQL in offline mode)".to_string();
            Downgrade::Placeholder(format!(
                "downgrade() in {file} has code, but Alembic's offline mode emitted no SQL for it\n(does it skip offline mode, or change data from Python?). Write the SQL it runs;\nif it truly reverts nothing, a comment alone marks a deliberate no-op.{}",
                online_too(Direction::Downgrade)
            ))
        }
        (None, _, None) => {
            let why = why_not(generated.map(|g| &g.downgrade_failures));
            status.downgrade = placeholder_status(&why, unavailable.is_some());
            Downgrade::Placeholder(format!(
                "No SQL was imported: {}.{}\nWrite the SQL that downgrade() in {file} runs, or replace this section with\n`-- migrate:irreversible`. Where Alembic works, `alembic downgrade {}:{} --sql` prints it.{percent_note}",
                why.trim_end_matches('.'),
                online_too(Direction::Downgrade),
                rev.revision,
                rev.down_revisions.first().map_or("base", String::as_str)
            ))
        }
    };
    // The mode comes from what rendering saw; where a section did not render
    // (a placeholder), from the source naming `autocommit_block`.
    let rendered_autocommit = up_sql.is_some_and(|c| c.autocommit)
        || down_sql.is_some_and(|c| c.autocommit)
        || generated.is_some_and(|g| g.autocommit.contains(&rev.revision))
        || ((status.upgrade_online || status.downgrade_online)
            && online.is_some_and(|o| o.autocommit.contains(&rev.revision)));
    let unrendered = (up_sql.is_none() && up_online.is_none() && rev.upgrade_body == Body::Code)
        || (down_sql.is_none() && down_online.is_none() && rev.downgrade_body == Body::Code);
    status.autocommit_seen = if rendered_autocommit {
        "seen while rendering"
    } else if unrendered && rev.autocommit_in_source {
        "named in its source"
    } else {
        ""
    };
    let transaction = if status.autocommit_seen.is_empty() {
        TransactionMode::PerMigration
    } else {
        TransactionMode::None
    };
    Sections {
        upgrade,
        upgrade_variants: Vec::new(),
        downgrade,
        downgrade_variants: Vec::new(),
        transaction,
        status,
    }
}

/// `PLACEHOLDER`, with the reason when it is this revision's own (a reason shared by
/// every revision is printed once, at the end).
fn placeholder_status(why: &str, shared: bool) -> String {
    if shared {
        "PLACEHOLDER".to_string()
    } else {
        format!(
            "PLACEHOLDER ({})",
            why.lines().collect::<Vec<_>>().join(" ")
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn docstring_gives_message_and_date() {
        let (m, d) = docstring_fields(
            "add users\ntable\n\nRevision ID: a1\nRevises:\nCreate Date: 2024-05-06 07:08:09.123456\n\n",
        );
        assert_eq!(m, "add users\ntable");
        assert_eq!(d.as_deref(), Some("2024-05-06 07:08:09.123456"));
        let (m, d) = docstring_fields("\nRevision ID: a1\nRevises:\nCreate Date:\n");
        assert_eq!(m, "");
        assert_eq!(d, None);
    }

    #[test]
    fn shebangs_name_the_python() {
        let dir = std::env::temp_dir().join(format!("xtask-shebang-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("alembic");
        let python = dir.join("python3");
        std::fs::write(&python, "").unwrap();
        let real = format!("#!{}\n", python.display());
        for (first, expected) in [
            (real.as_str(), Some(python.to_str().unwrap())),
            ("#!/no/such/venv/bin/python3\n", None),
            ("#!/usr/bin/env python3\n", Some("python3")),
            ("#!/bin/sh\n", None),
            ("#!/usr/bin/python3 -E\n", None),
        ] {
            std::fs::write(&script, format!("{first}import sys\n")).unwrap();
            assert_eq!(
                script_python(&script),
                expected.map(PathBuf::from),
                "{first}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ini_values_interpolate_here() {
        let mut values = HashMap::new();
        values.insert("base".to_string(), "db".to_string());
        assert_eq!(interpolate("%(here)s/alembic", "/p", &values), "/p/alembic");
        assert_eq!(interpolate("%(base)s/x %% y", "/p", &values), "db/x % y");
    }
}
