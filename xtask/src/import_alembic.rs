//! `cargo xtask import-alembic PATH`: turn an Alembic project's versions folder into
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
//! 2. **read**: every revision module, statically ([`crate::python`]), in Alembic's
//!    load order (each version location in turn, file names sorted, subfolders after
//!    files when recursive). No Python runs for this part.
//! 3. **validate**: ids and labels against our format, then the graph with the same
//!    core code the build uses; every problem of every file is reported at once.
//! 4. **SQL**: where Alembic can run, its offline mode gives the bodies: one
//!    `alembic upgrade heads --sql` run and one `alembic downgrade <head>:base --sql`
//!    run per head, cut at Alembic's `-- Running upgrade A -> B` comments; a run
//!    that fails keeps the revisions it completed and resumes past the failing one
//!    (see [`generate_sql`]); what is left is tried one revision at a time.
//!    Alembic's own bookkeeping (`alembic_version` statements) and its
//!    `BEGIN;`/`COMMIT;` are removed: our runtime does both itself. A `COMMIT;` inside
//!    a revision (an `autocommit_block`) makes it `-- transaction: none`.
//!    Alembic runs through [`PROBE`], which reports how SQLAlchemy rendered: where
//!    its dialect wrote every `%` as `%%` (pyformat/format drivers), that is undone;
//!    a statement that still holds a bind parameter (`%(x)s`, `%s`, `:x`, `?`…, or
//!    a valueless one rendered as `NULL`) makes its revision a placeholder. A
//!    function that statically does nothing (`pass`, a docstring) needs no Alembic:
//!    a merge stays empty, another revision gets `SELECT 1;`; a `downgrade()` that
//!    raises becomes `-- migrate:irreversible`. What cannot be had — or code that
//!    emitted no SQL offline — becomes a placeholder that fails the build until
//!    filled.
//!    Every Python runs with `PYTHONHASHSEED=0`, and [`PROBE`] orders what
//!    SQLAlchemy keeps in sets, so a re-import writes the same bytes.
//! 5. **write**: file names keep Alembic's load order (the tie-breaker between
//!    independent branches); see [`name_prefixes`].

use crate::import_output::{self, Downgrade, ImportedRevision, Upgrade};
use crate::python::{self, Body, Value};
use alembix_core::file::{check_label, check_revision_id};
use alembix_core::sql::{split_statements, SqlDialect};
use alembix_core::{Graph, GraphOptions, HeadPolicy, Origin, RevisionSpec, TransactionMode};
use clap::Args;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const TOOL: &str = "import-alembic";

/// Arguments of `cargo xtask import-alembic`.
#[derive(Debug, Args)]
pub struct ImportAlembic {
    /// The Alembic project: the folder with alembic.ini (or the ini file itself), the
    /// script folder (with env.py), or a versions folder.
    path: PathBuf,
    /// The folder to write the migration files into (default: the workspace's
    /// `migrations/`); created if missing. No file is ever overwritten.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The alembic.ini to read and to run Alembic with (default: found from PATH).
    #[arg(short = 'c', long)]
    config: Option<PathBuf>,
    /// The ini section to use, as `alembic --name`.
    #[arg(short = 'n', long, default_value = "alembic")]
    name: String,
    /// A Python interpreter with Alembic and the project's dependencies (e.g. a
    /// virtualenv's `bin/python`); Alembic runs as `PYTHON -m alembic`.
    #[arg(long, conflicts_with = "alembic")]
    python: Option<PathBuf>,
    /// The `alembic` executable to run (default: `alembic` on PATH, then
    /// `python3 -m alembic`).
    #[arg(long)]
    alembic: Option<PathBuf>,
    /// Extra arguments for env.py, passed to Alembic as `-x ARG`.
    #[arg(short = 'x', long = "x-arg", value_name = "ARG")]
    x_args: Vec<String>,
    /// Do not run Alembic: SQL bodies become placeholders (except those that are
    /// statically empty).
    #[arg(long)]
    skip_sql: bool,
}

/// Runs `import-alembic`.
pub fn import_alembic(args: &ImportAlembic) -> Result<(), String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let project = locate(&cwd, args)?;
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
    let revisions = read_revisions(&project, &files)?;
    let graph = validate(&revisions)?;

    let sql = if args.skip_sql {
        SqlSource::Unavailable("--skip-sql was given".to_string())
    } else {
        match (&project.ini, alembic_command(args)?) {
            (None, _) => SqlSource::Unavailable(format!(
                "no alembic.ini was found for {} (give it with --config)",
                args.path.display()
            )),
            (Some(_), Err(why)) => SqlSource::Unavailable(why),
            (Some(ini), Ok(cmd)) => {
                println!(
                    "running `{} -c {} upgrade heads --sql` (offline mode) for the SQL bodies…",
                    cmd.shown,
                    project.show_user(ini)
                );
                SqlSource::Generated(Box::new(generate_sql(&cmd, ini, args, &revisions, &graph)))
            }
        }
    };

    let prefixes = name_prefixes(&revisions, &graph);
    let mut imported = Vec::with_capacity(revisions.len());
    let mut statuses = Vec::with_capacity(revisions.len());
    for (rev, prefix) in revisions.iter().zip(prefixes.needed) {
        let (upgrade, downgrade, transaction, status) = bodies(rev, &sql);
        statuses.push(status);
        imported.push(ImportedRevision {
            source: rev.file.clone(),
            revision: rev.revision.clone(),
            down_revisions: rev.down_revisions.clone(),
            branch_labels: rev.branch_labels.clone(),
            depends_on: rev.depends_on.clone(),
            message: rev.message.clone(),
            create_date: rev.create_date.clone(),
            transaction,
            name_prefix: prefix,
            upgrade,
            downgrade,
        });
    }
    let written = import_output::write_all(args.out.as_deref(), &imported, TOOL)?;

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
    println!(
        "summary: {} revision(s); {filled} section(s) filled from Alembic's offline SQL; {placeholders} file(s) with placeholders",
        imported.len()
    );
    if prefixes.ordinal {
        println!(
            "note: the file names start with a sequence number in Alembic's load order, because sorting by create date would reorder revisions on independent branches (the order is the tie-breaker when both are applied)"
        );
    }
    let not_generated = match &sql {
        SqlSource::Unavailable(why) => Some(why),
        SqlSource::Generated(g) => g.environment_failure.as_ref(),
    };
    if let Some(why) = not_generated.filter(|_| placeholders > 0) {
        println!(
            "note: the SQL was not generated: {}. To fill the placeholders from Alembic, delete the imported files and run again with `--python <venv>/bin/python` (a Python with alembic and your project's packages) or `--alembic <path>`",
            why.trim_end_matches('.')
        );
    }
    match &sql {
        SqlSource::Generated(g) if g.environment_failure.is_none() => {
            if g.version_table != "alembic_version" {
                println!(
                    "note: env.py names the version table `{}`; configure the runtime with the same table when it takes over the database",
                    g.version_table
                );
            }
            if let Some(dialect) = &g.dialect {
                println!("note: the SQL is for the dialect in alembic.ini (Alembic used {dialect}); the runtime must run it on that database");
            }
            if let Some(r) = g.rendering.as_ref().filter(|r| r.double_percents) {
                println!(
                    "note: SQLAlchemy wrote each `%` as `%%` for the {} paramstyle (its driver turns `%%` back into `%`); the imported SQL has `%` as the database must see it",
                    r.paramstyle
                );
            }
            for rev in imported
                .iter()
                .filter(|r| r.transaction == TransactionMode::None)
            {
                println!(
                    "note: {} commits inside its upgrade or downgrade (an `autocommit_block`), so it runs with `-- transaction: none`",
                    rev.revision
                );
            }
        }
        _ => {}
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

fn locate(cwd: &Path, args: &ImportAlembic) -> Result<Project, String> {
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
        let (version_dirs, recursive) = config.version_locations(cwd, &ini)?;
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
                .and_then(|c| c.version_locations(cwd, ini))
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
    fn version_locations(&self, cwd: &Path, ini: &Path) -> Result<(Vec<PathBuf>, bool), String> {
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
                .map(|p| self.folder(cwd, p, "version_locations"))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok((dirs, recursive));
        }
        let script = self.values.get("script_location").ok_or_else(|| {
            format!(
                "{} has no `script_location` in its [alembic] section; pass the versions folder instead (cargo xtask import-alembic path/to/versions --config {})",
                self.file.display(),
                self.file.display()
            )
        })?;
        let script_dir = self.folder(cwd, script, "script_location")?;
        if !script_dir.is_dir() {
            // Alembic refuses it too ("Path doesn't exist").
            let beside_ini = ini.parent().map(|p| p.join(script)).filter(|p| p.is_dir());
            let help = match beside_ini {
                Some(_) if Path::new(script).is_relative() => format!(
                    "a relative `script_location` is resolved against the current directory, as Alembic does; run the import from the folder you run Alembic in (`cd {} && cargo run --manifest-path {} -p xtask -- import-alembic .`), or write `script_location = %(here)s/{script}`",
                    ini.parent().unwrap_or(Path::new(".")).display(),
                    crate::workspace_root().join("Cargo.toml").display()
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

    fn folder(&self, cwd: &Path, value: &str, key: &str) -> Result<PathBuf, String> {
        let path = Path::new(value);
        if !path.is_absolute() && value.contains(':') {
            return Err(format!(
                "{}: {key} `{value}` names a Python package resource, which this command cannot resolve; pass the versions folder instead (cargo xtask import-alembic path/to/versions --config {})",
                self.file.display(),
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

/// One Alembic revision as read from its module.
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
}

impl AlembicRevision {
    fn is_merge(&self) -> bool {
        self.down_revisions.len() > 1
    }
}

const NAMES: &[&str] = &["revision", "down_revision", "branch_labels", "depends_on"];

/// Reads every file, reporting all problems of all files together.
fn read_revisions(project: &Project, files: &[PathBuf]) -> Result<Vec<AlembicRevision>, String> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let shown = project.show_user(path);
        match read_revision(path, &shown).map(|rev| AlembicRevision {
            file: project.show(path),
            shown: shown.clone(),
            ..rev
        }) {
            Ok(rev) => out.push(rev),
            Err(mut ps) => problems.append(&mut ps),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "{} problem(s) in the Alembic history; nothing was written:\n{}",
            problems.len(),
            problems.join("\n")
        ))
    }
}

fn read_revision(path: &Path, shown: &str) -> Result<AlembicRevision, Vec<String>> {
    let text = std::fs::read(path)
        .map_err(|e| vec![format!("{shown}: cannot be read: {e}")])
        .and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| {
                vec![format!(
                    "{shown}: not valid UTF-8; save it as UTF-8 and run again"
                )]
            })
        })?;
    // Python reads source with universal newlines.
    let text = text.replace("\r\n", "\n");
    let module = python::read_module(&text, NAMES).map_err(|e| {
        vec![format!(
            "{shown}:{}: cannot read this file statically: {}",
            e.line, e.message
        )]
    })?;
    let mut problems = Vec::new();
    let literal_help = "write it as a string, a tuple or list of strings, or None: the import reads the file without running Python";
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
                problems.push(format!(
                    "{shown}:{}: cannot read `revision` statically: {why}; write it as a string literal",
                    a.line
                ));
                (String::new(), a.line)
            }
        },
        None => {
            // Alembic's legacy rule: a hex file name is the revision id.
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !stem.is_empty()
                && stem
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                (stem, 1)
            } else {
                problems.push(format!(
                    "{shown}: no module-level `revision = \"…\"`; Alembic cannot load this file either"
                ));
                (String::new(), 1)
            }
        }
    };
    let list = |key: &str, problems: &mut Vec<String>| -> Vec<String> {
        match module.get(key) {
            None => Vec::new(),
            Some(a) => match a
                .value
                .as_ref()
                .map_err(Clone::clone)
                .and_then(Value::as_id_list)
            {
                Ok(mut v) => {
                    // Alembic removes repeated entries (`util.dedupe_tuple`).
                    let mut seen = HashSet::new();
                    v.retain(|item| seen.insert(item.clone()));
                    v
                }
                Err(why) => {
                    problems.push(format!(
                        "{shown}:{}: cannot read `{key}` statically: {why}; {literal_help}",
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
    // Our format's identifier rules, stricter than Alembic's.
    let id_help = "databases store this id in alembic_version, so rename the revision in Alembic first (its file, every down_revision and depends_on naming it, and the alembic_version rows), then import again";
    if !revision.is_empty() {
        if let Err(why) = check_revision_id(&revision) {
            problems.push(format!(
                "{shown}:{line}: revision id `{revision}` {why}; {id_help}"
            ));
        }
    }
    for parent in &down_revisions {
        if let Err(why) = check_revision_id(parent) {
            problems.push(format!(
                "{shown}: down_revision `{parent}` {why}; {id_help}"
            ));
        }
    }
    for label in &branch_labels {
        if let Err(why) = check_label(label) {
            problems.push(format!(
                "{shown}: branch label `{label}` {why}; rename the label in Alembic (labels use A-Z, a-z, 0-9 and _, up to 64 characters) and import again"
            ));
        }
    }
    for dep in &depends_on {
        if let Err(why) = check_label(dep) {
            problems.push(format!(
                "{shown}: depends_on entry `{dep}` {why}; {id_help}"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (message, create_date) = docstring_fields(module.docstring.as_deref().unwrap_or(""));
    let body = |name: &str| module.function(name).map_or(Body::Code, |(_, b)| b);
    Ok(AlembicRevision {
        file: shown.to_string(),
        shown: shown.to_string(),
        line,
        revision,
        down_revisions,
        branch_labels,
        depends_on,
        message,
        create_date,
        upgrade_body: body("upgrade"),
        downgrade_body: body("downgrade"),
    })
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

/// How Alembic is run.
struct AlembicCommand {
    program: PathBuf,
    pre_args: Vec<String>,
    shown: String,
    /// The Python that runs this Alembic, when known: the runs then go through
    /// [`PROBE`], which reports how SQLAlchemy renders the SQL.
    python: Option<PathBuf>,
}

impl AlembicCommand {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.pre_args);
        with_python_env(&mut cmd);
        cmd
    }

    /// The command for the offline runs: through [`PROBE`] when the Python is known.
    fn run_command(&self) -> Command {
        match &self.python {
            Some(python) => {
                let mut cmd = Command::new(python);
                cmd.args(["-c", PROBE]);
                with_python_env(&mut cmd);
                cmd
            }
            None => self.command(),
        }
    }

    fn works(&self) -> Result<(), String> {
        let out = self
            .command()
            .arg("--version")
            .output()
            .map_err(|e| format!("`{}` cannot be started: {e}", self.shown))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`{} --version` failed: {}",
                self.shown,
                failure_message(
                    &String::from_utf8_lossy(&out.stdout),
                    &String::from_utf8_lossy(&out.stderr),
                    out.status
                )
            ))
        }
    }
}

/// The Alembic to run: `Ok(Err(why))` when none is available (placeholders follow),
/// `Err` when the one the user named does not work.
fn alembic_command(args: &ImportAlembic) -> Result<Result<AlembicCommand, String>, String> {
    if let Some(python) = &args.python {
        let cmd = AlembicCommand {
            program: python.clone(),
            pre_args: vec!["-m".into(), "alembic".into()],
            shown: format!("{} -m alembic", python.display()),
            python: Some(python.clone()),
        };
        return cmd.works().map(|()| Ok(cmd)).map_err(|e| {
            format!("--python: {e}\ninstall Alembic into that Python (`{} -m pip install alembic` plus your project's packages), or drop --python", python.display())
        });
    }
    if let Some(alembic) = &args.alembic {
        let cmd = AlembicCommand {
            program: alembic.clone(),
            pre_args: Vec::new(),
            shown: alembic.display().to_string(),
            python: script_python(alembic),
        };
        return cmd
            .works()
            .map(|()| Ok(cmd))
            .map_err(|e| format!("--alembic: {e}"));
    }
    let candidates = [
        AlembicCommand {
            program: PathBuf::from("alembic"),
            pre_args: Vec::new(),
            shown: "alembic".into(),
            python: on_path("alembic").as_deref().and_then(script_python),
        },
        AlembicCommand {
            program: PathBuf::from("python3"),
            pre_args: vec!["-m".into(), "alembic".into()],
            shown: "python3 -m alembic".into(),
            python: Some(PathBuf::from("python3")),
        },
    ];
    let mut tried = Vec::new();
    for cmd in candidates {
        match cmd.works() {
            Ok(()) => return Ok(Ok(cmd)),
            Err(e) => tried.push(e),
        }
    }
    Ok(Err(format!(
        "Alembic is not available here ({})",
        tried.join("; ")
    )))
}

/// The environment of every Python the importer starts: no bytecode files, UTF-8
/// output, and a fixed string hash, so that code iterating a set of names emits its
/// SQL in the same order on every import.
fn with_python_env(cmd: &mut Command) {
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .env("PYTHONHASHSEED", "0");
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

/// Runs Alembic's command line (as `python -m alembic` does) after three hooks:
/// each migration context reports its dialect, paramstyle and whether SQLAlchemy
/// doubles `%` for it; a bind parameter that has no value, which offline mode
/// renders as `NULL`, is rendered as `/* <UNFILLED_BIND> name */ NULL` instead, so
/// the importer sees it; and indexes, constraints and foreign keys, which a table
/// keeps in sets, hash by the order they are first hashed instead of by memory
/// address, so that `create_table` emits its `CREATE INDEX`es in the same order on
/// every run. Without the hooks Alembic runs unchanged.
const PROBE: &str = r#"import re, sys
TAG = "xtask-import-alembic-probe:"
def _hooks():
    try:
        from alembic.runtime.migration import MigrationContext
    except Exception:
        return
    init = MigrationContext.__init__
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        try:
            d = self.dialect
            sys.stderr.write("%s dialect=%s paramstyle=%s double_percents=%d\n" % (
                TAG, d.name, d.paramstyle, int(bool(d.identifier_preparer._double_percents))))
            sys.stderr.flush()
        except Exception:
            pass
    MigrationContext.__init__ = __init__
    try:
        from sqlalchemy.sql.compiler import SQLCompiler
    except Exception:
        return
    render = SQLCompiler.render_literal_bindparam
    def render_literal_bindparam(self, bindparam, *args, **kwargs):
        if (not args and "render_literal_value" not in kwargs
                and bindparam.value is None and bindparam.callable is None
                and getattr(bindparam, "required", False)
                and bindparam.key not in (getattr(self, "_collected_params", None) or {})):
            name = re.sub(r"[^\w.$-]", "_", str(bindparam.key))
            return "/* xtask-import-alembic: unfilled %s */ NULL" % name
        return render(self, bindparam, *args, **kwargs)
    SQLCompiler.render_literal_bindparam = render_literal_bindparam
    try:
        import itertools
        from sqlalchemy.sql.schema import Constraint, ForeignKey, Index
    except Exception:
        return
    order = itertools.count()
    def __hash__(self):
        n = self.__dict__.get("_xtask_import_order")
        if n is None:
            n = self.__dict__["_xtask_import_order"] = next(order)
        return n
    for cls in (Constraint, ForeignKey, Index):
        cls.__hash__ = __hash__
_hooks()
sys.argv[0] = "alembic"
from alembic.config import main
sys.exit(main(prog="alembic"))
"#;

/// What [`PROBE`] writes to stderr for each migration context.
const PROBE_TAG: &str = "xtask-import-alembic-probe:";
/// What [`PROBE`] renders in place of a bind parameter without a value.
const UNFILLED_BIND: &str = "/* xtask-import-alembic: unfilled ";

/// The SQL family of the offline output, for reading its quotes and comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Postgres,
    Mysql,
    Sqlite,
    Other,
}

impl Family {
    /// From SQLAlchemy's dialect name (`postgresql`) or Alembic's impl (`PostgresqlImpl`).
    fn of(name: &str) -> Family {
        let name = name.to_ascii_lowercase();
        if name.starts_with("postgresql") {
            Family::Postgres
        } else if name.starts_with("mysql") || name.starts_with("mariadb") {
            Family::Mysql
        } else if name.starts_with("sqlite") {
            Family::Sqlite
        } else {
            Family::Other
        }
    }

    /// How alembix-core reads statements of this family.
    fn sql_dialect(self) -> SqlDialect {
        match self {
            Family::Postgres => SqlDialect::Postgres,
            Family::Mysql => SqlDialect::Mysql,
            Family::Sqlite | Family::Other => SqlDialect::Sqlite,
        }
    }
}

/// How SQLAlchemy rendered one run's SQL, as [`PROBE`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rendering {
    family: Family,
    /// The DBAPI paramstyle: `qmark`, `named`, `format`, `pyformat`, `numeric`…
    paramstyle: String,
    /// Whether every `%` of the SQL was written as `%%` (format/pyformat drivers).
    double_percents: bool,
}

impl Rendering {
    /// The one rendering every context of a run reported; `None` when there was no
    /// report (Alembic ran without [`PROBE`]) or contexts disagreed.
    fn from_stderr(stderr: &str) -> Option<Rendering> {
        let mut found: Option<Rendering> = None;
        for line in stderr.lines() {
            let Some(rest) = line.trim().strip_prefix(PROBE_TAG) else {
                continue;
            };
            let field = |key: &str| {
                rest.split_whitespace()
                    .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
                    .unwrap_or("")
            };
            let this = Rendering {
                family: Family::of(field("dialect")),
                paramstyle: field("paramstyle").to_string(),
                double_percents: field("double_percents") == "1",
            };
            match &found {
                Some(f) if *f != this => return None,
                _ => found = Some(this),
            }
        }
        found
    }
}

/// A bind parameter that offline mode did not fill in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unrendered {
    /// The parameter's marker as written (`%(extra)s`, `%s`, `:x`, `?`…).
    Marker(String),
    /// A parameter without a value, which `literal_binds` renders as `NULL` (the
    /// report of [`PROBE`]); its name.
    Null(String),
}

impl Unrendered {
    /// Why the statement cannot be imported as it is.
    fn explain(&self) -> String {
        match self {
            Unrendered::Marker(m) => format!("still holds the bind parameter `{m}`: offline mode had no value to write there, so the SQL would fail at upgrade; write the value in its place"),
            Unrendered::Null(name) => format!("has `NULL` where the bind parameter `{name}` stands: it has no value (Alembic online would refuse to run it), and offline mode wrote NULL in its place; write the value the revision means"),
        }
    }
}

/// Checks one statement of offline output for a bind parameter that Alembic left
/// unrendered.
///
/// Markers are looked for outside string literals, quoted identifiers and comments,
/// in the form the paramstyle renders them (`%(name)s`, `%s`, `:name`, `:1`, `$1`,
/// `?`); with no known paramstyle, in every form.
fn find_bind_marker(
    sql: &str,
    family: Family,
    rendering: Option<&Rendering>,
) -> Option<Unrendered> {
    if let Some(at) = sql.find(UNFILLED_BIND) {
        let name = sql[at + UNFILLED_BIND.len()..]
            .split_whitespace()
            .next()
            .unwrap_or("");
        return Some(Unrendered::Null(name.to_string()));
    }
    find_marker(sql, family, rendering).map(Unrendered::Marker)
}

/// The first bind parameter marker of `sql`, as [`find_bind_marker`] looks for it.
fn find_marker(sql: &str, family: Family, rendering: Option<&Rendering>) -> Option<String> {
    let style = rendering.map(|r| r.paramstyle.as_str());
    let wants = |s: &str| style.is_none_or(|p| p == s);
    let bytes = sql.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        match c {
            b'-' if next == Some(b'-')
                && (family != Family::Mysql
                    || bytes.get(i + 2).is_none_or(|b| b.is_ascii_whitespace())) =>
            {
                i = sql[i..].find('\n').map_or(bytes.len(), |k| i + k);
            }
            b'#' if family == Family::Mysql => {
                i = sql[i..].find('\n').map_or(bytes.len(), |k| i + k);
            }
            b'/' if next == Some(b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |k| i + 2 + k + 2);
            }
            b'\'' | b'"' | b'`' => {
                let backslash = match family {
                    Family::Mysql => c != b'`',
                    // E'…' strings; standard strings take backslashes as they are.
                    Family::Postgres => {
                        c == b'\''
                            && i > 0
                            && bytes[i - 1].eq_ignore_ascii_case(&b'e')
                            && (i < 2 || !word(bytes[i - 2]))
                    }
                    _ => false,
                };
                i = quoted_end(bytes, i, c, backslash);
            }
            b'[' if matches!(family, Family::Sqlite | Family::Other) => {
                i = sql[i..].find(']').map_or(bytes.len(), |k| i + k + 1);
            }
            b'$' if family == Family::Postgres
                && next.is_some_and(|b| b.is_ascii_digit())
                && (i == 0 || !word(bytes[i - 1])) =>
            {
                if wants("numeric_dollar") {
                    return Some(marker_text(sql, i, |b| b.is_ascii_digit()));
                }
                i += 1;
            }
            b'$' if family == Family::Postgres && (i == 0 || !word(bytes[i - 1])) => {
                // A dollar-quoted body: `$$ … $$` or `$tag$ … $tag$`.
                let tag_len = bytes[i + 1..]
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                    .filter(|&k| bytes.get(i + 1 + k) == Some(&b'$'))
                    .map(|k| k + 2);
                match tag_len {
                    Some(len) => {
                        let tag = &sql[i..i + len];
                        i = sql[i + len..]
                            .find(tag)
                            .map_or(bytes.len(), |k| i + len + k + len);
                    }
                    None => i += 1,
                }
            }
            b'%' => {
                let run = bytes[i..].iter().take_while(|&&b| b == b'%').count();
                let last = i + run - 1;
                // With doubling, a marker is the odd `%` at the end of a run.
                let single = rendering.is_none_or(|r| !r.double_percents) || run % 2 == 1;
                if single {
                    let after = &sql[last + 1..];
                    if after.starts_with('s') && (wants("format") || wants("pyformat")) {
                        return Some("%s".to_string());
                    }
                    if let Some(name) = after
                        .strip_prefix('(')
                        .and_then(|a| a.split_once(")s"))
                        .map(|(name, _)| name)
                        .filter(|n| !n.contains(['(', ')', '\n']))
                    {
                        if wants("pyformat") || wants("format") {
                            return Some(format!("%({name})s"));
                        }
                    }
                }
                i += run;
            }
            // No PostgreSQL driver uses `?`, which is a JSON operator there.
            b'?' if wants("qmark") && (style.is_some() || family != Family::Postgres) => {
                return Some("?".to_string())
            }
            b':' if i == 0
                || !(word(bytes[i - 1]) || bytes[i - 1] == b':' || bytes[i - 1] == b'\\') =>
            {
                match next {
                    Some(b) if b.is_ascii_digit() && wants("numeric") => {
                        return Some(marker_text(sql, i, |b| b.is_ascii_digit()));
                    }
                    Some(b)
                        if (b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
                            && wants("named") =>
                    {
                        return Some(marker_text(sql, i, word));
                    }
                    _ => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The index just past a quoted run that starts at `start` with `quote`; a doubled
/// quote, and with `backslash` a backslash, escapes.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash => i += 2,
            b if b == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The marker at `at`: its first byte, then the bytes that `part` accepts.
fn marker_text(sql: &str, at: usize, part: impl Fn(u8) -> bool) -> String {
    let len = sql.as_bytes()[at + 1..]
        .iter()
        .take_while(|&&b| part(b))
        .count();
    String::from_utf8_lossy(&sql.as_bytes()[at..at + 1 + len]).into_owned()
}

/// Undoes SQLAlchemy's `%` → `%%` escaping where this run's dialect applied it
/// (everywhere: literals, identifiers, `op.execute` text, operators), so the text
/// means what it meant to the driver. `Err` when that cannot be known.
fn undo_percent_escaping(text: &str, rendering: Option<&Rendering>) -> Result<String, String> {
    if !text.contains('%') {
        return Ok(text.to_string());
    }
    let Some(rendering) = rendering else {
        return Err("it holds `%`, and whether SQLAlchemy wrote each `%` as `%%` depends on the paramstyle Alembic rendered with, which the importer could not learn from this run (name the Python that runs Alembic with --python)".to_string());
    };
    if !rendering.double_percents {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let run = rest[at..].bytes().take_while(|&b| b == b'%').count();
        if run % 2 == 1 {
            return Err(format!(
                "it holds a single `%`, which SQLAlchemy would have written as `%%` for the {} paramstyle: text that did not come from SQLAlchemy (e.g. `context.static_output`), so what it means is unclear",
                rendering.paramstyle
            ));
        }
        out.extend(std::iter::repeat_n('%', run / 2));
        rest = &rest[at + run..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `sql` without the comments [`PROBE`] puts before a valueless parameter's `NULL`.
fn without_unfilled_comments(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find(UNFILLED_BIND) {
        out.push_str(&rest[..at]);
        rest = rest[at..]
            .split_once("*/")
            .map_or("", |(_, tail)| tail.trim_start());
    }
    out.push_str(rest);
    out
}

/// The first line of `sql`, cut to 60 characters, for messages.
fn excerpt(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// What offline mode gave for each revision.
#[derive(Debug, Default)]
struct Generated {
    upgrades: HashMap<String, Cleaned>,
    downgrades: HashMap<String, Cleaned>,
    /// Why a revision has no upgrade/downgrade SQL.
    upgrade_failures: HashMap<String, String>,
    downgrade_failures: HashMap<String, String>,
    /// Set when Alembic failed before any revision (env.py, the URL…).
    environment_failure: Option<String>,
    /// `SQLiteImpl`, `PostgresqlImpl`… as Alembic reports it.
    dialect: Option<String>,
    /// How SQLAlchemy rendered the SQL (the first run that reported it).
    rendering: Option<Rendering>,
    /// The version table env.py configures (`alembic_version` unless changed).
    version_table: String,
}

enum SqlSource {
    Unavailable(String),
    Generated(Box<Generated>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Upgrade,
    Downgrade,
}

/// One Alembic run, cut into per-revision chunks.
struct Run {
    /// `(revision, chunk)` for every step that completed.
    chunks: Vec<(String, String)>,
    /// The statements before the first step (e.g. the version table's CREATE TABLE).
    prologue: String,
    /// When the run failed: the revision it was in (if any) and why.
    failure: Option<(Option<String>, String)>,
    dialect: Option<String>,
    /// How SQLAlchemy rendered this run's SQL, when [`PROBE`] reported it.
    rendering: Option<Rendering>,
}

fn run_alembic(
    cmd: &AlembicCommand,
    ini: &Path,
    args: &ImportAlembic,
    direction: Direction,
    range: &str,
) -> Run {
    let verb = match direction {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    };
    let mut command = cmd.run_command();
    command.arg("-c").arg(ini).arg("-n").arg(&args.name);
    for x in &args.x_args {
        command.arg("-x").arg(x);
    }
    command.args([verb, range, "--sql"]);
    // Alembic runs in the current directory, which relative locations (and
    // `prepend_sys_path = .`) are resolved against, as they were when reading.
    let output = match command.output() {
        Ok(o) => o,
        Err(e) => {
            return Run {
                chunks: Vec::new(),
                prologue: String::new(),
                failure: Some((None, format!("`{}` cannot be started: {e}", cmd.shown))),
                dialect: None,
                rendering: None,
            }
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let dialect = stderr.lines().find_map(|l| {
        l.split_once("Context impl ")
            .map(|(_, d)| d.trim_end_matches('.').trim().to_string())
    });
    let rendering = Rendering::from_stderr(&stderr);
    let (prologue, mut chunks) = split_chunks(&stdout, direction);
    let failure = if output.status.success() {
        None
    } else {
        // The last step did not finish: its chunk is incomplete.
        let at = chunks.pop().map(|(rev, _)| rev);
        let messages = stderr
            .lines()
            .filter(|l| !l.trim_start().starts_with(PROBE_TAG))
            .collect::<Vec<_>>()
            .join("\n");
        Some((at, failure_message(&stdout, &messages, output.status)))
    };
    Run {
        chunks,
        prologue,
        failure,
        rendering,
        dialect,
    }
}

/// Cuts offline output at `-- Running upgrade A -> B` / `-- Running downgrade B -> A`.
fn split_chunks(stdout: &str, direction: Direction) -> (String, Vec<(String, String)>) {
    let prefix = match direction {
        Direction::Upgrade => "-- Running upgrade ",
        Direction::Downgrade => "-- Running downgrade ",
    };
    let mut prologue = String::new();
    let mut chunks: Vec<(String, String)> = Vec::new();
    for line in stdout.split_inclusive('\n') {
        let marker = line
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once("->"))
            .map(|(from, to)| match direction {
                Direction::Upgrade => to.trim().to_string(),
                Direction::Downgrade => from.trim().to_string(),
            });
        match (marker, chunks.last_mut()) {
            (Some(rev), _) => chunks.push((rev, String::new())),
            (None, Some((_, text))) => text.push_str(line),
            (None, None) => prologue.push_str(line),
        }
    }
    (prologue, chunks)
}

/// Why an Alembic run failed: Alembic's `FAILED: …` message, which it prints on
/// stdout (all of it: a message may span lines), else the last line on stderr
/// (a traceback's exception, or the logged error), else the exit status.
fn failure_message(stdout: &str, stderr: &str, status: impl std::fmt::Display) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    if let Some(at) = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("FAILED:"))
    {
        let first = lines[at].trim_start().trim_start_matches("FAILED:").trim();
        let message = std::iter::once(first)
            .chain(lines[at + 1..].iter().map(|l| l.trim_end()))
            .collect::<Vec<_>>()
            .join("\n");
        let message = message.trim();
        if !message.is_empty() {
            return message.to_string();
        }
    }
    if stderr.trim().is_empty() {
        return format!("it printed no message ({status})");
    }
    last_line(stderr)
}

fn last_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message");
    let line = line.strip_prefix("FAILED: ").unwrap_or(line);
    match line
        .strip_prefix("ERROR [")
        .and_then(|l| l.split_once("] "))
    {
        Some((_, message)) => message.to_string(),
        None => line.to_string(),
    }
}

/// A revision's SQL from offline mode, without Alembic's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cleaned {
    /// Statements, each with `;`, separated by blank lines; standalone comments kept.
    sql: String,
    statements: usize,
    /// Whether it committed mid-way (an `autocommit_block`).
    autocommit: bool,
}

/// The version table's name, from the `CREATE TABLE … (version_num …` in a prologue.
fn version_table(prologue: &str, family: Family) -> Option<String> {
    let split = split_statements(prologue, 1, family.sql_dialect());
    split.statements.into_iter().find_map(|s| {
        let words: Vec<&str> = s.sql.split_whitespace().collect();
        match words.as_slice() {
            [c, t, name, ..]
                if c.eq_ignore_ascii_case("CREATE")
                    && t.eq_ignore_ascii_case("TABLE")
                    && s.sql.contains("version_num") =>
            {
                Some(table_name(name))
            }
            _ => None,
        }
    })
}

/// `"schema"."Table"(` → `table`.
fn table_name(word: &str) -> String {
    let word = word.split('(').next().unwrap_or(word);
    let last = word.rsplit('.').next().unwrap_or(word);
    last.trim_matches(['"', '`', '[', ']']).to_ascii_lowercase()
}

/// `chunk` (one revision's step of offline output) without Alembic's bookkeeping and
/// transaction framing, with SQLAlchemy's `%` escaping undone (per `rendering`);
/// `Err` when a statement still holds a bind parameter or its `%` cannot be read.
fn clean_chunk(
    chunk: &str,
    version_table: &str,
    rendering: Option<&Rendering>,
    family: Family,
) -> Result<Cleaned, String> {
    enum Kind {
        Bookkeeping,
        Transaction,
        Sql,
    }
    let statements = split_statements(chunk, 1, family.sql_dialect()).statements;
    let mut cursor = 0;
    let mut items: Vec<(Kind, String)> = Vec::new();
    for stmt in &statements {
        let Some(found) = chunk[cursor..].find(&stmt.sql) else {
            continue;
        };
        let gap = &chunk[cursor..cursor + found];
        for line in gap.lines().map(str::trim) {
            let line = line.trim_start_matches(';').trim();
            if line.starts_with("--") && !line.starts_with("-- Running ") {
                items.push((Kind::Sql, line.to_string()));
            }
        }
        cursor += found + stmt.sql.len();
        let words: Vec<String> = stmt
            .sql
            .split_whitespace()
            .take(3)
            .map(str::to_ascii_uppercase)
            .collect();
        let target = match words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["INSERT", "INTO", ..]
            | ["DELETE", "FROM", ..]
            | ["CREATE", "TABLE", ..]
            | ["DROP", "TABLE", ..] => stmt.sql.split_whitespace().nth(2).map(table_name),
            ["UPDATE", ..] => stmt.sql.split_whitespace().nth(1).map(table_name),
            _ => None,
        };
        let kind = if target.as_deref() == Some(version_table) {
            Kind::Bookkeeping
        } else if matches!(
            words
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["BEGIN"]
                | ["BEGIN", "TRANSACTION"]
                | ["START", "TRANSACTION"]
                | ["COMMIT"]
                | ["COMMIT", "TRANSACTION"]
        ) {
            Kind::Transaction
        } else {
            Kind::Sql
        };
        items.push((kind, format!("{};", stmt.sql)));
    }
    items.retain(|(k, _)| !matches!(k, Kind::Bookkeeping));
    // Alembic's own framing sits at the end of a step: COMMIT (and the next BEGIN).
    while matches!(items.last(), Some((Kind::Transaction, _))) {
        items.pop();
    }
    let autocommit = items.iter().any(|(k, _)| matches!(k, Kind::Transaction));
    items.retain(|(k, _)| !matches!(k, Kind::Transaction));
    let mut statement = 0;
    for (_, text) in &mut items {
        if !text.starts_with("--") {
            statement += 1;
            if let Some(unrendered) = find_bind_marker(text, family, rendering) {
                return Err(format!(
                    "statement {statement} of Alembic's offline SQL (`{}`) {}",
                    excerpt(&without_unfilled_comments(text)),
                    unrendered.explain()
                ));
            }
        }
        *text = undo_percent_escaping(text, rendering).map_err(|why| {
            format!(
                "statement {} of Alembic's offline SQL (`{}`) cannot be taken as it is: {why}",
                statement.max(1),
                excerpt(text)
            )
        })?;
    }
    let count = items
        .iter()
        .filter(|(_, text)| !text.starts_with("--"))
        .count();
    let sql = if count == 0 {
        String::new()
    } else {
        items
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    import_output::check_sql_body(&sql)?;
    Ok(Cleaned {
        sql,
        statements: count,
        autocommit,
    })
}

/// Runs Alembic's offline mode and collects each revision's SQL both ways.
///
/// Few runs in the usual case: one `upgrade heads`, and after a revision X fails,
/// `upgrade X:heads` (Alembic then takes X as applied and goes on past it) as long
/// as each new failure lies past the previous one; downgrades likewise from each
/// head, resuming below a failing revision from its parent. Whatever is still
/// missing is tried one revision at a time.
fn generate_sql(
    cmd: &AlembicCommand,
    ini: &Path,
    args: &ImportAlembic,
    revisions: &[AlembicRevision],
    graph: &Graph,
) -> Generated {
    let mut g = Generated::default();
    let mut collector = Collector {
        wanted: revisions.iter().map(|r| r.revision.clone()).collect(),
        table: "alembic_version".to_string(),
    };
    let run = |direction: Direction, range: &str| run_alembic(cmd, ini, args, direction, range);
    let descends =
        |later: &str, earlier: &str| match (graph.index_of(later), graph.index_of(earlier)) {
            (Some(l), Some(e)) => l != e && graph.ancestor_mask(&[l], true)[e],
            _ => false,
        };

    // Upgrade.
    let first = run(Direction::Upgrade, "heads");
    let started = !first.chunks.is_empty() || first.failure.as_ref().is_some_and(|f| f.0.is_some());
    let mut failure = collector.absorb(&mut g, first, Direction::Upgrade);
    if !started {
        // Nothing to retry per revision: env.py, the URL or the output is the problem.
        g.environment_failure = Some(match failure {
            Some((_, why)) => format!(
                "`{} upgrade heads --sql` failed before any revision: {why}",
                cmd.shown
            ),
            None => format!(
                "`{} upgrade heads --sql` printed no `-- Running upgrade` step (does env.py write the SQL elsewhere, e.g. one file per database?)",
                cmd.shown
            ),
        });
        g.version_table = collector.table;
        return g;
    }
    while let Some((Some(failed), _)) = failure.take() {
        let run_result = run(Direction::Upgrade, &format!("{failed}:heads"));
        failure = collector
            .absorb(&mut g, run_result, Direction::Upgrade)
            .filter(|(at, _)| at.as_deref().is_some_and(|at| descends(at, &failed)));
    }
    for rev in revisions {
        if g.upgrades.contains_key(&rev.revision)
            || g.upgrade_failures.contains_key(&rev.revision)
            || rev.upgrade_body == Body::Empty
        {
            continue;
        }
        let start = rev.down_revisions.first().map_or("base", String::as_str);
        let result = run(Direction::Upgrade, &format!("{start}:{}", rev.revision));
        let failure = collector.absorb(&mut g, result, Direction::Upgrade);
        if !g.upgrades.contains_key(&rev.revision)
            && !g.upgrade_failures.contains_key(&rev.revision)
        {
            let reason = match failure {
                Some((Some(other), _)) => format!(
                    "Alembic failed at revision {other} before reaching this one ({})",
                    g.upgrade_failures
                        .get(&other)
                        .map_or("see above", String::as_str)
                ),
                Some((None, why)) => format!("Alembic failed: {why}"),
                None => "Alembic's offline output has no step for this revision".to_string(),
            };
            g.upgrade_failures.insert(rev.revision.clone(), reason);
        }
    }

    // Downgrade: from each head to base, resuming below a revision that fails.
    let parent_of = |id: &str| -> Option<String> {
        let idx = graph.index_of(id)?;
        match graph.rev(idx).down.as_slice() {
            [one] => Some(graph.rev(*one).id.clone()),
            _ => None,
        }
    };
    for &head in graph.heads() {
        let mut start = Some(graph.rev(head).id.clone());
        while let Some(from) = start.take() {
            let result = run(Direction::Downgrade, &format!("{from}:base"));
            if let Some((Some(failed), _)) = collector.absorb(&mut g, result, Direction::Downgrade)
            {
                start = parent_of(&failed).filter(|p| !g.downgrades.contains_key(p));
            }
        }
    }
    for rev in revisions {
        if g.downgrades.contains_key(&rev.revision)
            || g.downgrade_failures.contains_key(&rev.revision)
            || matches!(rev.downgrade_body, Body::Raises | Body::Empty)
        {
            continue;
        }
        let target = rev.down_revisions.first().map_or("base", String::as_str);
        let result = run(Direction::Downgrade, &format!("{}:{target}", rev.revision));
        let failure = collector.absorb(&mut g, result, Direction::Downgrade);
        if !g.downgrades.contains_key(&rev.revision)
            && !g.downgrade_failures.contains_key(&rev.revision)
        {
            let reason = match failure {
                Some((_, why)) => format!("Alembic failed: {why}"),
                None => "Alembic's offline output has no step for this revision".to_string(),
            };
            g.downgrade_failures.insert(rev.revision.clone(), reason);
        }
    }
    g.version_table = collector.table;
    g
}

/// Files the chunks of Alembic runs under their revisions.
struct Collector {
    wanted: HashSet<String>,
    /// The version table's name, as the first run's prologue creates it.
    table: String,
}

impl Collector {
    /// Records the complete steps of `run`; returns its failure (the revision it
    /// stopped in, if any, and why).
    fn absorb(
        &mut self,
        g: &mut Generated,
        run: Run,
        direction: Direction,
    ) -> Option<(Option<String>, String)> {
        if g.dialect.is_none() {
            g.dialect = run.dialect.clone();
        }
        let family = match (&run.rendering, &run.dialect) {
            (Some(r), _) => r.family,
            (None, Some(impl_name)) => Family::of(impl_name),
            (None, None) => Family::Other,
        };
        if let Some(t) = version_table(&run.prologue, family) {
            self.table = t;
        }
        let (sqls, failures) = match direction {
            Direction::Upgrade => (&mut g.upgrades, &mut g.upgrade_failures),
            Direction::Downgrade => (&mut g.downgrades, &mut g.downgrade_failures),
        };
        if g.rendering.is_none() {
            g.rendering = run.rendering.clone();
        }
        for (rev, chunk) in run.chunks {
            if !self.wanted.contains(&rev) || sqls.contains_key(&rev) {
                continue;
            }
            match clean_chunk(&chunk, &self.table, run.rendering.as_ref(), family) {
                Ok(c) => {
                    failures.remove(&rev);
                    sqls.insert(rev, c);
                }
                Err(why) => {
                    failures.insert(rev, why);
                }
            }
        }
        if let Some((Some(rev), why)) = &run.failure {
            if !sqls.contains_key(rev) {
                failures.insert(
                    rev.clone(),
                    format!("Alembic failed in this revision: {why}"),
                );
            }
        }
        run.failure
    }
}

/// What the report says about one revision.
struct Status {
    upgrade: String,
    downgrade: String,
    upgrade_filled: bool,
    downgrade_filled: bool,
}

/// Chooses each section's content: Alembic's SQL, a statically known no-op or
/// irreversible downgrade, or a placeholder saying why and what to do.
fn bodies(rev: &AlembicRevision, sql: &SqlSource) -> (Upgrade, Downgrade, TransactionMode, Status) {
    let file = &rev.file;
    let (generated, unavailable) = match sql {
        SqlSource::Generated(g) => (Some(g), g.environment_failure.clone()),
        SqlSource::Unavailable(why) => (None, Some(why.clone())),
    };
    let up_sql = generated.and_then(|g| g.upgrades.get(&rev.revision));
    let down_sql = generated.and_then(|g| g.downgrades.get(&rev.revision));
    let why_not = |failures: Option<&HashMap<String, String>>| -> String {
        unavailable
            .clone()
            .or_else(|| failures.and_then(|f| f.get(&rev.revision).cloned()))
            .unwrap_or_else(|| "Alembic gave no SQL for it".to_string())
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
    };
    let upgrade = match (up_sql, rev.upgrade_body) {
        (Some(c), _) if c.statements > 0 => {
            status.upgrade = format!("SQL from Alembic ({} statement(s))", c.statements);
            status.upgrade_filled = true;
            Upgrade::Sql(c.sql.clone())
        }
        (Some(_), Body::Empty) | (None, Body::Empty) => {
            status.upgrade = if rev.is_merge() {
                "none (merge)".to_string()
            } else {
                "no-op (upgrade() emits no SQL)".to_string()
            };
            status.upgrade_filled = up_sql.is_some();
            Upgrade::Nothing(format!("upgrade() in {file} emits no SQL."))
        }
        (Some(_), _) => {
            status.upgrade =
                "PLACEHOLDER (upgrade() has code, but no SQL in offline mode)".to_string();
            Upgrade::Placeholder(format!(
                "upgrade() in {file} has code, but Alembic's offline mode emitted no SQL for it\n(does it skip offline mode, or change data from Python?). Write the SQL it runs;\nif it truly does nothing, write `SELECT 1;` and say so in a comment."
            ))
        }
        (None, _) => {
            let why = why_not(generated.map(|g| &g.upgrade_failures));
            status.upgrade = placeholder_status(&why, unavailable.is_some());
            Upgrade::Placeholder(format!(
                "No SQL was imported: {}.\nWrite the SQL that upgrade() in {file} runs. Where Alembic works,\n`alembic upgrade {}:{} --sql` prints it (leave out the alembic_version statements).{percent_note}",
                why.trim_end_matches('.'),
                rev.down_revisions.first().map_or("base", String::as_str),
                rev.revision
            ))
        }
    };
    let downgrade = match (down_sql, rev.downgrade_body) {
        (Some(c), _) if c.statements > 0 => {
            status.downgrade = format!("SQL from Alembic ({} statement(s))", c.statements);
            status.downgrade_filled = true;
            Downgrade::Sql(c.sql.clone())
        }
        (_, Body::Raises) => {
            status.downgrade = "irreversible (downgrade() raises)".to_string();
            Downgrade::Irreversible(format!(
                "downgrade() in {file} raises an exception: Alembic cannot revert this revision either."
            ))
        }
        (Some(_), Body::Empty) | (None, Body::Empty) => {
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
        (Some(_), _) => {
            status.downgrade =
                "PLACEHOLDER (downgrade() has code, but no SQL in offline mode)".to_string();
            Downgrade::Placeholder(format!(
                "downgrade() in {file} has code, but Alembic's offline mode emitted no SQL for it\n(does it skip offline mode, or change data from Python?). Write the SQL it runs;\nif it truly reverts nothing, a comment alone marks a deliberate no-op."
            ))
        }
        (None, _) => {
            let why = why_not(generated.map(|g| &g.downgrade_failures));
            status.downgrade = placeholder_status(&why, unavailable.is_some());
            Downgrade::Placeholder(format!(
                "No SQL was imported: {}.\nWrite the SQL that downgrade() in {file} runs, or replace this section with\n`-- migrate:irreversible`. Where Alembic works, `alembic downgrade {}:{} --sql` prints it.{percent_note}",
                why.trim_end_matches('.'),
                rev.revision,
                rev.down_revisions.first().map_or("base", String::as_str)
            ))
        }
    };
    let autocommit = up_sql.is_some_and(|c| c.autocommit) || down_sql.is_some_and(|c| c.autocommit);
    let transaction = if autocommit {
        TransactionMode::None
    } else {
        TransactionMode::PerMigration
    };
    (upgrade, downgrade, transaction, status)
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
    fn chunks_are_cut_at_running_comments() {
        let out = "CREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL\n);\n\n-- Running upgrade  -> a1\n\nCREATE TABLE t (id INT);\n\nINSERT INTO alembic_version (version_num) VALUES ('a1') RETURNING version_num;\n\n-- Running upgrade a1, b2 -> m3\n\nUPDATE alembic_version SET version_num='m3' WHERE alembic_version.version_num = 'a1';\n\n";
        let (prologue, chunks) = split_chunks(out, Direction::Upgrade);
        assert_eq!(
            version_table(&prologue, Family::Sqlite).as_deref(),
            Some("alembic_version")
        );
        assert_eq!(
            chunks.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            ["a1", "m3"]
        );
        let a1 = clean_chunk(&chunks[0].1, "alembic_version", None, Family::Sqlite).unwrap();
        assert_eq!(a1.sql, "CREATE TABLE t (id INT);");
        assert!(!a1.autocommit);
        let m3 = clean_chunk(&chunks[1].1, "alembic_version", None, Family::Sqlite).unwrap();
        assert_eq!(m3.statements, 0);
        let (_, down) = split_chunks(
            "-- Running downgrade a1 -> \n\nDROP TABLE t;\n\n",
            Direction::Downgrade,
        );
        assert_eq!(down[0].0, "a1");
    }

    #[test]
    fn transaction_framing_is_removed_and_autocommit_detected() {
        let step = "\nCREATE TABLE t (id INT);\n\nUPDATE \"myschema\".\"alembic_version\" SET version_num='b' WHERE version_num = 'a';\n\nCOMMIT;\n\nBEGIN;\n\n";
        let c = clean_chunk(step, "alembic_version", None, Family::Postgres).unwrap();
        assert_eq!(c.sql, "CREATE TABLE t (id INT);");
        assert!(!c.autocommit);
        let step = "\nALTER TABLE t ADD x INT;\n\nCOMMIT;\n\n-- a note\nCREATE INDEX CONCURRENTLY ix ON t (x);\n\nBEGIN;\n\nUPDATE alembic_version SET version_num='b';\n\nCOMMIT;\n\n";
        let c = clean_chunk(step, "alembic_version", None, Family::Postgres).unwrap();
        assert!(c.autocommit);
        assert_eq!(
            c.sql,
            "ALTER TABLE t ADD x INT;\n\n-- a note\n\nCREATE INDEX CONCURRENTLY ix ON t (x);"
        );
        assert_eq!(c.statements, 2);
    }

    fn rendering(family: Family, paramstyle: &str, double_percents: bool) -> Rendering {
        Rendering {
            family,
            paramstyle: paramstyle.to_string(),
            double_percents,
        }
    }

    #[test]
    fn bind_markers_are_found_outside_quotes_and_comments_only() {
        let pg = rendering(Family::Postgres, "pyformat", true);
        let pg_named = rendering(Family::Postgres, "named", false);
        let my = rendering(Family::Mysql, "format", true);
        let my_named = rendering(Family::Mysql, "named", false);
        let lite = rendering(Family::Sqlite, "qmark", false);
        let cases: [(&str, &Rendering, Option<&str>); 21] = [
            ("UPDATE t SET extra=%(extra)s", &pg, Some("%(extra)s")),
            ("UPDATE t SET a = '%(x)s', b = '50%%'", &pg, None),
            ("SELECT a %% 2, '100%%' FROM \"p%%\"", &pg, None),
            ("SELECT a %%%s", &pg, Some("%s")),
            ("UPDATE t SET x = :x", &pg_named, Some(":x")),
            (
                "SELECT x::text, ARRAY[1:2], '12:30 :noon' FROM t",
                &pg_named,
                None,
            ),
            ("SELECT $$ :x $$, $body$ :y $body$ -- :z\n", &pg_named, None),
            ("SELECT E'it\\'s :x'", &pg_named, None),
            ("SELECT 'it\\'s :x'", &pg_named, Some(":x")),
            ("SELECT data ? 'key' FROM t", &pg, None),
            ("UPDATE t SET x = %s", &my, Some("%s")),
            ("UPDATE t SET x = '%s', y = \"%s\"", &my, None),
            ("UPDATE t SET n = 'it\\'s :x' # :y\n", &my_named, None),
            (
                "UPDATE t SET n = 'it\\'s' WHERE a = :x",
                &my_named,
                Some(":x"),
            ),
            ("SET @a := 1", &my_named, None),
            ("SELECT 1 --:x", &my_named, Some(":x")),
            ("UPDATE t SET x = ?", &lite, Some("?")),
            (
                "SELECT 'why?', \"a?\", `b?`, [c?] /* d? */ -- e?\n",
                &lite,
                None,
            ),
            ("UPDATE t SET x = :x", &lite, None),
            ("UPDATE t SET x = ?", &pg_named, None),
            (
                "UPDATE t SET x = $1",
                &rendering(Family::Postgres, "numeric_dollar", false),
                Some("$1"),
            ),
        ];
        for (sql, r, expected) in cases {
            assert_eq!(
                find_marker(sql, r.family, Some(r)).as_deref(),
                expected,
                "{sql} ({})",
                r.paramstyle
            );
        }
        assert_eq!(
            find_bind_marker(
                "UPDATE t SET x = /* xtask-import-alembic: unfilled x */ NULL",
                Family::Postgres,
                Some(&pg)
            ),
            Some(Unrendered::Null("x".to_string()))
        );
        assert_eq!(
            find_bind_marker("UPDATE t SET x = %s", Family::Mysql, Some(&my)),
            Some(Unrendered::Marker("%s".to_string()))
        );
        // Unknown paramstyle: every form counts, except `?` on PostgreSQL.
        assert_eq!(
            find_marker("SET x = :x", Family::Sqlite, None).as_deref(),
            Some(":x")
        );
        assert_eq!(
            find_marker("SET x = %(x)s", Family::Sqlite, None).as_deref(),
            Some("%(x)s")
        );
        assert_eq!(find_marker("SELECT a ? 'k'", Family::Postgres, None), None);
    }

    #[test]
    fn percent_escaping_is_undone_only_where_it_was_applied() {
        let doubled = rendering(Family::Postgres, "pyformat", true);
        assert_eq!(
            undo_percent_escaping("SELECT '50%%', a %% 2, '%%%%' FROM \"r%%\"", Some(&doubled))
                .unwrap(),
            "SELECT '50%', a % 2, '%%' FROM \"r%\""
        );
        assert!(undo_percent_escaping("SELECT '50%'", Some(&doubled))
            .unwrap_err()
            .contains("single `%`"));
        let named = rendering(Family::Postgres, "named", false);
        assert_eq!(
            undo_percent_escaping("SELECT '%%'", Some(&named)).unwrap(),
            "SELECT '%%'"
        );
        assert!(undo_percent_escaping("SELECT '%'", None).is_err());
        assert_eq!(undo_percent_escaping("SELECT 1", None).unwrap(), "SELECT 1");
    }

    #[test]
    fn probe_reports_are_read_from_stderr() {
        let stderr = "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\nxtask-import-alembic-probe: dialect=postgresql paramstyle=pyformat double_percents=1\n";
        assert_eq!(
            Rendering::from_stderr(stderr),
            Some(rendering(Family::Postgres, "pyformat", true))
        );
        let two = format!("{stderr}xtask-import-alembic-probe: dialect=sqlite paramstyle=qmark double_percents=0\n");
        assert_eq!(Rendering::from_stderr(&two), None, "contexts disagree");
        assert_eq!(Rendering::from_stderr("INFO no probe"), None);
    }

    #[test]
    fn chunks_with_markers_fail_and_percents_are_undone() {
        let pg = rendering(Family::Postgres, "pyformat", true);
        let step = "\nINSERT INTO t (a) VALUES ('100%%');\n\nUPDATE t SET extra=%(extra)s WHERE t.id = 1;\n\n";
        let why = clean_chunk(step, "alembic_version", Some(&pg), Family::Postgres).unwrap_err();
        assert!(why.contains("statement 2"), "{why}");
        assert!(why.contains("`%(extra)s`"), "{why}");
        let step = "\n-- 100%% done\nINSERT INTO t (a) VALUES ('100%%');\n\nUPDATE alembic_version SET version_num='b';\n\n";
        let c = clean_chunk(step, "alembic_version", Some(&pg), Family::Postgres).unwrap();
        assert_eq!(c.sql, "-- 100% done\n\nINSERT INTO t (a) VALUES ('100%');");
        let unfilled = "\nUPDATE t SET x = /* xtask-import-alembic: unfilled x */ NULL;\n\n";
        let why =
            clean_chunk(unfilled, "alembic_version", Some(&pg), Family::Postgres).unwrap_err();
        assert!(why.contains("(`UPDATE t SET x = NULL;`)"), "{why}");
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

    #[test]
    fn failure_messages_come_from_stdout_first() {
        let stdout = "-- Running upgrade  -> a1\n\nCREATE TABLE t (id INT);\nFAILED: needs a live database:\n  reads rows\n\n";
        assert_eq!(
            failure_message(stdout, "", "exit status: 255"),
            "needs a live database:\n  reads rows"
        );
        assert_eq!(
            failure_message(
                "SELECT 1;\n",
                "Traceback\nAttributeError: x\n",
                "exit status: 1"
            ),
            "AttributeError: x"
        );
        assert_eq!(
            failure_message("", " \n", "exit status: 2"),
            "it printed no message (exit status: 2)"
        );
    }

    #[test]
    fn last_line_drops_failed_prefix() {
        assert_eq!(
            last_line("INFO x\nFAILED: No such revision\n\n"),
            "No such revision"
        );
        assert_eq!(
            last_line("ERROR [alembic.util.messaging] Cannot proceed\n"),
            "Cannot proceed"
        );
    }
}
