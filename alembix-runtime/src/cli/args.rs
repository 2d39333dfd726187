//! The options several commands share: `--db` and `--schema`, `--json`,
//! `--sql` and `--dialect`. Each command's own arguments are in its file under `commands/`.

use crate::dialect::Dialect;
use clap::{Args, ValueEnum};

/// `--db URL` and `--schema NAME`.
#[derive(Debug, Clone, Default, Args)]
pub struct DatabaseArg {
    /// Database URL: sqlite://FILE (or a file path), postgres://USER@HOST/DB, mysql://USER@HOST/DB
    /// [default: $DATABASE_URL, else the program's own default database, if it has one].
    #[arg(
        long = "db",
        value_name = "URL",
        env = "DATABASE_URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
    /// Schema (PostgreSQL) or database (MySQL/MariaDB) the migrations run in, created by
    /// upgrade/downgrade/stamp if missing; the version tables live there too unless the program
    /// sets version_table_schema [default: the program's target_schema, else the connection's
    /// default schema].
    #[arg(long = "schema", value_name = "NAME")]
    pub schema: Option<String>,
}

/// `--json`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct JsonArg {
    /// Print one JSON document on stdout instead of text (stable field names).
    #[arg(long)]
    pub json: bool,
}

/// `--sql` and `--dialect`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OfflineArgs {
    /// Print the SQL script instead of running it (offline; no connection is made).
    #[arg(long)]
    pub sql: bool,
    /// SQL dialect of the script (default: the scheme of --db / DATABASE_URL).
    #[arg(long, value_enum, requires = "sql")]
    pub dialect: Option<DialectArg>,
}

/// A SQL dialect for `--sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    #[value(alias = "postgres")]
    Postgresql,
    /// MySQL and MariaDB.
    #[value(alias = "mariadb")]
    Mysql,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Dialect {
        match d {
            DialectArg::Sqlite => Dialect::Sqlite,
            DialectArg::Postgresql => Dialect::Postgres,
            DialectArg::Mysql => Dialect::Mysql,
        }
    }
}

/// `--targets`, `--schemas`, `--schemas-query`, `--jobs`, `--canary`,
/// `--keep-going`: the command over many databases or schemas at once.
#[derive(Debug, Clone, Default, Args)]
pub struct FleetArgs {
    /// Run on every target listed in FILE (`-`: standard input): one per line, a URL
    /// optionally followed by a schema name; blank lines and `#` lines are skipped.
    #[arg(long = "targets", value_name = "FILE", conflicts_with_all = ["schemas", "schemas_query"])]
    pub targets_file: Option<String>,
    /// Run on every schema (PostgreSQL) or database (MySQL/MariaDB) of the --db server whose
    /// name matches this SQL LIKE pattern, e.g. 'tenant_%' (system schemas excluded).
    #[arg(long, value_name = "PATTERN", conflicts_with_all = ["schemas_query", "schema"])]
    pub schemas: Option<String>,
    /// Run on the schemas a query on --db returns in a column called `name`,
    /// e.g. "SELECT schema_name AS name FROM tenants WHERE active".
    #[arg(long, value_name = "SQL", conflicts_with = "schema")]
    pub schemas_query: Option<String>,
    /// With a fleet: targets under way at once, one connection each [default: 4].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// With a fleet: run the first K targets alone first, one at a time; if one fails, stop.
    #[arg(long, value_name = "K")]
    pub canary: Option<usize>,
    /// With a fleet: go on past failed targets (otherwise the first failure stops the run;
    /// targets under way finish).
    #[arg(long)]
    pub keep_going: bool,
}

impl FleetArgs {
    /// Whether a fleet was named (`--targets`, `--schemas` or `--schemas-query`).
    pub fn is_fleet(&self) -> bool {
        self.targets_file.is_some() || self.schemas.is_some() || self.schemas_query.is_some()
    }
}
