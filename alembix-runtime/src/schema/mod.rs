//! The schema of a database as one normalised model: read from a live
//! database ([`Migrator::inspect_schema`]) or from the history replayed into
//! a scratch database ([`Migrator::replay_schema`], [`Scratch`]), printed as
//! a deterministic text ([`Schema::text`]: one line per item, sorted, so two
//! dumps diff well) or JSON (feature `cli`), compared ([`diff`]), and
//! written as diesel's `schema.rs` ([`schema_rs`]), and turned into the
//! statements from one schema to another ([`changes`]: autogenerate).
//!
//! What a backend reports is kept as it reports it, only normalised where
//! two equal schemas would otherwise differ: types in lower case, whitespace
//! of expressions and definitions collapsed, MySQL's `` `db`. `` qualifiers
//! of the scratch or live database removed from view definitions. This
//! tool's own tables (the version table, `<version_table>_history`,
//! `<version_table>_lock`) and diesel's `__diesel_schema_migrations` are
//! never part of it.

#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(unused_imports, unreachable_code, unused_variables, dead_code)
)]

mod changes;
mod diesel;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod scratch;
#[cfg(feature = "sqlite")]
mod sqlite;
mod text;

pub use changes::{changes, verify, Changes, Rename, Statement};
pub use diesel::{schema_rs, DieselSchema};
pub use scratch::Scratch;
pub use text::{diff, Difference};

use crate::backend::Database;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::ident::Identifier;
use crate::migrator::Migrator;

/// diesel_migrations' table, never part of a schema.
pub const DIESEL_TABLE: &str = "__diesel_schema_migrations";

/// A database's schema: its tables and the objects beside them, each list
/// sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Schema {
    /// `sqlite`, `postgresql` or `mysql`.
    pub dialect: String,
    /// Tables, by name.
    pub tables: Vec<Table>,
    /// Views (and PostgreSQL materialized views), by name.
    pub views: Vec<Definition>,
    /// PostgreSQL enum types, by name.
    pub enums: Vec<Enum>,
    /// PostgreSQL sequences, by name.
    pub sequences: Vec<Definition>,
    /// PostgreSQL functions and procedures (name with argument types), by name.
    pub functions: Vec<Definition>,
    /// Triggers (`table.trigger`), by name.
    pub triggers: Vec<Definition>,
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its columns, in the table's order.
    pub columns: Vec<Column>,
    /// Its primary key, if it has one.
    pub primary_key: Option<Key>,
    /// Unique constraints (on MySQL/MariaDB, unique indexes), by name then columns.
    pub unique: Vec<Key>,
    /// Indexes that back no primary key or unique constraint, by name.
    pub indexes: Vec<Index>,
    /// Foreign keys, by name then columns.
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraints, by name then expression.
    pub checks: Vec<Check>,
}

/// One column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type as the backend reports it, in lower case (`varchar(200)`, `integer`).
    #[cfg_attr(feature = "cli", serde(rename = "type"))]
    pub data_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// Its default expression, as the backend reports it.
    pub default: Option<String>,
    /// What else the backend says of it: `auto_increment` (MySQL/MariaDB),
    /// `identity always` / `identity by default` (PostgreSQL), a generated
    /// column's expression.
    pub extra: Option<String>,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Key {
    /// Its name, where the backend keeps one.
    pub name: Option<String>,
    /// Its columns, in key order.
    pub columns: Vec<String>,
}

/// An index.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns or expressions, in key order (`desc` after one sorted
    /// descending).
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
    /// Its access method when not the default b-tree (PostgreSQL: `gin`,
    /// `gist`, `hash`, …).
    pub method: Option<String>,
    /// A partial index's `WHERE` condition (SQLite, PostgreSQL).
    #[cfg_attr(feature = "cli", serde(rename = "where"))]
    pub predicate: Option<String>,
}

/// A foreign key.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ForeignKey {
    /// Its name, where the backend keeps one.
    pub name: Option<String>,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub referenced_table: String,
    /// The referenced columns.
    pub referenced_columns: Vec<String>,
    /// `no action`, `restrict`, `cascade`, `set null` or `set default`.
    pub on_delete: String,
    /// The same, on update.
    pub on_update: String,
}

/// A check constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Check {
    /// Its name, where the backend keeps one.
    pub name: Option<String>,
    /// Its condition.
    pub expression: String,
}

/// An object known by its name and its definition text (views, sequences,
/// functions, triggers).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Definition {
    /// Its name.
    pub name: String,
    /// Its definition, whitespace collapsed.
    pub definition: String,
}

/// A PostgreSQL enum type.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Enum {
    /// Its name.
    pub name: String,
    /// Its labels, in their order.
    pub labels: Vec<String>,
}

/// Tables a schema leaves out: this tool's own and diesel's.
#[derive(Debug, Clone)]
pub(crate) struct Excluded(Vec<String>);

impl Excluded {
    fn of(migrator: &Migrator) -> Excluded {
        let tables = migrator.tables();
        Excluded(vec![
            tables.version.as_str().to_string(),
            tables.history.as_str().to_string(),
            tables.lock.as_str().to_string(),
            DIESEL_TABLE.to_string(),
        ])
    }

    /// Whether `table` is left out.
    pub(crate) fn contains(&self, table: &str) -> bool {
        self.0.iter().any(|t| t == table)
    }

    /// An empty table for each of `names` not left out, by name: what the
    /// catalog queries of a server fill in.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) fn tables(
        &self,
        names: Vec<crate::backend::Name>,
    ) -> std::collections::BTreeMap<String, Table> {
        names
            .into_iter()
            .filter(|t| !self.contains(&t.name))
            .map(|t| {
                let table = Table {
                    name: t.name.clone(),
                    ..Table::default()
                };
                (t.name, table)
            })
            .collect()
    }
}

impl Schema {
    /// Sorts every list, so that two reads of equal schemas are equal.
    fn sorted(mut self) -> Schema {
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
        for table in &mut self.tables {
            table.unique.sort();
            table.indexes.sort();
            table.foreign_keys.sort();
            table.checks.sort();
        }
        self.views.sort();
        self.enums.sort();
        self.sequences.sort();
        self.functions.sort();
        self.triggers.sort();
        self
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl Migrator {
    /// Reads the schema of a live database: the migrator's target schema
    /// (PostgreSQL schema, MySQL/MariaDB database), else the connection's
    /// own; without this tool's tables and diesel's. Changes nothing.
    pub fn inspect_schema(&self, db: &mut Database) -> Result<Schema> {
        self.check_dialect(db.dialect())?;
        let excluded = Excluded::of(self);
        let target = self.tables().target.clone();
        if target.is_some() && db.dialect() == Dialect::Sqlite {
            // SQLite has no schema to read: the same refusal as every operation.
            db.enter_schema(target.as_ref(), false)?;
        }
        read(db, target.as_ref(), &excluded)
    }

    /// Replays the history up to `target` (`heads`, a revision, …) into
    /// `scratch` and reads the schema it leaves. The scratch gets its own
    /// version tables in its own default schema, whatever the configured
    /// `target_schema` says.
    pub fn replay_schema(&self, scratch: &mut Scratch, target: &str) -> Result<Schema> {
        let migrator = self.for_scratch()?;
        let db = scratch.database()?;
        migrator.check_dialect(db.dialect())?;
        migrator.upgrade(db, target)?;
        read(db, None, &Excluded::of(&migrator))
    }

    /// Reverts `scratch` (replayed by [`Migrator::replay_schema`]) down to
    /// `target` (a revision, `base`, …) and reads the schema it leaves: a
    /// generated downgrade, proven.
    pub fn revert_schema(&self, scratch: &mut Scratch, target: &str) -> Result<Schema> {
        let migrator = self.for_scratch()?;
        let db = scratch.database()?;
        migrator.downgrade(db, target)?;
        read(db, None, &Excluded::of(&migrator))
    }

    /// Reads the schema of `scratch` as it is (after
    /// [`Scratch::run_script`]), without this tool's tables.
    pub fn read_scratch(&self, scratch: &mut Scratch) -> Result<Schema> {
        let migrator = self.for_scratch()?;
        let db = scratch.database()?;
        read(db, None, &Excluded::of(&migrator))
    }
}

/// Reads the schema `schema` names (the connection's own for `None`).
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(unused_variables)
)]
fn read(db: &mut Database, schema: Option<&Identifier>, excluded: &Excluded) -> Result<Schema> {
    let schema: Schema = match db.dialect() {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => sqlite::read(db, excluded)?,
        #[cfg(feature = "postgres")]
        Dialect::Postgres => postgres::read(db, schema, excluded)?,
        #[cfg(feature = "mysql")]
        Dialect::Mysql => mysql::read(db, schema, excluded)?,
        #[allow(unreachable_patterns)]
        other => {
            return Err(Error::Unsupported(format!(
                "reading a {} schema: support is not compiled in",
                other.name()
            )))
        }
    };
    Ok(schema.sorted())
}

/// Collapses runs of whitespace to one space and trims: the same
/// definition, written on one line.
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of a list the backend sends as one value, its items separated
/// by the unit separator (U+001F), which no identifier holds.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn split_list(text: Option<&str>) -> Vec<String> {
    match text {
        None | Some("") => Vec::new(),
        Some(text) => text.split('\u{1f}').map(str::to_string).collect(),
    }
}

/// `text` without the qualifiers `prefixes` (`public.`, `` `app`. ``) where
/// they start a name (not inside a longer one: `xpublic.t` keeps its text).
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn unqualified(text: &str, prefixes: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        let boundary = out
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
        if boundary {
            for prefix in prefixes.iter().filter(|p| !p.is_empty() && p.len() > 1) {
                if let Some(after) = rest.strip_prefix(prefix.as_str()) {
                    rest = after;
                    continue 'scan;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// A referential action as every backend's words: `no action`, `cascade`, ….
#[cfg_attr(not(any(feature = "sqlite", feature = "mysql")), allow(dead_code))]
pub(crate) fn action(text: &str) -> String {
    text.trim().replace('_', " ").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_collapsed_to_one_line() {
        assert_eq!(
            collapse("  SELECT id,\n\t name\n  FROM   t  "),
            "SELECT id, name FROM t"
        );
        assert_eq!(split_list(Some("a\u{1f}b")), ["a", "b"]);
        assert!(split_list(None).is_empty());
        assert_eq!(action("SET_NULL"), "set null");
        assert_eq!(action("NO ACTION"), "no action");
        let prefixes = ["public.".to_string(), "`app`.".to_string()];
        assert_eq!(
            unqualified("select public.t.a, xpublic.b from `app`.`t`", &prefixes),
            "select t.a, xpublic.b from `t`"
        );
    }
}
