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
