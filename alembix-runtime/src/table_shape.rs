//! Whether the version and history tables found in a database have the shape
//! this tool reads and writes, checked before anything else runs.
//!
//! A table of the right name but the wrong shape would otherwise be misread:
//! an integer or `VARCHAR(8)` `version_num` cannot hold our ids and makes the
//! upgrade fail half-way; PostgreSQL pads a `CHAR(32)` so that our own
//! revision reads back as unknown; an extra `NOT NULL` column without a
//! default refuses every row we insert; a view or a foreign table of that name
//! is not ours at all. One query per check reads every column of both tables
//! (the same round trip that used to only ask whether they exist), and
//! [`judge`] turns what it finds into one error naming every problem and the
//! fix.

use crate::dialect::{Dialect, Sql};
use crate::error::{Error, Result};
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;

/// One column of one of our two tables, as the database describes it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub(crate) struct Column {
    /// The table's name.
    #[diesel(sql_type = Text)]
    pub table: String,
    /// What the relation is: `table`/`view` (SQLite), `relkind` (PostgreSQL),
    /// `TABLE_TYPE` (MySQL).
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The column's name.
    #[diesel(sql_type = Text)]
    pub column: String,
    /// Its type as the catalog spells it.
    #[diesel(sql_type = Text)]
    pub ty: String,
    /// `1` when `NOT NULL`.
    #[diesel(sql_type = BigInt)]
    pub not_null: i64,
    /// `1` when an insert may leave it out (a default, identity, auto-increment, rowid).
    #[diesel(sql_type = BigInt)]
    pub has_default: i64,
}

/// Every column of both tables (no row for a table that does not exist).
pub(crate) fn columns_query(sql: &Sql) -> String {
    let d = sql.dialect;
    let v = sql.tables.version.as_str();
    let h = sql.tables.history.as_str();
    match d {
        Dialect::Sqlite => {
            let (master, schema_arg) = match &sql.tables.schema {
                Some(s) => (
                    format!("{}.sqlite_master", d.quote(s)),
                    format!(", {}", d.literal(s.as_str())),
                ),
                None => ("sqlite_master".to_string(), String::new()),
            };
            format!(
                "SELECT m.name AS \"table\", m.type AS kind, p.name AS \"column\", p.type AS ty, CAST(p.\"notnull\" AS BIGINT) AS not_null, CAST(p.dflt_value IS NOT NULL OR (p.pk = 1 AND UPPER(p.type) = 'INTEGER') AS BIGINT) AS has_default FROM {master} m JOIN pragma_table_info(m.name{schema_arg}) p WHERE m.type IN ('table', 'view') AND m.name IN ({}, {}) ORDER BY m.name, p.cid",
                d.literal(v),
                d.literal(h)
            )
        }
        Dialect::Postgres => format!(
            "SELECT CAST(c.relname AS TEXT) AS \"table\", CAST(c.relkind AS TEXT) AS kind, CAST(a.attname AS TEXT) AS \"column\", format_type(a.atttypid, a.atttypmod) AS ty, CAST(CASE WHEN a.attnotnull THEN 1 ELSE 0 END AS BIGINT) AS not_null, CAST(CASE WHEN a.atthasdef OR a.attidentity <> '' THEN 1 ELSE 0 END AS BIGINT) AS has_default FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped WHERE c.oid = to_regclass({}) OR c.oid = to_regclass({}) ORDER BY c.relname, a.attnum",
            d.literal(&sql.version),
            d.literal(&sql.history)
        ),
        Dialect::Mysql => {
            let schema = match &sql.tables.schema {
                Some(s) => d.literal(s.as_str()),
                None => "DATABASE()".to_string(),
            };
            format!(
                "SELECT t.TABLE_NAME AS `table`, t.TABLE_TYPE AS kind, c.COLUMN_NAME AS `column`, c.COLUMN_TYPE AS ty, CAST(CASE WHEN c.IS_NULLABLE = 'NO' THEN 1 ELSE 0 END AS SIGNED) AS not_null, CAST(CASE WHEN c.COLUMN_DEFAULT IS NOT NULL OR c.EXTRA LIKE '%auto_increment%' THEN 1 ELSE 0 END AS SIGNED) AS has_default FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_SCHEMA = {schema} AND t.TABLE_NAME IN ({}, {}) ORDER BY t.TABLE_NAME, c.ORDINAL_POSITION",
                d.literal(v),
                d.literal(h)
            )
        }
    }
}

/// What a column must be able to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Text of at least this many characters.
    Text(u32),
    /// An integer.
    Integer,
    /// Anything (a timestamp with a default).
    Any,
}

/// The history table's columns and what each must hold.
const HISTORY_COLUMNS: &[(&str, Need)] = &[
    ("id", Need::Integer),
    ("revision", Need::Text(32)),
    ("down_revisions", Need::Text(2000)),
    ("depends_on", Need::Text(2000)),
    ("operation", Need::Text(16)),
    ("state", Need::Text(16)),
    ("checksum", Need::Text(80)),
    ("statements_done", Need::Integer),
    ("statements_total", Need::Integer),
    ("started_at", Need::Any),
    ("duration_ms", Need::Integer),
    ("message", Need::Text(0)),
    ("detail", Need::Text(0)),
    ("tool", Need::Text(64)),
    ("applied_digest", Need::Text(80)),
];

/// The longest revision id (Alembic's `VARCHAR(32)`).
const VERSION_NUM: Need = Need::Text(32);

/// Which of the two tables exist, `(version, history)`, or one error naming
/// every way they differ from what this tool reads and writes.
pub(crate) fn judge(sql: &Sql, columns: &[Column]) -> Result<(bool, bool)> {
    let version = sql.tables.version.as_str();
    let history = sql.tables.history.as_str();
    let of = |name: &str| -> Vec<&Column> { columns.iter().filter(|c| c.table == name).collect() };
    let (v, h) = (of(version), of(history));
    let mut problems = Vec::new();
    if !v.is_empty() {
        check_table(
            sql.dialect,
            &v,
            &[("version_num", VERSION_NUM)],
            &mut problems,
        );
    }
    if !h.is_empty() {
        check_table(sql.dialect, &h, HISTORY_COLUMNS, &mut problems);
    }
    if problems.is_empty() {
        return Ok((!v.is_empty(), !h.is_empty()));
    }
    Err(Error::VersionTable(format!(
        "the tables this tool keeps its state in are not the shape it reads and writes: {}. Nothing was run. If a table of that name belongs to something else, choose other names (`version_table` / `version_table_schema` in the configuration); if it is meant to be ours, fix its definition as said, or drop it if it holds nothing",
        problems.join("; ")
    )))
}

fn check_table(
    dialect: Dialect,
    columns: &[&Column],
    needs: &[(&str, Need)],
    out: &mut Vec<String>,
) {
    let Some(first) = columns.first() else { return };
    let table = &first.table;
    if !is_table(dialect, &first.kind) {
        out.push(format!(
            "'{table}' is {}, not a table",
            kind_name(dialect, &first.kind)
        ));
        return;
    }
    for (name, need) in needs {
        match columns.iter().find(|c| c.column.eq_ignore_ascii_case(name)) {
            None => out.push(format!("'{table}' has no column {name}")),
            Some(c) => {
                if let Some(why) = unfit(dialect, &c.ty, *need) {
                    let fix = match need {
                        Need::Text(n) if *n > 0 => {
                            format!(
                                " (make it VARCHAR({}){})",
                                n.max(&32),
                                if dialect == Dialect::Postgres {
                                    format!(": ALTER TABLE {table} ALTER COLUMN {name} TYPE VARCHAR({})", n.max(&32))
                                } else {
                                    String::new()
                                }
                            )
                        }
                        _ => String::new(),
                    };
                    out.push(format!("'{table}'.{name} is {}: {why}{fix}", c.ty));
                }
            }
        }
    }
    for c in columns {
        let ours = needs
            .iter()
            .any(|(name, _)| c.column.eq_ignore_ascii_case(name));
        if !ours && c.not_null == 1 && c.has_default == 0 {
            out.push(format!(
                "'{table}'.{} is NOT NULL without a default, so every row this tool inserts would be refused",
                c.column
            ));
        }
    }
}

fn is_table(dialect: Dialect, kind: &str) -> bool {
    match dialect {
        Dialect::Sqlite => kind == "table",
        // Ordinary and partitioned tables.
        Dialect::Postgres => kind == "r" || kind == "p",
        Dialect::Mysql => kind == "BASE TABLE" || kind == "SYSTEM VERSIONED",
    }
}

fn kind_name(dialect: Dialect, kind: &str) -> String {
    let name = match (dialect, kind) {
        (Dialect::Postgres, "v") | (Dialect::Sqlite, "view") | (Dialect::Mysql, "VIEW") => "a view",
        (Dialect::Postgres, "m") => "a materialized view",
        (Dialect::Postgres, "f") => "a foreign table",
        (Dialect::Postgres, "S") | (Dialect::Mysql, "SEQUENCE") => "a sequence",
        (Dialect::Postgres, "c") => "a composite type",
        _ => return format!("a relation of kind {kind:?}"),
    };
    name.to_string()
}

/// Why a column of type `ty` cannot hold what `need` asks, if it cannot.
fn unfit(dialect: Dialect, ty: &str, need: Need) -> Option<String> {
    let lower = ty.to_ascii_lowercase();
    let class = classify(dialect, &lower);
    match (need, class) {
        (Need::Any, _) => None,
        (Need::Integer, Class::Integer) => None,
        (Need::Integer, _) => Some("an integer column is needed".to_string()),
        (Need::Text(_), Class::PaddedText) => Some(
            "a fixed-width CHAR pads the ids it returns, so they never match a revision"
                .to_string(),
        ),
        (Need::Text(n), Class::Text(Some(len))) if len < n => Some(format!(
            "it holds {len} characters, and values of up to {n} are written"
        )),
        (Need::Text(_), Class::Text(_)) => None,
        (Need::Text(_), _) => Some("a text column is needed".to_string()),
    }
}

/// The kinds of column type the judge tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Variable-length text, with its length limit when it has one.
    Text(Option<u32>),
    /// Fixed-width text that comes back padded with spaces (PostgreSQL `CHAR(n)`).
    PaddedText,
    /// An integer.
    Integer,
    /// Anything else.
    Other,
}

fn classify(dialect: Dialect, ty: &str) -> Class {
    let length = || {
        let open = ty.find('(')?;
        let close = ty[open..].find(')')? + open;
        ty[open + 1..close].trim().parse::<u32>().ok()
    };
    match dialect {
        // SQLite's type affinity rules, in their order; lengths are not enforced.
        Dialect::Sqlite => {
            if ty.contains("int") {
                Class::Integer
            } else if ty.contains("char") || ty.contains("clob") || ty.contains("text") {
                Class::Text(None)
            } else {
                Class::Other
            }
        }
        Dialect::Postgres => {
            if ty.starts_with("character varying") {
                Class::Text(length())
            } else if ty == "text" {
                Class::Text(None)
            } else if ty.starts_with("character") || ty == "bpchar" {
                Class::PaddedText
            } else if matches!(ty, "integer" | "bigint" | "smallint") {
                Class::Integer
            } else {
                Class::Other
            }
        }
        // MySQL strips CHAR's padding when it reads a value back.
        Dialect::Mysql => {
            if ty.starts_with("varchar") || ty.starts_with("char") {
                Class::Text(length())
            } else if ty.ends_with("text") {
                Class::Text(None)
            } else if ["int", "bigint", "smallint", "mediumint", "tinyint"]
                .iter()
                .any(|i| ty.starts_with(i))
            {
                Class::Integer
            } else {
                Class::Other
            }
        }
    }
}

/// Reads both tables' columns and judges them: which exist, or the error.
pub(crate) fn read(db: &mut crate::backend::Database, sql: &Sql) -> Result<(bool, bool)> {
    let columns: Vec<Column> = db.load_or(&columns_query(sql), "looking for the version table")?;
    judge(sql, &columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn sql(dialect: Dialect) -> Sql {
        Sql::new(
            dialect,
            &Config::default()
                .tables()
                .unwrap_or_else(|e| unreachable!("{e}")),
        )
    }

    fn col(
        table: &str,
        kind: &str,
        column: &str,
        ty: &str,
        not_null: bool,
        default: bool,
    ) -> Column {
        Column {
            table: table.into(),
            kind: kind.into(),
            column: column.into(),
            ty: ty.into(),
            not_null: i64::from(not_null),
            has_default: i64::from(default),
        }
    }

    fn version(dialect: Dialect, kind: &str, ty: &str) -> Result<(bool, bool)> {
        judge(
            &sql(dialect),
            &[col("alembic_version", kind, "version_num", ty, true, false)],
        )
    }

    #[test]
    fn alembic_s_own_version_tables_pass() {
        assert!(matches!(
            version(Dialect::Postgres, "r", "character varying(32)"),
            Ok((true, false))
        ));
        assert!(matches!(
            version(Dialect::Mysql, "BASE TABLE", "varchar(32)"),
            Ok((true, false))
        ));
        assert!(matches!(
            version(Dialect::Sqlite, "table", "VARCHAR(32)"),
            Ok((true, false))
        ));
        assert!(version(Dialect::Postgres, "r", "text").is_ok());
        assert!(version(Dialect::Mysql, "BASE TABLE", "char(32)").is_ok());
        assert!(matches!(
            judge(&sql(Dialect::Postgres), &[]),
            Ok((false, false))
        ));
    }

    #[test]
    fn wrong_shapes_are_named_with_the_fix() {
        let cases = [
            (Dialect::Postgres, "r", "integer", "a text column is needed"),
            (
                Dialect::Postgres,
                "r",
                "character varying(8)",
                "holds 8 characters",
            ),
            (Dialect::Postgres, "r", "character(32)", "pads the ids"),
            (
                Dialect::Postgres,
                "f",
                "character varying(32)",
                "is a foreign table, not a table",
            ),
            (Dialect::Postgres, "v", "character varying(32)", "is a view"),
            (
                Dialect::Mysql,
                "BASE TABLE",
                "int(11)",
                "a text column is needed",
            ),
            (
                Dialect::Mysql,
                "BASE TABLE",
                "varchar(8)",
                "holds 8 characters",
            ),
            (Dialect::Mysql, "VIEW", "varchar(32)", "is a view"),
            (
                Dialect::Sqlite,
                "table",
                "INTEGER",
                "a text column is needed",
            ),
            (
                Dialect::Sqlite,
                "table",
                "NUMERIC",
                "a text column is needed",
            ),
            (Dialect::Sqlite, "view", "", "is a view"),
        ];
        for (dialect, kind, ty, says) in cases {
            let err = version(dialect, kind, ty)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(says), "{dialect:?} {kind} {ty}: {err}");
            assert!(err.contains("Nothing was run"), "{err}");
        }
        let err = version(Dialect::Postgres, "r", "character(32)")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("ALTER TABLE alembic_version ALTER COLUMN version_num TYPE VARCHAR(32)"),
            "{err}"
        );
    }

    #[test]
    fn an_extra_required_column_is_refused_and_an_optional_one_is_not() {
        let s = sql(Dialect::Postgres);
        let v = col(
            "alembic_version",
            "r",
            "version_num",
            "character varying(32)",
            true,
            false,
        );
        let extra = col("alembic_version", "r", "owner", "text", true, false);
        let err = judge(&s, &[v.clone(), extra])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("'alembic_version'.owner is NOT NULL without a default"),
            "{err}"
        );
        let optional = col("alembic_version", "r", "note", "text", false, false);
        let defaulted = col("alembic_version", "r", "at", "timestamp", true, true);
        assert!(judge(&s, &[v, optional, defaulted]).is_ok());
    }

    #[test]
    fn the_history_table_needs_every_column_of_ours() {
        let s = sql(Dialect::Sqlite);
        let full: Vec<Column> = HISTORY_COLUMNS
            .iter()
            .map(|(name, need)| {
                let ty = match need {
                    Need::Integer => "INTEGER",
                    Need::Text(_) => "TEXT",
                    Need::Any => "TEXT",
                };
                col("alembic_version_history", "table", name, ty, false, false)
            })
            .collect();
        assert!(matches!(judge(&s, &full), Ok((false, true))));
        let without_checksum: Vec<Column> = full
            .iter()
            .filter(|c| c.column != "checksum")
            .cloned()
            .collect();
        let err = judge(&s, &without_checksum)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("'alembic_version_history' has no column checksum"),
            "{err}"
        );
    }
}
