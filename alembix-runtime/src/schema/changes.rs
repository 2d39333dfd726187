//! Autogenerate: [`changes`], the statements that take a database from one
//! [`Schema`] to another, both ways, in the dialect of the schemas.
//!
//! The rules, in the order the statements run:
//!
//! 1. Triggers and views that change, go, or read a table that changes are
//!    dropped first (and created again at the end), then foreign keys,
//!    indexes, unique and check constraints that change or go.
//! 2. Renames the caller states ([`Rename`]) are applied; nothing else is
//!    ever taken for a rename: a column that disappears is dropped and one
//!    that appears is added.
//! 3. New enum types, sequences and functions (PostgreSQL), then new tables
//!    (foreign keys on PostgreSQL and MySQL come later, so tables can
//!    reference each other in any order), then the changes to kept tables,
//!    then dropped tables (children first).
//! 4. New indexes and constraints, then foreign keys, then the sequences,
//!    enum types and functions that go, then views and triggers.
//!
//! SQLite's `ALTER TABLE` adds, renames and drops columns and nothing more:
//! any other change to a table is the table rebuild SQLite documents (a new
//! table with the wanted shape, the rows copied, the old one dropped and the
//! new one renamed), with foreign keys deferred to the commit.
//!
//! A statement that loses data (a table or column dropped, a column's type
//! changed, an enum label removed) carries a `-- DESTRUCTIVE: …` comment.
//! What the generator cannot do exactly is said in [`Changes::notes`].

use super::{Check, Column, Definition, Enum, ForeignKey, Index, Key, Schema, Table};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// A rename the generator is told of (`--rename users.name=full_name`, or
/// `--rename old_table=new_table`): never guessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The table of a renamed column (its name after any table rename);
    /// `None` for a table rename.
    pub table: Option<String>,
    /// The old name.
    pub from: String,
    /// The new name.
    pub to: String,
}

impl FromStr for Rename {
    type Err = String;

    /// `table.old=new` (a column) or `old=new` (a table).
    fn from_str(text: &str) -> std::result::Result<Rename, String> {
        let usage = || {
            format!("`{text}` is not a rename: write `table.old_column=new_column` or `old_table=new_table`")
        };
        let (left, to) = text.split_once('=').ok_or_else(usage)?;
        let (table, from) = match left.split_once('.') {
            Some((table, from)) => (Some(table.trim().to_string()), from.trim()),
            None => (None, left.trim()),
        };
        let to = to.trim();
        if from.is_empty() || to.is_empty() || table.as_deref() == Some("") || to.contains('.') {
            return Err(usage());
        }
        Ok(Rename {
            table,
            from: from.to_string(),
            to: to.to_string(),
        })
    }
}

impl fmt::Display for Rename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.table {
            Some(table) => write!(f, "{table}.{}={}", self.from, self.to),
            None => write!(f, "{}={}", self.from, self.to),
        }
    }
}

/// One generated statement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statement {
    /// The SQL, without a terminating `;`.
    pub sql: String,
    /// What it destroys, when it loses data (`drops table users and its rows`).
    pub destructive: Option<String>,
}

/// What [`changes`] found: the upgrade and downgrade statements, and what a
/// reviewer should know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changes {
    /// The statements from the first schema to the second.
    pub upgrade: Vec<Statement>,
    /// The statements back.
    pub downgrade: Vec<Statement>,
    /// What the generator could not do exactly, or chose, for the reviewer.
    pub notes: Vec<String>,
}

impl Changes {
    /// Whether the schemas are equal: nothing to write.
    pub fn is_empty(&self) -> bool {
        self.upgrade.is_empty() && self.downgrade.is_empty()
    }

    /// The upgrade as a section body: a statement per paragraph, each ended
    /// by `;`, a destructive one under its `-- DESTRUCTIVE:` comment.
    pub fn upgrade_sql(&self) -> String {
        section(&self.upgrade)
    }

    /// The downgrade, as [`Changes::upgrade_sql`] writes it.
    pub fn downgrade_sql(&self) -> String {
        section(&self.downgrade)
    }
}

fn section(statements: &[Statement]) -> String {
    let mut out = String::new();
    for statement in statements {
        if let Some(why) = &statement.destructive {
            out.push_str(&format!("-- DESTRUCTIVE: {why}\n"));
        }
        out.push_str(&statement.sql);
        out.push_str(";\n");
    }
    out
}

/// The statements that turn a database of schema `from` into one of schema
/// `to`, and back, in their dialect (both must be of the same one), with
/// `renames` applied (checked against both schemas).
pub fn changes(from: &Schema, to: &Schema, renames: &[Rename]) -> Result<Changes> {
    let dialect = dialect_of(from, to)?;
    check_renames(from, to, renames)?;
    let mut notes = Vec::new();
    let upgrade = Generator::new(dialect, from, to, renames).run(&mut notes);
    let back: Vec<Rename> = reversed(renames);
    let mut back_notes = Vec::new();
    let downgrade = Generator::new(dialect, to, from, &back).run(&mut back_notes);
    for note in back_notes {
        let note = format!("downgrade: {note}");
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
    Ok(Changes {
        upgrade,
        downgrade,
        notes,
    })
}

fn dialect_of(from: &Schema, to: &Schema) -> Result<Dialect> {
    let named = |s: &Schema| match s.dialect.as_str() {
        "sqlite" => Some(Dialect::Sqlite),
        "postgresql" => Some(Dialect::Postgres),
        "mysql" => Some(Dialect::Mysql),
        _ => None,
    };
    match (named(from), named(to)) {
        (Some(a), Some(b)) if a == b => Ok(a),
        _ => Err(Error::Unsupported(format!(
            "comparing a {} schema with a {} schema: both must be read from one dialect",
            or_unknown(&from.dialect),
            or_unknown(&to.dialect)
        ))),
    }
}

fn or_unknown(name: &str) -> &str {
    if name.is_empty() {
        "unknown"
    } else {
        name
    }
}

fn reversed(renames: &[Rename]) -> Vec<Rename> {
    // Column renames name their table after the table renames: going back,
    // the table's old name is the one the column rename must use... which
    // is its name once the table renames are undone, applied first.
    let tables: BTreeMap<&str, &str> = renames
        .iter()
        .filter(|r| r.table.is_none())
        .map(|r| (r.to.as_str(), r.from.as_str()))
        .collect();
    renames
        .iter()
        .map(|r| Rename {
            table: r
                .table
                .as_deref()
                .map(|t| tables.get(t).copied().unwrap_or(t).to_string()),
            from: r.to.clone(),
            to: r.from.clone(),
        })
        .collect()
}

fn check_renames(from: &Schema, to: &Schema, renames: &[Rename]) -> Result<()> {
    let bad = |why: String| Err(Error::Unsupported(why));
    let table_renames: BTreeMap<&str, &str> = renames
        .iter()
        .filter(|r| r.table.is_none())
        .map(|r| (r.from.as_str(), r.to.as_str()))
        .collect();
    for rename in renames {
        match &rename.table {
            None => {
                if from.table(&rename.from).is_none() {
                    return bad(format!(
                        "--rename {rename}: the current schema has no table `{}`",
                        rename.from
                    ));
                }
                if to.table(&rename.to).is_none() {
                    return bad(format!(
                        "--rename {rename}: the wanted schema has no table `{}`",
                        rename.to
                    ));
                }
            }
            Some(table) => {
                let old_table = table_renames
                    .iter()
                    .find(|(_, new)| *new == table)
                    .map(|(old, _)| *old)
                    .unwrap_or(table);
                let has = |s: &Schema, t: &str, c: &str| {
                    s.table(t)
                        .is_some_and(|t| t.columns.iter().any(|col| col.name == c))
                };
                if !has(from, old_table, &rename.from) {
                    return bad(format!(
                        "--rename {rename}: the current schema has no column `{old_table}.{}`",
                        rename.from
                    ));
                }
                if !has(to, table, &rename.to) {
                    return bad(format!(
                        "--rename {rename}: the wanted schema has no column `{table}.{}`",
                        rename.to
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The generation of one direction.
struct Generator<'a> {
    d: Dialect,
    /// The starting schema with the renames applied to it.
    a: Schema,
    b: &'a Schema,
    renames: &'a [Rename],
    out: Vec<Statement>,
}

/// What happens to a table kept on both sides.
enum TablePlan<'t> {
    Same,
    Alter(&'t Table, &'t Table),
    Rebuild(&'t Table, &'t Table),
}

impl<'a> Generator<'a> {
    fn new(d: Dialect, a: &Schema, b: &'a Schema, renames: &'a [Rename]) -> Generator<'a> {
        Generator {
            d,
            a: renamed(a, renames),
            b,
            renames,
            out: Vec::new(),
        }
    }

    fn push(&mut self, sql: String) {
        self.out.push(Statement {
            sql,
            destructive: None,
        });
    }

    fn push_destructive(&mut self, sql: String, why: String) {
        self.out.push(Statement {
            sql,
            destructive: Some(why),
        });
    }

    fn q(&self, name: &str) -> String {
        quote(self.d, name)
    }

    fn run(mut self, notes: &mut Vec<String>) -> Vec<Statement> {
        let b = self.b;
        let mut a = self.a.clone();
        let name_renames = align_names(self.d, &mut a, b);
        let a_tables: BTreeMap<&str, &Table> =
            a.tables.iter().map(|t| (t.name.as_str(), t)).collect();
        let b_tables: BTreeMap<&str, &Table> =
            b.tables.iter().map(|t| (t.name.as_str(), t)).collect();
        let created: Vec<&Table> = b
            .tables
            .iter()
            .filter(|t| !a_tables.contains_key(t.name.as_str()))
            .collect();
        let dropped: Vec<&Table> = a
            .tables
            .iter()
            .filter(|t| !b_tables.contains_key(t.name.as_str()))
            .collect();
        let mut plans: Vec<(&str, TablePlan)> = Vec::new();
        for ta in &a.tables {
            if let Some(tb) = b_tables.get(ta.name.as_str()) {
                plans.push((ta.name.as_str(), self.plan(ta, tb)));
            }
        }
        let rebuilt: BTreeSet<&str> = plans
            .iter()
            .filter(|(_, p)| matches!(p, TablePlan::Rebuild(..)))
            .map(|(n, _)| *n)
            .collect();
        // Tables whose shape changes: views and triggers reading them are
        // dropped before and made again after.
        // Tables whose readers must go while they change (rebuilt, dropped,
        // renamed), and columns that go or change type: a view or trigger
        // that names one is dropped first and made again at the end.
        let mut touched: BTreeSet<String> = rebuilt.iter().map(|t| t.to_string()).collect();
        touched.extend(dropped.iter().map(|t| t.name.clone()));
        let mut columns: BTreeSet<String> = BTreeSet::new();
        for (_, plan) in &plans {
            if let TablePlan::Alter(ta, tb) = plan {
                columns.extend(
                    ta.columns
                        .iter()
                        .filter(|c| {
                            !tb.columns
                                .iter()
                                .any(|n| n.name == c.name && n.data_type == c.data_type)
                        })
                        .map(|c| c.name.clone()),
                );
            }
        }
        for rename in self.renames {
            match &rename.table {
                None => {
                    touched.insert(rename.from.clone());
                    touched.insert(rename.to.clone());
                }
                Some(_) => {
                    columns.insert(rename.from.clone());
                    columns.insert(rename.to.clone());
                }
            }
        }

        // 1. Views and triggers that change, go, or read a touched table.
        let views_out = redone(&a.views, &b.views, &touched, &columns);
        let triggers_out = redone(&a.triggers, &b.triggers, &touched, &columns);
        for view in a.views.iter().filter(|v| views_out.contains(&v.name)) {
            let sql = self.drop_view(view);
            self.push(sql);
        }
        for trigger in a.triggers.iter().filter(|t| triggers_out.contains(&t.name)) {
            // A rebuilt SQLite table's triggers go with it; one that stays is
            // made again after the rebuild, one that goes is dropped here.
            let stays = b.triggers.iter().any(|n| n.name == trigger.name);
            if self.d == Dialect::Sqlite && rebuilt.contains(trigger_table(&trigger.name)) && stays
            {
                continue;
            }
            let sql = self.drop_trigger(trigger);
            self.push(sql);
        }

        // 1b. Constraints and indexes that change or go, on kept tables (a
        // rebuilt SQLite table is made whole again). A foreign key to a
        // dropped table is among them: the wanted schema has none.
        for (_, plan) in &plans {
            if let TablePlan::Alter(ta, tb) = plan {
                self.drop_table_items(ta, tb);
            }
        }

        // 2. Renames: tables first, so a column rename names its table's new name.
        let mut renames: Vec<&Rename> = self.renames.iter().collect();
        renames.sort_by_key(|r| r.table.is_some());
        for rename in renames {
            let sql = match &rename.table {
                None => format!(
                    "ALTER TABLE {} RENAME TO {}",
                    self.q(&rename.from),
                    self.q(&rename.to)
                ),
                Some(table) => format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {}",
                    self.q(table),
                    self.q(&rename.from),
                    self.q(&rename.to)
                ),
            };
            self.push(sql);
        }
        // Keys, constraints, indexes and sequences that differ by name alone
        // (a renamed table's, most often) are renamed, not made again.
        for sql in name_renames {
            self.push(sql);
        }

        // 3. Types, sequences, functions; new tables; kept tables; dropped tables.
        self.enums_before(&a.enums, &b.enums, notes);
        let implicit_b = implicit_sequences(b);
        let implicit_a = implicit_sequences(&a);
        for seq in &b.sequences {
            if implicit_b.contains(&seq.name) {
                continue;
            }
            match a.sequences.iter().find(|s| s.name == seq.name) {
                None => {
                    let sql = format!(
                        "CREATE SEQUENCE {} {}",
                        self.q(&seq.name),
                        sequence_options(&seq.definition)
                    );
                    self.push(sql);
                }
                Some(old)
                    if old.definition != seq.definition && !implicit_a.contains(&seq.name) =>
                {
                    let sql = format!(
                        "ALTER SEQUENCE {} {}",
                        self.q(&seq.name),
                        sequence_options(&seq.definition)
                    );
                    self.push(sql);
                }
                _ => {}
            }
        }
        for function in &b.functions {
            if a.functions.iter().any(|f| f == function) {
                continue;
            }
            self.push(function.definition.clone());
        }
        for table in &created {
            let sql = self.create_table(table, &table.name, self.d == Dialect::Sqlite);
            self.push(sql);
        }
        for (_, plan) in &plans {
            match plan {
                TablePlan::Same => {}
                TablePlan::Alter(ta, tb) => self.alter_columns(ta, tb, notes),
                TablePlan::Rebuild(ta, tb) => self.rebuild(ta, tb, notes),
            }
        }
        for table in children_first(&dropped) {
            let sql = format!("DROP TABLE {}", self.q(&table.name));
            self.push_destructive(sql, format!("drops table {} and its rows", table.name));
        }

        // 4. New indexes, constraints, foreign keys.
        for table in &created {
            self.add_table_items(
                &Table {
                    name: table.name.clone(),
                    ..Table::default()
                },
                table,
                true,
            );
        }
        for (_, plan) in &plans {
            match plan {
                TablePlan::Alter(ta, tb) => self.add_table_items(ta, tb, false),
                TablePlan::Rebuild(_, tb) => {
                    for index in &tb.indexes {
                        let sql = self.create_index(&tb.name, index);
                        self.push(sql);
                    }
                }
                TablePlan::Same => {}
            }
        }
        for table in &created {
            if self.d != Dialect::Sqlite {
                for fk in &table.foreign_keys {
                    let sql = format!(
                        "ALTER TABLE {} ADD {}",
                        self.q(&table.name),
                        self.foreign_key(fk)
                    );
                    self.push(sql);
                }
            }
        }
        for (_, plan) in &plans {
            if let TablePlan::Alter(ta, tb) = plan {
                for fk in tb
                    .foreign_keys
                    .iter()
                    .filter(|f| !ta.foreign_keys.contains(f))
                {
                    let sql = format!(
                        "ALTER TABLE {} ADD {}",
                        self.q(&tb.name),
                        self.foreign_key(fk)
                    );
                    self.push(sql);
                }
            }
        }
        // Serial columns' sequences belong to their column again.
        for seq in &b.sequences {
            if implicit_b.contains(&seq.name) || a.sequences.iter().any(|s| s == seq) {
                continue;
            }
            if let Some(column) = owner_column(b, seq) {
                let sql = format!("ALTER SEQUENCE {} OWNED BY {column}", self.q(&seq.name));
                self.push(sql);
            }
        }
        for seq in &a.sequences {
            if implicit_a.contains(&seq.name) || b.sequences.iter().any(|s| s.name == seq.name) {
                continue;
            }
            // A sequence owned by a dropped table went with it.
            if owned_by(&seq.definition).is_some_and(|t| !b_tables.contains_key(t)) {
                continue;
            }
            let sql = format!("DROP SEQUENCE {}", self.q(&seq.name));
            self.push(sql);
        }
        self.enums_after(&a.enums, &b.enums);
        for function in &a.functions {
            if b.functions.iter().any(|f| f == function)
                || b.functions.iter().any(|f| f.name == function.name)
            {
                continue;
            }
            self.push(format!(
                "DROP FUNCTION {}",
                function_name(self.d, &function.name)
            ));
        }
        for view in b.views.iter().filter(|v| {
            views_out.contains(&v.name) || !a.views.iter().any(|old| old.name == v.name)
        }) {
            let sql = self.create_view(view);
            self.push(sql);
        }
        let sqlite = self.d == Dialect::Sqlite;
        for trigger in b.triggers.iter().filter(|t| {
            triggers_out.contains(&t.name)
                || !a.triggers.iter().any(|old| old.name == t.name)
                || (sqlite && rebuilt.contains(trigger_table(&t.name)))
        }) {
            let sql = self.create_trigger(trigger);
            self.push(sql);
        }
        self.out
    }

    /// What a kept table needs.
    fn plan<'t>(&self, a: &'t Table, b: &'t Table) -> TablePlan<'t> {
        if a == b {
            return TablePlan::Same;
        }
        if self.d != Dialect::Sqlite {
            return TablePlan::Alter(a, b);
        }
        // SQLite: columns added at the end (each one ALTER TABLE can add)
        // and index changes need no rebuild; anything else does.
        let shape = |t: &Table| Table {
            indexes: Vec::new(),
            ..t.clone()
        };
        let (sa, sb) = (shape(a), shape(b));
        if sa == sb {
            return TablePlan::Alter(a, b);
        }
        let appended = sb.columns.len() > sa.columns.len()
            && sb.columns[..sa.columns.len()] == sa.columns[..]
            && sb.columns[sa.columns.len()..].iter().all(sqlite_addable)
            && Table {
                columns: sa.columns.clone(),
                ..sb.clone()
            } == sa;
        // Columns dropped that no key, index, foreign key or check names:
        // SQLite (3.35+) drops them in place.
        let kept: Vec<Column> = sa
            .columns
            .iter()
            .filter(|c| sb.columns.iter().any(|n| n.name == c.name))
            .cloned()
            .collect();
        let dropped_free = kept.len() < sa.columns.len()
            && kept == sb.columns
            && Table {
                columns: kept.clone(),
                ..sa.clone()
            } == sb
            && sa.columns.iter().filter(|c| !kept.contains(c)).all(|c| {
                let named = |cols: &[String]| cols.iter().any(|k| mentions(k, &c.name));
                !a.primary_key.as_ref().is_some_and(|k| named(&k.columns))
                    && !a.unique.iter().any(|k| named(&k.columns))
                    && !a.indexes.iter().any(|i| {
                        named(&i.columns)
                            || i.predicate.as_deref().is_some_and(|p| mentions(p, &c.name))
                    })
                    && !a.foreign_keys.iter().any(|f| named(&f.columns))
                    && !a.checks.iter().any(|k| mentions(&k.expression, &c.name))
            });
        if appended || dropped_free {
            TablePlan::Alter(a, b)
        } else {
            TablePlan::Rebuild(a, b)
        }
    }

    /// Drops the foreign keys, indexes, unique and check constraints of a
    /// kept table that change or go (the primary key too, when it changes).
    fn drop_table_items(&mut self, a: &Table, b: &Table) {
        let t = self.q(&a.name);
        for fk in a
            .foreign_keys
            .iter()
            .filter(|f| !b.foreign_keys.contains(f))
        {
            if self.d == Dialect::Sqlite {
                continue; // only a rebuild changes them; see `plan`
            }
            let Some(name) = &fk.name else { continue };
            let sql = match self.d {
                Dialect::Mysql => format!("ALTER TABLE {t} DROP FOREIGN KEY {}", self.q(name)),
                _ => format!("ALTER TABLE {t} DROP CONSTRAINT {}", self.q(name)),
            };
            self.push(sql);
        }
        for index in a.indexes.iter().filter(|i| !b.indexes.contains(i)) {
            // MySQL refuses to drop the index a foreign key uses until
            // another can serve it: one that goes for good is dropped after
            // the new ones are made (`drop_old_mysql_indexes`).
            if self.d == Dialect::Mysql && mysql_deferred(index, a, b) {
                continue;
            }
            let sql = match self.d {
                Dialect::Mysql => format!("DROP INDEX {} ON {t}", self.q(&index.name)),
                _ => format!("DROP INDEX {}", self.q(&index.name)),
            };
            self.push(sql);
        }
        if self.d == Dialect::Sqlite {
            return;
        }
        for key in a.unique.iter().filter(|u| !b.unique.contains(u)) {
            let Some(name) = &key.name else { continue };
            let sql = match self.d {
                Dialect::Mysql => format!("DROP INDEX {} ON {t}", self.q(name)),
                _ => format!("ALTER TABLE {t} DROP CONSTRAINT {}", self.q(name)),
            };
            self.push(sql);
        }
        for check in a.checks.iter().filter(|c| !b.checks.contains(c)) {
            let Some(name) = &check.name else { continue };
            let sql = format!("ALTER TABLE {t} DROP CONSTRAINT {}", self.q(name));
            self.push(sql);
        }
        if a.primary_key != b.primary_key {
            if let Some(pk) = &a.primary_key {
                let sql = match (self.d, &pk.name) {
                    (Dialect::Postgres, Some(name)) => {
                        format!("ALTER TABLE {t} DROP CONSTRAINT {}", self.q(name))
                    }
                    _ => format!("ALTER TABLE {t} DROP PRIMARY KEY"),
                };
                self.push(sql);
            }
        }
    }

    /// Adds what a kept (or new) table has that it had not: primary key,
    /// unique and check constraints, indexes (foreign keys come after
    /// every table, in `run`).
    fn add_table_items(&mut self, a: &Table, b: &Table, created: bool) {
        let t = self.q(&b.name);
        if !created && self.d != Dialect::Sqlite {
            if a.primary_key != b.primary_key {
                if let Some(pk) = &b.primary_key {
                    let sql = format!("ALTER TABLE {t} ADD {}", self.key("PRIMARY KEY", pk));
                    self.push(sql);
                }
            }
            for key in b.unique.iter().filter(|u| !a.unique.contains(u)) {
                let sql = format!("ALTER TABLE {t} ADD {}", self.key("UNIQUE", key));
                self.push(sql);
            }
            for check in b.checks.iter().filter(|c| !a.checks.contains(c)) {
                let sql = format!("ALTER TABLE {t} ADD {}", self.check(check));
                self.push(sql);
            }
        }
        for index in b.indexes.iter().filter(|i| !a.indexes.contains(i)) {
            // MySQL makes a foreign key's index with its key; an index of
            // that name is the one it made (or reuses).
            let sql = self.create_index(&b.name, index);
            self.push(sql);
        }
        if self.d == Dialect::Mysql && !created {
            // An index whose columns were all dropped went with them.
            let gone = |part: &String| {
                let name = part.split([' ', '(']).next().unwrap_or(part);
                !b.columns.iter().any(|c| c.name == name)
            };
            for index in a
                .indexes
                .iter()
                .filter(|i| !b.indexes.contains(i) && mysql_deferred(i, a, b))
                .filter(|i| !i.columns.iter().all(gone))
                // The index MySQL made for a foreign key that stays: once
                // another index serves the key, MySQL drops it by itself.
                .filter(|i| {
                    let own = |t: &Table| {
                        t.foreign_keys
                            .iter()
                            .any(|f| f.name.as_deref() == Some(&i.name))
                    };
                    !(own(a) && own(b))
                })
            {
                let sql = format!("DROP INDEX {} ON {t}", self.q(&index.name));
                self.push(sql);
            }
        }
    }

    /// The column changes of a kept table (PostgreSQL, MySQL; SQLite:
    /// columns appended).
    fn alter_columns(&mut self, a: &Table, b: &Table, notes: &mut Vec<String>) {
        let t = self.q(&b.name);
        for column in a
            .columns
            .iter()
            .filter(|c| !b.columns.iter().any(|n| n.name == c.name))
        {
            let sql = format!("ALTER TABLE {t} DROP COLUMN {}", self.q(&column.name));
            self.push_destructive(
                sql,
                format!("drops column {}.{} and its data", b.name, column.name),
            );
        }
        for (i, column) in b.columns.iter().enumerate() {
            match a.columns.iter().find(|c| c.name == column.name) {
                None => {
                    let mut sql = format!("ALTER TABLE {t} ADD COLUMN {}", self.column(column));
                    if self.d == Dialect::Mysql {
                        sql.push_str(&match i {
                            0 => " FIRST".to_string(),
                            _ => format!(" AFTER {}", self.q(&b.columns[i - 1].name)),
                        });
                    }
                    if !column.nullable && column.default.is_none() && column.extra.is_none() {
                        notes.push(format!(
                            "{}.{} is added NOT NULL without a default: on a table with rows, give it a default or fill it before the constraint",
                            b.name, column.name
                        ));
                    }
                    self.push(sql);
                }
                Some(old) => self.alter_column(&b.name, old, column, a, b, i),
            }
        }
        if self.d == Dialect::Postgres {
            let kept_a: Vec<&str> = a
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| b.columns.iter().any(|c| c.name == *n))
                .collect();
            let kept_b: Vec<&str> = b
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| kept_a.contains(n))
                .collect();
            let added_inside = b.columns.iter().enumerate().any(|(i, c)| {
                !a.columns.iter().any(|o| o.name == c.name)
                    && b.columns[i + 1..]
                        .iter()
                        .any(|n| a.columns.iter().any(|o| o.name == n.name))
            });
            if kept_a != kept_b || added_inside {
                notes.push(format!(
                    "{}: PostgreSQL adds a column at the end of its table; the column order differs from the wanted one",
                    b.name
                ));
            }
        }
    }

    fn alter_column(
        &mut self,
        table: &str,
        old: &Column,
        new: &Column,
        a: &Table,
        b: &Table,
        i: usize,
    ) {
        let t = self.q(table);
        let c = self.q(&new.name);
        match self.d {
            Dialect::Mysql => {
                let moved = position_after(a, &old.name) != position_after(b, &new.name);
                if old != new || moved {
                    let mut sql = format!("ALTER TABLE {t} MODIFY COLUMN {}", self.column(new));
                    if moved {
                        sql.push_str(&match i {
                            0 => " FIRST".to_string(),
                            _ => format!(" AFTER {}", self.q(&b.columns[i - 1].name)),
                        });
                    }
                    if !widens(&old.data_type, &new.data_type) {
                        self.push_destructive(sql, format!("changes {table}.{} from {} to {}: values that do not fit are lost or refused", new.name, old.data_type, new.data_type));
                    } else {
                        self.push(sql);
                    }
                }
            }
            _ => {
                // PostgreSQL (SQLite never alters a column in place).
                let identity = |c: &Column| {
                    c.extra
                        .as_deref()
                        .filter(|e| e.starts_with("identity"))
                        .map(str::to_string)
                };
                if identity(old).is_some() && identity(old) != identity(new) {
                    self.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP IDENTITY"));
                }
                if old.default.is_some() && old.default != new.default {
                    self.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"));
                }
                if old.data_type != new.data_type {
                    let sql = format!(
                        "ALTER TABLE {t} ALTER COLUMN {c} TYPE {} USING {c}::{}",
                        new.data_type, new.data_type
                    );
                    if widens(&old.data_type, &new.data_type) {
                        self.push(sql);
                    } else {
                        self.push_destructive(sql, format!("changes {table}.{} from {} to {}: values that do not convert are refused, longer ones cut", new.name, old.data_type, new.data_type));
                    }
                }
                if old.nullable != new.nullable {
                    let sql = if new.nullable {
                        format!("ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL")
                    } else {
                        format!("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL")
                    };
                    self.push(sql);
                }
                if let Some(default) = &new.default {
                    if old.default.as_ref() != Some(default) {
                        self.push(format!(
                            "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {default}"
                        ));
                    }
                }
                if let Some(id) = identity(new) {
                    if identity(old).as_ref() != Some(&id) {
                        self.push(format!(
                            "ALTER TABLE {t} ALTER COLUMN {c} ADD GENERATED {} AS IDENTITY",
                            identity_kind(&id)
                        ));
                    }
                }
            }
        }
    }

    /// SQLite's table rebuild: a new table of the wanted shape, the rows of
    /// the columns kept copied, the old table dropped, the new one renamed.
    fn rebuild(&mut self, a: &Table, b: &Table, notes: &mut Vec<String>) {
        let temp = format!("_alembix_new_{}", b.name);
        self.push("PRAGMA defer_foreign_keys = ON".to_string());
        let sql = self.create_table(b, &temp, true);
        self.push(sql);
        let kept: Vec<String> = b
            .columns
            .iter()
            .filter(|c| a.columns.iter().any(|o| o.name == c.name))
            .map(|c| self.q(&c.name))
            .collect();
        for column in b
            .columns
            .iter()
            .filter(|c| !a.columns.iter().any(|o| o.name == c.name))
        {
            if !column.nullable && column.default.is_none() {
                notes.push(format!(
                    "{}.{} is added NOT NULL without a default: the rebuild's copy refuses a table with rows; give it a default",
                    b.name, column.name
                ));
            }
        }
        let lost: Vec<&str> = a
            .columns
            .iter()
            .filter(|c| !b.columns.iter().any(|n| n.name == c.name))
            .map(|c| c.name.as_str())
            .collect();
        let changed: Vec<&str> = b
            .columns
            .iter()
            .filter(|c| {
                a.columns.iter().any(|o| {
                    o.name == c.name
                        && sqlite_affinity(&o.data_type) != sqlite_affinity(&c.data_type)
                })
            })
            .map(|c| c.name.as_str())
            .collect();
        let list = kept.join(", ");
        let copy = format!(
            "INSERT INTO {} ({list}) SELECT {list} FROM {}",
            self.q(&temp),
            self.q(&a.name)
        );
        if kept.is_empty() {
            // Nothing to copy.
        } else if changed.is_empty() {
            self.push(copy);
        } else {
            self.push_destructive(
                copy,
                format!(
                    "copies {}'s rows into its new shape: {} change type affinity",
                    b.name,
                    changed.join(", ")
                ),
            );
        }
        let drop = format!("DROP TABLE {}", self.q(&a.name));
        if lost.is_empty() {
            self.push(drop);
        } else {
            self.push_destructive(
                drop,
                format!(
                    "drops the old {}, and with it the data of {}",
                    a.name,
                    lost.join(", ")
                ),
            );
        }
        self.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            self.q(&temp),
            self.q(&b.name)
        ));
    }

    /// `CREATE TABLE name (…)`: columns, primary key, unique and check
    /// constraints; foreign keys inline when `with_foreign_keys` (SQLite).
    fn create_table(&self, table: &Table, name: &str, with_foreign_keys: bool) -> String {
        let mut items: Vec<String> = table.columns.iter().map(|c| self.column(c)).collect();
        if let Some(pk) = &table.primary_key {
            items.push(self.key("PRIMARY KEY", pk));
        }
        items.extend(table.unique.iter().map(|u| self.key("UNIQUE", u)));
        if with_foreign_keys {
            items.extend(table.foreign_keys.iter().map(|f| self.foreign_key(f)));
        }
        items.extend(table.checks.iter().map(|c| self.check(c)));
        format!(
            "CREATE TABLE {} (\n    {}\n)",
            self.q(name),
            items.join(",\n    ")
        )
    }

    fn column(&self, column: &Column) -> String {
        let mut out = format!("{} {}", self.q(&column.name), column.data_type);
        let generated = column
            .extra
            .as_deref()
            .filter(|e| e.starts_with("generated always as"));
        if let Some(generated) = generated {
            out.push(' ');
            out.push_str(generated);
        }
        if !column.nullable {
            out.push_str(" NOT NULL");
        }
        if let Some(default) = &column.default {
            out.push_str(" DEFAULT ");
            if self.d == Dialect::Sqlite && !sqlite_plain_default(default) {
                // SQLite reports an expression default without the
                // parentheses its syntax needs.
                out.push_str(&format!("({default})"));
            } else {
                out.push_str(default);
            }
        }
        match column.extra.as_deref() {
            Some(id) if id.starts_with("identity") => {
                out.push_str(&format!(" GENERATED {} AS IDENTITY", identity_kind(id)));
            }
            // MySQL's generated columns keep their expression elsewhere: not modelled.
            Some(extra) if self.d == Dialect::Mysql && !extra.contains("generated") => {
                out.push(' ');
                out.push_str(&extra.to_ascii_uppercase());
            }
            _ => {}
        }
        out
    }

    fn key(&self, kind: &str, key: &Key) -> String {
        let columns: Vec<String> = key.columns.iter().map(|c| self.key_part(c)).collect();
        match &key.name {
            // MySQL names every primary key PRIMARY.
            Some(name) if !(self.d == Dialect::Mysql && kind == "PRIMARY KEY") => {
                format!(
                    "CONSTRAINT {} {kind} ({})",
                    self.q(name),
                    columns.join(", ")
                )
            }
            _ => format!("{kind} ({})", columns.join(", ")),
        }
    }

    /// A column of a key or index as the dump shows it: a plain name is
    /// quoted; `name desc`, `name(10)` and expressions are kept.
    fn key_part(&self, part: &str) -> String {
        if let Some(name) = part.strip_suffix(" desc") {
            if is_plain(name) {
                return format!("{} DESC", self.q(name));
            }
        }
        if is_plain(part) {
            return self.q(part);
        }
        if self.d == Dialect::Mysql {
            if let Some((name, len)) = part.split_once('(') {
                if is_plain(name) && len.ends_with(')') {
                    return format!("{}({len}", self.q(name));
                }
            }
        }
        part.to_string()
    }

    fn foreign_key(&self, fk: &ForeignKey) -> String {
        let columns: Vec<String> = fk.columns.iter().map(|c| self.q(c)).collect();
        let referenced: Vec<String> = fk.referenced_columns.iter().map(|c| self.q(c)).collect();
        let name = fk
            .name
            .as_ref()
            .map(|n| format!("CONSTRAINT {} ", self.q(n)))
            .unwrap_or_default();
        let mut out = format!(
            "{name}FOREIGN KEY ({}) REFERENCES {} ({})",
            columns.join(", "),
            self.q(&fk.referenced_table),
            referenced.join(", ")
        );
        for (event, action) in [("DELETE", &fk.on_delete), ("UPDATE", &fk.on_update)] {
            // MariaDB reads an omitted action as `restrict`, the others as `no action`.
            let default = if self.d == Dialect::Mysql {
                "restrict"
            } else {
                "no action"
            };
            if action != default && !action.is_empty() {
                out.push_str(&format!(" ON {event} {}", action.to_ascii_uppercase()));
            }
        }
        out
    }

    fn check(&self, check: &Check) -> String {
        match &check.name {
            Some(name) => format!("CONSTRAINT {} CHECK ({})", self.q(name), check.expression),
            None => format!("CHECK ({})", check.expression),
        }
    }

    fn create_index(&self, table: &str, index: &Index) -> String {
        let columns: Vec<String> = index.columns.iter().map(|c| self.key_part(c)).collect();
        let mut sql = format!(
            "CREATE {}INDEX {} ON {}",
            if index.unique { "UNIQUE " } else { "" },
            self.q(&index.name),
            self.q(table)
        );
        if let Some(method) = &index.method {
            sql.push_str(&format!(" USING {method}"));
        }
        sql.push_str(&format!(" ({})", columns.join(", ")));
        if let Some(predicate) = &index.predicate {
            sql.push_str(&format!(" WHERE {predicate}"));
        }
        sql
    }

    fn drop_view(&self, view: &Definition) -> String {
        if view.definition.starts_with("materialized ") {
            format!("DROP MATERIALIZED VIEW {}", self.q(&view.name))
        } else {
            format!("DROP VIEW {}", self.q(&view.name))
        }
    }

    fn create_view(&self, view: &Definition) -> String {
        match view.definition.strip_prefix("materialized ") {
            Some(query) => format!("CREATE MATERIALIZED VIEW {} AS {query}", self.q(&view.name)),
            None => format!("CREATE VIEW {} AS {}", self.q(&view.name), view.definition),
        }
    }

    fn drop_trigger(&self, trigger: &Definition) -> String {
        let (table, name) = trigger.name.split_once('.').unwrap_or(("", &trigger.name));
        match self.d {
            Dialect::Postgres => format!("DROP TRIGGER {} ON {}", self.q(name), self.q(table)),
            _ => format!("DROP TRIGGER {}", self.q(name)),
        }
    }

    fn create_trigger(&self, trigger: &Definition) -> String {
        match self.d {
            // MySQL reports `BEFORE UPDATE FOR EACH ROW <statement>`.
            Dialect::Mysql => {
                let (table, name) = trigger.name.split_once('.').unwrap_or(("", &trigger.name));
                let (when, body) = trigger
                    .definition
                    .split_once(" FOR EACH ROW ")
                    .unwrap_or((&trigger.definition, ""));
                format!(
                    "CREATE TRIGGER {} {when} ON {} FOR EACH ROW {body}",
                    self.q(name),
                    self.q(table)
                )
            }
            _ => trigger.definition.clone(),
        }
    }

    fn enums_before(&mut self, a: &[Enum], b: &[Enum], notes: &mut Vec<String>) {
        for e in b {
            match a.iter().find(|o| o.name == e.name) {
                None => {
                    let labels: Vec<String> = e.labels.iter().map(|l| self.d.literal(l)).collect();
                    self.push(format!(
                        "CREATE TYPE {} AS ENUM ({})",
                        self.q(&e.name),
                        labels.join(", ")
                    ));
                }
                Some(old) if old.labels != e.labels => {
                    if e.labels.starts_with(&old.labels) {
                        for label in &e.labels[old.labels.len()..] {
                            self.push(format!(
                                "ALTER TYPE {} ADD VALUE {}",
                                self.q(&e.name),
                                self.d.literal(label)
                            ));
                        }
                    } else {
                        let removed: Vec<&String> = old
                            .labels
                            .iter()
                            .filter(|l| !e.labels.contains(l))
                            .collect();
                        let old_name = format!("{}_old", e.name);
                        self.push(format!(
                            "ALTER TYPE {} RENAME TO {}",
                            self.q(&e.name),
                            self.q(&old_name)
                        ));
                        let labels: Vec<String> =
                            e.labels.iter().map(|l| self.d.literal(l)).collect();
                        self.push(format!(
                            "CREATE TYPE {} AS ENUM ({})",
                            self.q(&e.name),
                            labels.join(", ")
                        ));
                        let wanted = self.b;
                        for table in &wanted.tables {
                            for column in table.columns.iter().filter(|c| c.data_type == e.name) {
                                let sql = format!(
                                    "ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::text::{}",
                                    self.q(&table.name),
                                    self.q(&column.name),
                                    self.q(&e.name),
                                    self.q(&column.name),
                                    self.q(&e.name)
                                );
                                if removed.is_empty() {
                                    self.push(sql);
                                } else {
                                    let labels: Vec<&str> =
                                        removed.iter().map(|l| l.as_str()).collect();
                                    self.push_destructive(
                                        sql,
                                        format!(
                                            "{}.{} refuses rows holding the removed labels {}",
                                            table.name,
                                            column.name,
                                            labels.join(", ")
                                        ),
                                    );
                                }
                                if column.default.is_some() {
                                    notes.push(format!("{}.{}: its default names the enum type {}; check it survives the type's rebuild", table.name, column.name, e.name));
                                }
                            }
                        }
                        self.push(format!("DROP TYPE {}", self.q(&old_name)));
                    }
                }
                _ => {}
            }
        }
    }

    fn enums_after(&mut self, a: &[Enum], b: &[Enum]) {
        for e in a.iter().filter(|e| !b.iter().any(|n| n.name == e.name)) {
            self.push(format!("DROP TYPE {}", self.q(&e.name)));
        }
    }
}

/// What differs between the `wanted` schema (a model: `schema.rs` laid
/// over the history's, or a `schema.sql`) and the one a database `got`,
/// leaving out what the model leaves to the database: the names it gives
/// to keys and constraints the model does not name, the place PostgreSQL
/// gives an added column, the sequence of an identity column, and the index
/// MySQL makes for a foreign key. Empty when the database is what was
/// wanted.
pub fn verify(wanted: &Schema, got: &Schema) -> Vec<super::Difference> {
    let mut got = got.clone();
    let postgres = got.dialect == "postgresql";
    let mysql = got.dialect == "mysql";
    for table in &mut got.tables {
        let Some(model) = wanted.table(&table.name) else {
            continue;
        };
        if let (Some(pk), Some(want)) = (&mut table.primary_key, &model.primary_key) {
            if want.name.is_none() && pk.columns == want.columns {
                pk.name = None;
            }
        }
        for key in &mut table.unique {
            if model
                .unique
                .iter()
                .any(|u| u.name.is_none() && u.columns == key.columns)
            {
                key.name = None;
            }
        }
        for fk in &mut table.foreign_keys {
            let same = |f: &ForeignKey| {
                ForeignKey {
                    name: None,
                    ..f.clone()
                } == ForeignKey {
                    name: None,
                    ..fk.clone()
                }
            };
            if model
                .foreign_keys
                .iter()
                .any(|f| f.name.is_none() && same(f))
            {
                fk.name = None;
            }
        }
        for check in &mut table.checks {
            if model
                .checks
                .iter()
                .any(|c| c.name.is_none() && c.expression == check.expression)
            {
                check.name = None;
            }
        }
        if mysql {
            let backing: Vec<Vec<String>> = table
                .foreign_keys
                .iter()
                .map(|f| f.columns.clone())
                .collect();
            table.indexes.retain(|i| {
                model.indexes.iter().any(|m| m.name == i.name) || !backing.contains(&i.columns)
            });
        }
        if postgres {
            let order = |name: &str| {
                model
                    .columns
                    .iter()
                    .position(|c| c.name == name)
                    .unwrap_or(usize::MAX)
            };
            table.columns.sort_by_key(|c| order(&c.name));
        }
    }
    if postgres {
        let implicit = implicit_sequences(&got);
        got.sequences.retain(|s| {
            !implicit.contains(&s.name) || wanted.sequences.iter().any(|w| w.name == s.name)
        });
    }
    let got = got.sorted();
    let mut wanted = wanted.clone().sorted();
    wanted.dialect = got.dialect.clone();
    super::diff(&wanted, &got)
}

/// Renames, in `a`, what differs from `b` by its name alone on a kept
/// table — the primary key, a unique or check constraint, a foreign key, an
/// index — and a sequence (PostgreSQL) whose definition is the same; the
/// statements that do it where the dialect can (SQLite names none of them
/// but indexes, which it cannot rename; MySQL renames indexes and unique
/// keys only: the rest is dropped and made again).
fn align_names(d: Dialect, a: &mut Schema, b: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let q = |n: &str| quote(d, n);
    for ta in &mut a.tables {
        let Some(tb) = b.table(&ta.name) else {
            continue;
        };
        let t = q(&ta.name);
        let rename_constraint = |old: &str, new: &str| {
            format!("ALTER TABLE {t} RENAME CONSTRAINT {} TO {}", q(old), q(new))
        };
        if d == Dialect::Postgres {
            if let (Some(pa), Some(pb)) = (&mut ta.primary_key, &tb.primary_key) {
                if let (Some(old), Some(new)) = (&pa.name, &pb.name) {
                    if pa.columns == pb.columns && old != new {
                        out.push(rename_constraint(old, new));
                        pa.name = Some(new.clone());
                    }
                }
            }
        }
        if d != Dialect::Sqlite {
            for key in &mut ta.unique {
                if tb.unique.contains(key) {
                    continue;
                }
                let (Some(old), Some(new)) = (
                    key.name.clone(),
                    tb.unique
                        .iter()
                        .find(|k| k.columns == key.columns && k.name.is_some())
                        .and_then(|k| k.name.clone()),
                ) else {
                    continue;
                };
                out.push(match d {
                    Dialect::Mysql => {
                        format!("ALTER TABLE {t} RENAME INDEX {} TO {}", q(&old), q(&new))
                    }
                    _ => rename_constraint(&old, &new),
                });
                key.name = Some(new);
            }
        }
        if d == Dialect::Postgres {
            for check in &mut ta.checks {
                if tb.checks.contains(check) {
                    continue;
                }
                let (Some(old), Some(new)) = (
                    check.name.clone(),
                    tb.checks
                        .iter()
                        .find(|c| c.expression == check.expression && c.name.is_some())
                        .and_then(|c| c.name.clone()),
                ) else {
                    continue;
                };
                out.push(rename_constraint(&old, &new));
                check.name = Some(new);
            }
            for fk in &mut ta.foreign_keys {
                if tb.foreign_keys.contains(fk) {
                    continue;
                }
                let unnamed = |f: &ForeignKey| ForeignKey {
                    name: None,
                    ..f.clone()
                };
                let (Some(old), Some(new)) = (
                    fk.name.clone(),
                    tb.foreign_keys
                        .iter()
                        .find(|f| unnamed(f) == unnamed(fk) && f.name.is_some())
                        .and_then(|f| f.name.clone()),
                ) else {
                    continue;
                };
                out.push(rename_constraint(&old, &new));
                fk.name = Some(new);
            }
        }
        if d != Dialect::Sqlite {
            for index in &mut ta.indexes {
                if tb.indexes.contains(index) || tb.indexes.iter().any(|i| i.name == index.name) {
                    continue;
                }
                let same = |i: &Index| {
                    Index {
                        name: String::new(),
                        ..i.clone()
                    } == Index {
                        name: String::new(),
                        ..index.clone()
                    }
                };
                let Some(new) = tb.indexes.iter().find(|i| same(i)).map(|i| i.name.clone()) else {
                    continue;
                };
                out.push(match d {
                    Dialect::Mysql => format!(
                        "ALTER TABLE {t} RENAME INDEX {} TO {}",
                        q(&index.name),
                        q(&new)
                    ),
                    _ => format!("ALTER INDEX {} RENAME TO {}", q(&index.name), q(&new)),
                });
                index.name = new;
            }
        }
        ta.unique.sort();
        ta.indexes.sort();
        ta.foreign_keys.sort();
        ta.checks.sort();
    }
    if d == Dialect::Postgres {
        let bare = |def: &str| def.split(" owned by ").next().unwrap_or(def).to_string();
        let mut renamed: Vec<(String, String)> = Vec::new();
        for seq in &mut a.sequences {
            if b.sequences.iter().any(|s| s.name == seq.name) {
                continue;
            }
            let owner = owned_by(&seq.definition).map(str::to_string);
            let Some(new) = b
                .sequences
                .iter()
                .filter(|s| !renamed.iter().any(|(_, n)| *n == s.name))
                .find(|s| {
                    bare(&s.definition) == bare(&seq.definition)
                        && owned_by(&s.definition).map(str::to_string) == owner
                })
                .map(|s| s.name.clone())
            else {
                continue;
            };
            out.push(format!(
                "ALTER SEQUENCE {} RENAME TO {}",
                q(&seq.name),
                q(&new)
            ));
            renamed.push((seq.name.clone(), new.clone()));
            seq.name = new;
        }
        // A serial column's default names its sequence: PostgreSQL follows
        // the rename.
        for (old, new) in &renamed {
            for table in &mut a.tables {
                for column in &mut table.columns {
                    if let Some(default) = &mut column.default {
                        *default = default
                            .replace(&format!("nextval('{old}'"), &format!("nextval('{new}'"));
                    }
                }
            }
        }
        a.sequences.sort();
    }
    out
}

/// `a` with `renames` applied: tables, their columns, and every mention in
/// keys, indexes and foreign keys.
fn renamed(a: &Schema, renames: &[Rename]) -> Schema {
    let mut s = a.clone();
    for rename in renames.iter().filter(|r| r.table.is_none()) {
        for seq in &mut s.sequences {
            if owned_by(&seq.definition) == Some(rename.from.as_str()) {
                let kept = seq
                    .definition
                    .split(" owned by ")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                seq.definition = format!("{kept} owned by {}", rename.to);
            }
        }
        for table in &mut s.tables {
            if table.name == rename.from {
                table.name = rename.to.clone();
            }
            for fk in &mut table.foreign_keys {
                if fk.referenced_table == rename.from {
                    fk.referenced_table = rename.to.clone();
                }
            }
        }
    }
    for rename in renames.iter().filter(|r| r.table.is_some()) {
        let table_name = rename.table.as_deref().unwrap_or_default();
        let swap = |cols: &mut Vec<String>| {
            for c in cols.iter_mut() {
                if *c == rename.from {
                    *c = rename.to.clone();
                } else if let Some(name) = c.strip_suffix(" desc") {
                    if name == rename.from {
                        *c = format!("{} desc", rename.to);
                    }
                }
            }
        };
        for table in &mut s.tables {
            if table.name == table_name {
                for column in &mut table.columns {
                    if column.name == rename.from {
                        column.name = rename.to.clone();
                    }
                }
                if let Some(pk) = &mut table.primary_key {
                    swap(&mut pk.columns);
                }
                for key in &mut table.unique {
                    swap(&mut key.columns);
                }
                for index in &mut table.indexes {
                    swap(&mut index.columns);
                }
                for fk in &mut table.foreign_keys {
                    swap(&mut fk.columns);
                }
            }
            for fk in &mut table.foreign_keys {
                if fk.referenced_table == table_name {
                    swap(&mut fk.referenced_columns);
                }
            }
        }
    }
    s.tables.sort_by(|x, y| x.name.cmp(&y.name));
    for table in &mut s.tables {
        table.unique.sort();
        table.indexes.sort();
        table.foreign_keys.sort();
    }
    s
}

/// Names of the objects (views, triggers) to drop first and make again:
/// those that change or go, and those whose text names a touched table or
/// column (or, for a trigger, whose table is touched).
fn redone(
    a: &[Definition],
    b: &[Definition],
    tables: &BTreeSet<String>,
    columns: &BTreeSet<String>,
) -> BTreeSet<String> {
    a.iter()
        .filter(|d| {
            b.iter().find(|n| n.name == d.name) != Some(d)
                || tables
                    .iter()
                    .any(|t| mentions(&d.definition, t) || trigger_table(&d.name) == t)
                || columns.iter().any(|c| mentions(&d.definition, c))
        })
        .map(|d| d.name.clone())
        .collect()
}

/// Whether `text` names `word` as a whole identifier (case-insensitive).
fn mentions(text: &str, word: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let word = word.to_ascii_lowercase();
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    lower.match_indices(&word).any(|(i, _)| {
        let before = lower[..i].chars().last();
        let after = lower[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The table of a trigger named `table.trigger`.
fn trigger_table(name: &str) -> &str {
    name.split_once('.').map_or("", |(t, _)| t)
}

/// Whether a SQLite default is a literal (a string, a number, `NULL`,
/// `TRUE`/`FALSE`, `CURRENT_TIME`/`_DATE`/`_TIMESTAMP`) or already in
/// parentheses: what `DEFAULT` takes without them.
fn sqlite_plain_default(default: &str) -> bool {
    let d = default.trim();
    let lower = d.to_ascii_lowercase();
    d.starts_with('\'')
        || d.starts_with('(')
        || d.parse::<f64>().is_ok()
        || d.strip_prefix(['-', '+'])
            .is_some_and(|n| n.parse::<f64>().is_ok())
        || [
            "null",
            "true",
            "false",
            "current_time",
            "current_date",
            "current_timestamp",
        ]
        .contains(&lower.as_str())
        || (lower.starts_with("x'") && d.ends_with('\''))
}

/// SQLite's type affinity of a declared type (its rules, in their order):
/// the rows a rebuild copies keep their values unless it changes.
fn sqlite_affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("clob") || t.contains("text") {
        "text"
    } else if t.contains("blob") || t.is_empty() {
        "blob"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
        "real"
    } else {
        "numeric"
    }
}

/// Whether a column's type change keeps every value: a longer string, a
/// wider integer, a string to `text`.
fn widens(old: &str, new: &str) -> bool {
    let length = |t: &str| -> Option<(String, u64)> {
        let (base, rest) = t.split_once('(')?;
        Some((
            base.trim().to_string(),
            rest.strip_suffix(')')?.trim().parse().ok()?,
        ))
    };
    if let (Some((a, n)), Some((b, m))) = (length(old), length(new)) {
        if a == b && m >= n && !matches!(a.as_str(), "numeric" | "decimal") {
            return true;
        }
    }
    let rank = |t: &str| match t.split('(').next().unwrap_or(t).trim() {
        "smallint" | "int2" => Some(1),
        "integer" | "int" | "int4" | "mediumint" => Some(2),
        "bigint" | "int8" => Some(3),
        _ => None,
    };
    if let (Some(a), Some(b)) = (rank(old), rank(new)) {
        return b >= a;
    }
    let stringy = |t: &str| {
        t.starts_with("varchar") || t.starts_with("character varying") || t.starts_with("char")
    };
    stringy(old) && (new == "text" || new == "longtext" || new == "mediumtext")
}

/// Whether SQLite's `ALTER TABLE ADD COLUMN` can add this column.
fn sqlite_addable(column: &Column) -> bool {
    let default_ok = column.default.as_deref().is_none_or(|d| {
        !d.trim_start().starts_with('(') && !d.to_ascii_lowercase().starts_with("current_")
    });
    (column.nullable || column.default.is_some()) && default_ok && column.extra.is_none()
}

/// Whether MySQL must keep `index` (of `a`, gone from `b`) until the new
/// indexes are made: a foreign key kept on both sides may be using it.
/// Otherwise it is dropped with the other changed items, before any new
/// index could make MySQL drop a foreign key's own index by itself.
fn mysql_deferred(index: &Index, a: &Table, b: &Table) -> bool {
    if b.indexes.iter().any(|n| n.name == index.name) {
        return false;
    }
    a.foreign_keys
        .iter()
        .filter(|f| b.foreign_keys.contains(f))
        .any(|f| {
            index.columns.len() >= f.columns.len()
                && index
                    .columns
                    .iter()
                    .zip(&f.columns)
                    .all(|(i, c)| i.split([' ', '(']).next() == Some(c.as_str()))
        })
}

/// The column before `name` in `table` (where MySQL's `AFTER` puts it).
fn position_after<'t>(table: &'t Table, name: &str) -> Option<&'t str> {
    let i = table.columns.iter().position(|c| c.name == name)?;
    i.checked_sub(1).map(|j| table.columns[j].name.as_str())
}

/// `ALWAYS` or `BY DEFAULT`, from `identity always` / `identity by default`.
fn identity_kind(extra: &str) -> &'static str {
    if extra.ends_with("always") {
        "ALWAYS"
    } else {
        "BY DEFAULT"
    }
}

/// Sequences PostgreSQL makes itself, with an identity column.
fn implicit_sequences(s: &Schema) -> BTreeSet<String> {
    s.sequences
        .iter()
        .filter(|seq| {
            owned_by(&seq.definition).is_some_and(|table| {
                s.table(table).is_some_and(|t| {
                    t.columns.iter().any(|c| {
                        c.extra
                            .as_deref()
                            .is_some_and(|e| e.starts_with("identity"))
                            && !c.default.as_deref().is_some_and(|d| d.contains("nextval("))
                    })
                }) && !s.tables.iter().any(|t| {
                    t.columns.iter().any(|c| {
                        c.default
                            .as_deref()
                            .is_some_and(|d| d.contains(&format!("nextval('{}'", seq.name)))
                    })
                })
            })
        })
        .map(|seq| seq.name.clone())
        .collect()
}

/// The table a sequence's definition says owns it.
fn owned_by(definition: &str) -> Option<&str> {
    definition.split_once(" owned by ").map(|(_, t)| t.trim())
}

/// `table.column` whose default takes values from the sequence (a serial column).
fn owner_column(s: &Schema, seq: &Definition) -> Option<String> {
    let table = owned_by(&seq.definition)?;
    let t = s.table(table)?;
    let column = t.columns.iter().find(|c| {
        c.default
            .as_deref()
            .is_some_and(|d| d.contains(&format!("nextval('{}'", seq.name)))
    })?;
    Some(format!(
        "{}.{}",
        quote(Dialect::Postgres, table),
        quote(Dialect::Postgres, &column.name)
    ))
}

/// `CREATE SEQUENCE`'s options from the dump's `bigint start 1 increment 1
/// min 1 max … cache 1[ cycle][ owned by t]`.
fn sequence_options(definition: &str) -> String {
    let text = definition.split(" owned by ").next().unwrap_or(definition);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // The type may be two words (`double precision` is not a sequence type;
    // `bigint`, `integer`, `smallint` are one).
    if let Some(kind) = words.first() {
        out.push(format!("AS {kind}"));
        i = 1;
    }
    let mut cycle = false;
    while i < words.len() {
        match (words[i], words.get(i + 1)) {
            ("start", Some(v)) => out.push(format!("START WITH {v}")),
            ("increment", Some(v)) => out.push(format!("INCREMENT BY {v}")),
            ("min", Some(v)) => out.push(format!("MINVALUE {v}")),
            ("max", Some(v)) => out.push(format!("MAXVALUE {v}")),
            ("cache", Some(v)) => out.push(format!("CACHE {v}")),
            ("cycle", _) => {
                cycle = true;
                i += 1;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    out.push(if cycle { "CYCLE" } else { "NO CYCLE" }.to_string());
    out.join(" ")
}

/// `DROP FUNCTION`'s name: `name(args)` as the dump has it, the name quoted.
fn function_name(d: Dialect, name: &str) -> String {
    match name.split_once('(') {
        Some((n, args)) => format!("{}({args}", quote(d, n)),
        None => quote(d, name),
    }
}

/// Dropped tables, those referencing others of them first.
fn children_first<'t>(dropped: &[&'t Table]) -> Vec<&'t Table> {
    let mut left: Vec<&Table> = dropped.to_vec();
    let mut out = Vec::new();
    while !left.is_empty() {
        let referenced: BTreeSet<&str> = left
            .iter()
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|f| f.referenced_table != t.name)
            })
            .map(|f| f.referenced_table.as_str())
            .collect();
        let (free, rest): (Vec<&Table>, Vec<&Table>) = left
            .iter()
            .partition(|t| !referenced.contains(t.name.as_str()));
        if free.is_empty() {
            // A cycle: the rest in name order (foreign keys deferred or dropped with them).
            out.extend(rest);
            break;
        }
        out.extend(free);
        left = rest;
    }
    out
}

/// Whether a name needs no quotes: lower case letters, digits and `_`, not
/// starting with a digit, and not a reserved word.
fn is_plain(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Reserved words of the three dialects that a plain name could be.
const RESERVED: &[&str] = &[
    "add",
    "all",
    "alter",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "primary",
    "range",
    "references",
    "right",
    "row",
    "rows",
    "select",
    "set",
    "table",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "window",
    "with",
];

/// A name as SQL: bare when plain, else quoted for the dialect.
pub(crate) fn quote(d: Dialect, name: &str) -> String {
    if is_plain(name) && !RESERVED.contains(&name) {
        return name.to_string();
    }
    match d {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Test = std::result::Result<(), Box<dyn std::error::Error>>;

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.to_string(),
            data_type: ty.to_string(),
            nullable,
            default: None,
            extra: None,
        }
    }

    fn table(name: &str, columns: Vec<Column>) -> Table {
        Table {
            name: name.to_string(),
            primary_key: Some(Key {
                name: None,
                columns: vec![columns[0].name.clone()],
            }),
            columns,
            ..Table::default()
        }
    }

    fn schema(dialect: &str, tables: Vec<Table>) -> Schema {
        Schema {
            dialect: dialect.to_string(),
            tables,
            ..Schema::default()
        }
    }

    #[test]
    fn renames_read_both_forms_and_refuse_others() -> Test {
        assert_eq!(
            "users.name=full_name".parse::<Rename>(),
            Ok(Rename {
                table: Some("users".to_string()),
                from: "name".to_string(),
                to: "full_name".to_string()
            })
        );
        assert_eq!("a=b".parse::<Rename>().map(|r| r.table), Ok(None));
        for bad in ["a", "=b", "a=", ".a=b", "a=b.c"] {
            assert!(bad.parse::<Rename>().is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn equal_schemas_give_nothing() -> Test {
        let s = schema(
            "postgresql",
            vec![table("t", vec![col("id", "integer", false)])],
        );
        assert!(changes(&s, &s, &[])?.is_empty());
        Ok(())
    }

    #[test]
    fn a_new_table_is_created_and_dropped_back() -> Test {
        let a = schema("postgresql", vec![]);
        let mut t = table(
            "users",
            vec![col("id", "integer", false), col("name", "text", true)],
        );
        t.foreign_keys.push(ForeignKey {
            name: Some("users_id_fkey".to_string()),
            columns: vec!["id".to_string()],
            referenced_table: "people".to_string(),
            referenced_columns: vec!["id".to_string()],
            on_delete: "cascade".to_string(),
            on_update: "no action".to_string(),
        });
        let b = schema("postgresql", vec![t]);
        let c = changes(&a, &b, &[])?;
        assert_eq!(
            c.upgrade_sql(),
            "CREATE TABLE users (\n    id integer NOT NULL,\n    name text,\n    PRIMARY KEY (id)\n);\nALTER TABLE users ADD CONSTRAINT users_id_fkey FOREIGN KEY (id) REFERENCES people (id) ON DELETE CASCADE;\n"
        );
        assert_eq!(
            c.downgrade_sql(),
            "-- DESTRUCTIVE: drops table users and its rows\nDROP TABLE users;\n"
        );
        Ok(())
    }

    #[test]
    fn sqlite_rebuilds_what_alter_table_cannot_do() -> Test {
        let a = schema(
            "sqlite",
            vec![table(
                "t",
                vec![col("id", "integer", true), col("v", "text", true)],
            )],
        );
        let b = schema(
            "sqlite",
            vec![table(
                "t",
                vec![col("id", "integer", true), col("v", "text", false)],
            )],
        );
        let up = changes(&a, &b, &[])?.upgrade_sql();
        assert_eq!(
            up,
            "PRAGMA defer_foreign_keys = ON;\nCREATE TABLE _alembix_new_t (\n    id integer,\n    v text NOT NULL,\n    PRIMARY KEY (id)\n);\nINSERT INTO _alembix_new_t (id, v) SELECT id, v FROM t;\nDROP TABLE t;\nALTER TABLE _alembix_new_t RENAME TO t;\n"
        );
        // A nullable column appended is an ALTER TABLE.
        let b = schema(
            "sqlite",
            vec![table(
                "t",
                vec![
                    col("id", "integer", true),
                    col("v", "text", true),
                    col("w", "integer", true),
                ],
            )],
        );
        assert_eq!(
            changes(&a, &b, &[])?.upgrade_sql(),
            "ALTER TABLE t ADD COLUMN w integer;\n"
        );
        Ok(())
    }

    #[test]
    fn a_stated_rename_is_a_rename_and_nothing_else_is() -> Test {
        let a = schema(
            "postgresql",
            vec![table(
                "t",
                vec![col("id", "integer", false), col("name", "text", true)],
            )],
        );
        let b = schema(
            "postgresql",
            vec![table(
                "t",
                vec![col("id", "integer", false), col("full_name", "text", true)],
            )],
        );
        let guessed = changes(&a, &b, &[])?;
        assert!(
            guessed.upgrade_sql().contains("DROP COLUMN name"),
            "{}",
            guessed.upgrade_sql()
        );
        let told = changes(&a, &b, &["t.name=full_name".parse()?])?;
        assert_eq!(
            told.upgrade_sql(),
            "ALTER TABLE t RENAME COLUMN name TO full_name;\n"
        );
        assert_eq!(
            told.downgrade_sql(),
            "ALTER TABLE t RENAME COLUMN full_name TO name;\n"
        );
        assert!(changes(&a, &b, &["t.nope=full_name".parse()?]).is_err());
        Ok(())
    }

    #[test]
    fn reserved_and_odd_names_are_quoted() -> Test {
        assert_eq!(quote(Dialect::Postgres, "user"), "\"user\"");
        assert_eq!(quote(Dialect::Mysql, "Odd`Name"), "`Odd``Name`");
        assert_eq!(quote(Dialect::Sqlite, "plain_1"), "plain_1");
        Ok(())
    }

    #[test]
    fn sequence_options_come_from_the_dump() -> Test {
        assert_eq!(
            sequence_options("bigint start 1000 increment 1 min 1 max 9223372036854775807 cache 1 owned by t"),
            "AS bigint START WITH 1000 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE"
        );
        Ok(())
    }

    #[test]
    fn views_reading_a_changed_table_are_made_again() -> Test {
        assert!(mentions("SELECT t.a FROM t", "t"));
        assert!(!mentions("SELECT ta FROM tx", "t"));
        Ok(())
    }
}
