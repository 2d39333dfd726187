//! Reading a MySQL/MariaDB schema from `information_schema` (`TABLES`,
//! `COLUMNS`, `STATISTICS`, `KEY_COLUMN_USAGE`, `REFERENTIAL_CONSTRAINTS`,
//! `CHECK_CONSTRAINTS`, `VIEWS`, `TRIGGERS`). Unique constraints are unique
//! indexes there: both are listed as `unique`.

use super::{action, collapse, split_list, Check, Column, Definition, Excluded};
use super::{ForeignKey, Index, Key, Schema};
use crate::backend::{Database, Name};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::ident::Identifier;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

const DOING: &str = "reading the MySQL/MariaDB schema";

/// The separator of lists sent as one value (see [`split_list`]).
const SEPARATOR: &str = "'\u{1f}'";

#[derive(QueryableByName)]
struct Probe {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    version: String,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    extra: Option<String>,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    non_unique: i64,
    #[diesel(sql_type = Nullable<Text>)]
    columns: Option<String>,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    columns: Option<String>,
    #[diesel(sql_type = Text)]
    referenced_table: String,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_columns: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
}

#[derive(QueryableByName)]
struct DefinitionRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    definition: Option<String>,
}

/// Reads the database `schema` names (the connection's `DATABASE()` for `None`).
pub(super) fn read(
    db: &mut Database,
    schema: Option<&Identifier>,
    excluded: &Excluded,
) -> Result<Schema> {
    let probe: Vec<Probe> = db.load_or(
        "SELECT CAST(COALESCE(DATABASE(), '') AS CHAR) AS name, CAST(VERSION() AS CHAR) AS version",
        DOING,
    )?;
    let (current, version) = probe
        .into_iter()
        .next()
        .map(|p| (p.name, p.version))
        .unwrap_or_default();
    let name = match schema {
        Some(schema) => schema.as_str().to_string(),
        None if current.is_empty() => return Err(Error::Unsupported(
            "no database is selected: name one in the URL (mysql://user@host/DB) or with --schema"
                .to_string(),
        )),
        None => current,
    };
    let mariadb = version.to_ascii_lowercase().contains("mariadb");
    let s = Dialect::Mysql.literal(&name);
    let prefixes = [format!("`{name}`."), format!("{name}.")];
    let unqualify = |text: &str| super::unqualified(&collapse(text), &prefixes);

    let names: Vec<Name> = db.load_or(
        &format!("SELECT CAST(TABLE_NAME AS CHAR) AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = {s} AND TABLE_TYPE = 'BASE TABLE'"),
        DOING,
    )?;
    let mut tables = excluded.tables(names);

    let columns: Vec<ColumnRow> = db.load_or(
        &format!("SELECT CAST(TABLE_NAME AS CHAR) AS table_name, CAST(COLUMN_NAME AS CHAR) AS name, CAST(COLUMN_TYPE AS CHAR) AS data_type, CAST(IS_NULLABLE AS CHAR) AS nullable, CAST(COLUMN_DEFAULT AS CHAR) AS default_value, CAST(EXTRA AS CHAR) AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {s} ORDER BY TABLE_NAME, ORDINAL_POSITION"),
        DOING,
    )?;
    for c in columns {
        let Some(table) = tables.get_mut(&c.table_name) else {
            continue;
        };
        let nullable = c.nullable.eq_ignore_ascii_case("yes");
        // MariaDB says `NULL` (unquoted) for "no default" of a nullable column.
        let default = c.default_value.filter(|d| !(d == "NULL" && nullable));
        let extra = c
            .extra
            .map(|e| e.to_ascii_lowercase().replace("default_generated", ""))
            .map(|e| collapse(&e))
            .filter(|e| !e.is_empty());
        table.columns.push(Column {
            name: c.name,
            data_type: c.data_type.to_ascii_lowercase(),
            nullable,
            default,
            extra,
        });
    }

    let indexes: Vec<IndexRow> = db.load_or(
        &format!("SELECT CAST(TABLE_NAME AS CHAR) AS table_name, CAST(INDEX_NAME AS CHAR) AS name, CAST(MIN(NON_UNIQUE) AS SIGNED) AS non_unique, CAST(GROUP_CONCAT(CONCAT(COLUMN_NAME, IF(SUB_PART IS NULL, '', CONCAT('(', SUB_PART, ')')), IF(COLLATION = 'D', ' desc', '')) ORDER BY SEQ_IN_INDEX SEPARATOR {SEPARATOR}) AS CHAR) AS columns FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = {s} GROUP BY TABLE_NAME, INDEX_NAME"),
        DOING,
    )?;
    for i in indexes {
        let Some(table) = tables.get_mut(&i.table_name) else {
            continue;
        };
        let columns = split_list(i.columns.as_deref());
        if i.name == "PRIMARY" {
            table.primary_key = Some(Key {
                name: None,
                columns,
            });
        } else if i.non_unique == 0 {
            table.unique.push(Key {
                name: Some(i.name),
                columns,
            });
        } else {
            table.indexes.push(Index {
                name: i.name,
                columns,
                unique: false,
                method: None,
                predicate: None,
            });
        }
    }

    let foreign_keys: Vec<ForeignKeyRow> = db.load_or(
        &format!("SELECT CAST(k.TABLE_NAME AS CHAR) AS table_name, CAST(k.CONSTRAINT_NAME AS CHAR) AS name, CAST(GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR {SEPARATOR}) AS CHAR) AS columns, CAST(MIN(k.REFERENCED_TABLE_NAME) AS CHAR) AS referenced_table, CAST(GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR {SEPARATOR}) AS CHAR) AS referenced_columns, CAST(MIN(r.DELETE_RULE) AS CHAR) AS on_delete, CAST(MIN(r.UPDATE_RULE) AS CHAR) AS on_update FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = {s} AND k.REFERENCED_TABLE_NAME IS NOT NULL GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME"),
        DOING,
    )?;
    for f in foreign_keys {
        if let Some(table) = tables.get_mut(&f.table_name) {
            table.foreign_keys.push(ForeignKey {
                name: Some(f.name),
                columns: split_list(f.columns.as_deref()),
                referenced_table: f.referenced_table,
                referenced_columns: split_list(f.referenced_columns.as_deref()),
                on_delete: action(&f.on_delete),
                on_update: action(&f.on_update),
            });
        }
    }

    // MariaDB names a check per table (its CHECK_CONSTRAINTS has the
    // table); MySQL per database (the table is in TABLE_CONSTRAINTS).
    let checks_sql = if mariadb {
        format!("SELECT CAST(TABLE_NAME AS CHAR) AS table_name, CAST(CONSTRAINT_NAME AS CHAR) AS name, CAST(CHECK_CLAUSE AS CHAR) AS definition FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = {s}")
    } else {
        format!("SELECT CAST(t.TABLE_NAME AS CHAR) AS table_name, CAST(c.CONSTRAINT_NAME AS CHAR) AS name, CAST(c.CHECK_CLAUSE AS CHAR) AS definition FROM information_schema.CHECK_CONSTRAINTS c JOIN information_schema.TABLE_CONSTRAINTS t ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND t.CONSTRAINT_TYPE = 'CHECK' WHERE c.CONSTRAINT_SCHEMA = {s}")
    };
    let checks: Vec<DefinitionRow> = db.load_or(&checks_sql, DOING)?;
    for c in checks {
        if let Some(table) = tables.get_mut(&c.table_name) {
            table.checks.push(Check {
                name: Some(c.name),
                expression: unqualify(c.definition.as_deref().unwrap_or_default()),
            });
        }
    }

    let mut schema = Schema {
        dialect: Dialect::Mysql.name().to_string(),
        tables: tables.into_values().collect(),
        ..Schema::default()
    };
    let views: Vec<DefinitionRow> = db.load_or(
        &format!("SELECT CAST(TABLE_NAME AS CHAR) AS table_name, CAST(TABLE_NAME AS CHAR) AS name, CAST(VIEW_DEFINITION AS CHAR) AS definition FROM information_schema.VIEWS WHERE TABLE_SCHEMA = {s}"),
        DOING,
    )?;
    schema.views = views
        .into_iter()
        .map(|v| Definition {
            name: v.name,
            definition: unqualify(v.definition.as_deref().unwrap_or_default()),
        })
        .collect();
    let triggers: Vec<DefinitionRow> = db.load_or(
        &format!("SELECT CAST(EVENT_OBJECT_TABLE AS CHAR) AS table_name, CAST(CONCAT(EVENT_OBJECT_TABLE, '.', TRIGGER_NAME) AS CHAR) AS name, CAST(CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION, ' FOR EACH ', ACTION_ORIENTATION, ' ', ACTION_STATEMENT) AS CHAR) AS definition FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {s}"),
        DOING,
    )?;
    schema.triggers = triggers
        .into_iter()
        .filter(|t| !excluded.contains(&t.table_name))
        .map(|t| Definition {
            name: t.name,
            definition: unqualify(t.definition.as_deref().unwrap_or_default()),
        })
        .collect();
    Ok(schema)
}
