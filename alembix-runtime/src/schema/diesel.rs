//! diesel's `schema.rs` from a [`Schema`]: the text `diesel print-schema`
//! (diesel_cli 2.3, default configuration) prints for a database with that
//! schema — header, `pub mod sql_types` for types diesel does not provide,
//! a `diesel::table!` per table with a primary key (sorted by name),
//! `diesel::joinable!` for single-column foreign keys between two tables
//! joined by no other, and `diesel::allow_tables_to_appear_in_same_query!`,
//! laid out as diesel's run through `rustfmt` leaves it.
//!
//! The rules follow diesel_cli's `print_schema.rs` and
//! `infer_schema_internals/` (type names per backend, `#[sql_name]` for
//! names that are no Rust identifier, `#[max_length]` where the backend
//! reports a character length, SQLite's implicit `rowid` key). Views are not
//! printed, as by diesel's default.

use super::{Column, Schema, Table};
use crate::error::{Error, Result};
use heck::ToUpperCamelCase;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The first line diesel writes.
pub const HEADER: &str = "// @generated automatically by Diesel CLI.";

/// The width `rustfmt` (default configuration) fits a line into.
const MAX_WIDTH: usize = 100;

/// A generated `schema.rs`, and the tables diesel cannot describe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DieselSchema {
    /// The text of `schema.rs`.
    pub text: String,
    /// Tables left out because they have no primary key (diesel needs one).
    pub skipped: Vec<String>,
}

/// Which backend's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

/// A column's SQL type as diesel names it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SqlType {
    /// The type's name in `diesel::sql_types` (or in `sql_types` when custom).
    rust_name: String,
    /// The backend's name of it (for a custom type's attribute).
    sql_name: String,
    /// The schema of a PostgreSQL type outside the current one (`pg_catalog`).
    schema: Option<String>,
    nullable: bool,
    array: bool,
    unsigned: bool,
    /// `#[max_length = N]`.
    max_length: Option<u64>,
}

impl SqlType {
    fn render(&self, rust_name: &str) -> String {
        let mut out = rust_name.to_string();
        if self.unsigned {
            out = format!("Unsigned<{out}>");
        }
        if self.array {
            out = format!("Array<Nullable<{out}>>");
        }
        if self.nullable {
            out = format!("Nullable<{out}>");
        }
        out
    }
}

/// A table as diesel prints it.
struct TableData<'a> {
    name: &'a str,
    rust_name: String,
    primary_key: Vec<String>,
    columns: Vec<ColumnData>,
}

struct ColumnData {
    sql_name: String,
    rust_name: String,
    ty: SqlType,
    /// The name of the type in `sql_types`, when diesel provides none.
    custom: Option<String>,
}

/// A foreign key as diesel loads it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    child: String,
    parent: String,
    columns: Vec<String>,
    columns_rust: Vec<String>,
    referenced: Vec<String>,
}

/// The text `diesel print-schema` prints for a database with `schema`.
///
/// Fails on a column type diesel has no SQL type for on SQLite (diesel
/// fails the same way) or cannot read on MySQL (a type name with a space).
pub fn schema_rs(schema: &Schema) -> Result<DieselSchema> {
    let backend = match schema.dialect.as_str() {
        "sqlite" => Backend::Sqlite,
        "postgresql" => Backend::Postgres,
        "mysql" => Backend::Mysql,
        other => {
            return Err(Error::Unsupported(format!(
                "printing a diesel schema for the dialect {other}"
            )))
        }
    };
    let mut skipped = Vec::new();
    let mut tables = Vec::new();
    for table in &schema.tables {
        if table.name.starts_with("__") {
            continue;
        }
        let primary_key = primary_key(backend, table);
        if primary_key.is_empty() {
            skipped.push(table.name.clone());
            continue;
        }
        tables.push(table_data(backend, schema, table, primary_key)?);
    }
    tables.sort_by(|a, b| a.name.cmp(b.name));
    let names: BTreeSet<&str> = tables.iter().map(|t| t.name).collect();
    let joinable = joinable(backend, schema, &names);

    let mut out = String::new();
    out.push_str(HEADER);
    out.push_str("\n\n");
    out.push_str(&sql_types(backend, &tables));
    for (i, table) in tables.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&table_block(table));
    }
    if !joinable.is_empty() {
        out.push('\n');
    }
    for fk in &joinable {
        if let [column] = fk.columns_rust.as_slice() {
            let _ = writeln!(
                out,
                "diesel::joinable!({} -> {} ({column}));",
                rust_name(&fk.child, None),
                rust_name(&fk.parent, None),
            );
        }
    }
    if tables.len() >= 2 {
        out.push('\n');
        out.push_str(&allow_tables(&tables));
    }
    let text = format!("{}\n", out.trim_end_matches('\n'));
    Ok(DieselSchema { text, skipped })
}

/// The primary key diesel finds: on SQLite in column order, and for a
/// table without one its implicit `rowid` (or the first alias no column
/// takes); elsewhere in key order.
fn primary_key(backend: Backend, table: &Table) -> Vec<String> {
    let declared = table
        .primary_key
        .as_ref()
        .map(|k| k.columns.clone())
        .unwrap_or_default();
    if backend != Backend::Sqlite {
        return declared;
    }
    let in_order: Vec<String> = table
        .columns
        .iter()
        .filter(|c| declared.contains(&c.name))
        .map(|c| c.name.clone())
        .collect();
    if !in_order.is_empty() {
        return in_order;
    }
    ["rowid", "oid", "_rowid_"]
        .iter()
        .find(|alias| !table.columns.iter().any(|c| c.name == **alias))
        .map(|alias| vec![alias.to_string()])
        .unwrap_or_default()
}

fn table_data<'a>(
    backend: Backend,
    schema: &Schema,
    table: &'a Table,
    primary_key: Vec<String>,
) -> Result<TableData<'a>> {
    let table_rust = rust_name(&table.name, None);
    let mut columns = Vec::new();
    let rowid = match primary_key.as_slice() {
        [key] if !table.columns.iter().any(|c| &c.name == key) => Some(key),
        _ => None,
    };
    if let (Backend::Sqlite, Some(rowid)) = (backend, rowid) {
        // The implicit rowid, as diesel prepends it.
        columns.push(ColumnData {
            sql_name: rowid.clone(),
            rust_name: rust_name(rowid, Some(&table_rust)),
            ty: SqlType {
                rust_name: "Integer".to_string(),
                sql_name: "Integer".to_string(),
                schema: None,
                nullable: false,
                array: false,
                unsigned: false,
                max_length: None,
            },
            custom: None,
        });
    }
    for column in &table.columns {
        let ty = match backend {
            Backend::Sqlite => sqlite_type(column),
            Backend::Postgres => Ok(postgres_type(schema, column)),
            Backend::Mysql => mysql_type(column),
        }
        .map_err(|ty| {
            Error::Unsupported(format!(
                "diesel has no SQL type for the column {}.{} of type `{ty}`",
                table.name, column.name
            ))
        })?;
        let provided = match backend {
            Backend::Sqlite => SQLITE_TYPES.contains(&ty.rust_name.as_str()),
            Backend::Postgres => {
                COMMON_TYPES.contains(&ty.rust_name.as_str())
                    || POSTGRES_TYPES.contains(&ty.rust_name.as_str())
            }
            Backend::Mysql => {
                COMMON_TYPES.contains(&ty.rust_name.as_str())
                    || MYSQL_TYPES.contains(&ty.rust_name.as_str())
            }
        };
        let rust = rust_name(&column.name, Some(&table_rust));
        let custom = (!provided).then(|| match backend {
            Backend::Mysql => {
                format!("{} {} {}", table_rust, rust, ty.rust_name).to_upper_camel_case()
            }
            _ => ty.rust_name.clone(),
        });
        columns.push(ColumnData {
            sql_name: column.name.clone(),
            rust_name: rust,
            ty,
            custom,
        });
    }
    Ok(TableData {
        name: &table.name,
        primary_key: primary_key
            .iter()
            .map(|k| rust_name(k, Some(&table_rust)))
            .collect(),
        rust_name: table_rust,
        columns,
    })
}

/// diesel's SQLite rules: by what the declared type contains.
fn sqlite_type(column: &Column) -> std::result::Result<SqlType, String> {
    let t = column.data_type.to_lowercase();
    let t = if t == "generated always" {
        String::new()
    } else {
        t
    };
    let has = |s: &str| t.contains(s);
    let name = if t == "boolean" || t == "bool" || has("tiny") && has("int") {
        "Bool"
    } else if t == "int2" || has("small") && has("int") {
        "SmallInt"
    } else if t == "int8" || has("big") && has("int") {
        "BigInt"
    } else if has("int") {
        "Integer"
    } else if has("char") || has("clob") || has("text") {
        "Text"
    } else if has("blob") || has("binary") || t.is_empty() {
        "Binary"
    } else if has("float") || has("real") {
        "Float"
    } else if has("double") || has("num") || has("dec") {
        "Double"
    } else if t == "datetime" || t == "timestamp" {
        "Timestamp"
    } else if t == "date" {
        "Date"
    } else if t == "time" {
        "Time"
    } else {
        return Err(column.data_type.clone());
    };
    Ok(SqlType {
        rust_name: name.to_string(),
        sql_name: name.to_string(),
        schema: None,
        nullable: column.nullable,
        array: false,
        unsigned: false,
        max_length: None,
    })
}

/// PostgreSQL: the type's catalog name (`udt_name`: `int4`, `varchar`,
/// `timestamptz`, an enum's name) in upper camel case, an array as
/// `Array<Nullable<…>>`, the character length of `varchar(n)`,
/// `character(n)`, `bit(n)`.
fn postgres_type(schema: &Schema, column: &Column) -> SqlType {
    let mut text = column.data_type.trim();
    let mut array = false;
    while let Some(inner) = text.strip_suffix("[]") {
        array = true;
        text = inner.trim_end();
    }
    let (base, modifier) = match (text.find('('), text.find(')')) {
        (Some(open), Some(close)) if open < close => (
            format!("{}{}", &text[..open], &text[close + 1..]),
            Some(&text[open + 1..close]),
        ),
        _ => (text.to_string(), None),
    };
    let base = base.trim();
    let length = modifier.and_then(|m| m.trim().parse::<u64>().ok());
    let (udt, max_length) = match base {
        "character varying" => ("varchar".to_string(), length),
        "character" => ("bpchar".to_string(), length),
        "bit" => ("bit".to_string(), length),
        "bit varying" => ("varbit".to_string(), length),
        "smallint" => ("int2".to_string(), None),
        "integer" => ("int4".to_string(), None),
        "bigint" => ("int8".to_string(), None),
        "real" => ("float4".to_string(), None),
        "double precision" => ("float8".to_string(), None),
        "boolean" => ("bool".to_string(), None),
        "\"char\"" => ("char".to_string(), None),
        "timestamp without time zone" => ("timestamp".to_string(), None),
        "timestamp with time zone" => ("timestamptz".to_string(), None),
        "time without time zone" => ("time".to_string(), None),
        "time with time zone" => ("timetz".to_string(), None),
        b if b.starts_with("interval") => ("interval".to_string(), None),
        other => (other.trim_matches('"').to_string(), None),
    };
    let (type_schema, udt) = match udt.split_once('.') {
        Some((s, n)) if !udt.starts_with('"') => (
            Some(s.trim_matches('"').to_string()),
            n.trim_matches('"').to_string(),
        ),
        _ => (None, udt),
    };
    let schema_of_type = type_schema.or_else(|| {
        let is_enum = schema.enums.iter().any(|e| e.name == udt);
        (!is_enum && PG_CATALOG.contains(&udt.as_str())).then(|| "pg_catalog".to_string())
    });
    SqlType {
        rust_name: udt.to_upper_camel_case(),
        sql_name: udt,
        schema: schema_of_type,
        nullable: column.nullable,
        array,
        unsigned: false,
        max_length: if array { None } else { max_length },
    }
}

/// MySQL/MariaDB: the column type without its parentheses
/// (`tinyint(1)` is `Bool`, `int…` is `Integer`), `Unsigned<…>`, and the
/// length of `char(n)`, `varchar(n)`, `binary(n)`, `varbinary(n)`, `enum`
/// and `set`.
fn mysql_type(column: &Column) -> std::result::Result<SqlType, String> {
    let full = column.data_type.as_str();
    let unsigned = full.to_lowercase().contains("unsigned");
    let name = if full == "tinyint(1)" {
        "bool"
    } else if full.starts_with("int") {
        "integer"
    } else if let Some(open) = full.find('(') {
        &full[..open]
    } else {
        full
    };
    let name = if name.to_lowercase().contains("unsigned") {
        name.to_lowercase()
            .replace("unsigned", "")
            .trim()
            .to_string()
    } else if name.contains(' ') {
        return Err(full.to_string());
    } else {
        name.to_string()
    };
    let name = name.trim().to_string();
    Ok(SqlType {
        rust_name: name.to_upper_camel_case(),
        sql_name: name,
        schema: None,
        nullable: column.nullable,
        array: false,
        unsigned,
        max_length: mysql_length(full),
    })
}

/// `CHARACTER_MAXIMUM_LENGTH` of a MySQL column type that has parentheses
/// (diesel drops the length of a type without them).
fn mysql_length(full: &str) -> Option<u64> {
    let open = full.find('(')?;
    let close = full.rfind(')')?;
    let base = full[..open].trim();
    let inner = full.get(open + 1..close)?;
    match base {
        "char" | "varchar" | "binary" | "varbinary" => inner.trim().parse().ok(),
        "enum" | "set" => {
            let labels = mysql_labels(inner);
            let lengths = labels.iter().map(|l| l.chars().count() as u64);
            if base == "enum" {
                lengths.max()
            } else {
                Some(lengths.sum::<u64>() + (labels.len() as u64).saturating_sub(1))
            }
        }
        _ => None,
    }
}

/// The labels of `'a','b''c'`.
fn mysql_labels(inner: &str) -> Vec<String> {
    let mut labels = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut label = String::new();
        while let Some(d) = chars.next() {
            if d == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    label.push('\'');
                    continue;
                }
                break;
            }
            label.push(d);
        }
        labels.push(label);
    }
    labels
}

/// `pub mod sql_types { … }` for the types diesel does not provide.
fn sql_types(backend: Backend, tables: &[TableData]) -> String {
    let mut types: Vec<(&String, &SqlType)> = tables
        .iter()
        .flat_map(|t| t.columns.iter())
        .filter_map(|c| c.custom.as_ref().map(|name| (name, &c.ty)))
        .collect();
    if types.is_empty() {
        return String::new();
    }
    types.sort_by(|a, b| a.0.cmp(b.0));
    if backend == Backend::Postgres {
        types.dedup_by(|a, b| a.0 == b.0);
    }
    let mut out = String::from("pub mod sql_types {\n");
    for (i, (name, ty)) in types.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str("    #[derive(diesel::sql_types::SqlType)]\n");
        match (backend, &ty.schema) {
            (Backend::Mysql, _) => {
                let mut chars = ty.sql_name.chars();
                let capitalised: String = chars
                    .next()
                    .map(|f| f.to_uppercase().chain(chars).collect())
                    .unwrap_or_default();
                let _ = writeln!(out, "    #[diesel(mysql_type(name = \"{capitalised}\"))]");
            }
            (_, Some(schema)) => {
                let _ = writeln!(
                    out,
                    "    #[diesel(postgres_type(name = {}, schema = {}))]",
                    rust_string(&ty.sql_name),
                    rust_string(schema)
                );
            }
            (_, None) => {
                let _ = writeln!(
                    out,
                    "    #[diesel(postgres_type(name = {}))]",
                    rust_string(&ty.sql_name)
                );
            }
        }
        let _ = writeln!(out, "    pub struct {name};");
    }
    out.push_str("}\n\n");
    out
}

fn table_block(table: &TableData) -> String {
    let mut out = String::from("diesel::table! {\n");
    let mut imported: Vec<&str> = Vec::new();
    for custom in table.columns.iter().filter_map(|c| c.custom.as_deref()) {
        if !imported.contains(&custom) {
            if imported.is_empty() {
                out.push_str("    use diesel::sql_types::*;\n");
            }
            let _ = writeln!(out, "    use super::sql_types::{custom};");
            imported.push(custom);
        }
    }
    if !imported.is_empty() {
        out.push('\n');
    }
    if table.rust_name != table.name {
        let _ = writeln!(out, "    #[sql_name = {}]", rust_string(table.name));
    }
    let _ = writeln!(
        out,
        "    {} ({}) {{",
        table.rust_name,
        table.primary_key.join(", ")
    );
    for column in &table.columns {
        if column.rust_name != column.sql_name {
            let _ = writeln!(
                out,
                "        #[sql_name = {}]",
                rust_string(&column.sql_name)
            );
        }
        if let Some(max_length) = column.ty.max_length {
            let _ = writeln!(out, "        #[max_length = {max_length}]");
        }
        let ty = column
            .ty
            .render(column.custom.as_deref().unwrap_or(&column.ty.rust_name));
        let _ = writeln!(out, "        {} -> {},", column.rust_name, ty);
    }
    out.push_str("    }\n}\n");
    out
}

/// `allow_tables_to_appear_in_same_query!` as rustfmt lays it out: on one
/// line when it fits in 100 columns (the trailing comma not counted), else
/// a table per line.
fn allow_tables(tables: &[TableData]) -> String {
    const OPEN: &str = "diesel::allow_tables_to_appear_in_same_query!(";
    let names: Vec<&str> = tables.iter().map(|t| t.rust_name.as_str()).collect();
    let one_line = names.join(", ");
    if OPEN.len() + one_line.len() + 2 <= MAX_WIDTH {
        format!("{OPEN}{one_line},);\n")
    } else if names.iter().all(|n| n.chars().count() <= SHORT_ITEM) {
        // rustfmt's mixed layout for a list of short items: as many a line
        // as fit.
        let mut out = format!("{OPEN}\n");
        let mut line = String::new();
        for name in names {
            let item = format!("{name},");
            if !line.is_empty() && 4 + line.len() + 1 + item.len() > MAX_WIDTH {
                let _ = writeln!(out, "    {line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&item);
        }
        let _ = writeln!(out, "    {line}");
        out.push_str(");\n");
        out
    } else {
        let mut out = format!("{OPEN}\n");
        for name in names {
            let _ = writeln!(out, "    {name},");
        }
        out.push_str(");\n");
        out
    }
}

/// rustfmt's `short_array_element_width_threshold`: a list whose items are
/// all this short is laid out mixed, not one item a line.
const SHORT_ITEM: usize = 10;

/// The foreign keys diesel prints as `joinable!`: as its backend loads
/// them (SQLite: a key per column; PostgreSQL: the keys from one table to
/// another merged), sorted, then only those of one column between two
/// different printed tables, to the parent's single-column primary key,
/// and no two between the same pair of tables.
fn joinable(backend: Backend, schema: &Schema, printed: &BTreeSet<&str>) -> Vec<ForeignKey> {
    let mut keys: Vec<ForeignKey> = Vec::new();
    for table in &schema.tables {
        if table.name.starts_with("__") {
            continue;
        }
        let child_rust = rust_name(&table.name, None);
        for fk in &table.foreign_keys {
            let referenced = |i: usize| -> Vec<String> {
                match fk.referenced_columns.get(i) {
                    Some(c) if backend == Backend::Sqlite => vec![c.clone()],
                    _ if backend == Backend::Sqlite => schema
                        .table(&fk.referenced_table)
                        .map(|t| primary_key(backend, t))
                        .unwrap_or_default(),
                    _ => fk.referenced_columns.clone(),
                }
            };
            let new = |columns: Vec<String>, referenced: Vec<String>| ForeignKey {
                child: table.name.clone(),
                parent: fk.referenced_table.clone(),
                columns_rust: columns
                    .iter()
                    .map(|c| rust_name(c, Some(&child_rust)))
                    .collect(),
                columns,
                referenced,
            };
            match backend {
                Backend::Sqlite => {
                    for (i, column) in fk.columns.iter().enumerate() {
                        keys.push(new(vec![column.clone()], referenced(i)));
                    }
                }
                Backend::Postgres => {
                    let same = keys
                        .iter_mut()
                        .find(|k| k.child == table.name && k.parent == fk.referenced_table);
                    match same {
                        Some(key) => {
                            key.columns.extend(fk.columns.iter().cloned());
                            key.columns_rust
                                .extend(fk.columns.iter().map(|c| rust_name(c, Some(&child_rust))));
                            key.referenced.extend(fk.referenced_columns.iter().cloned());
                        }
                        None => keys.push(new(fk.columns.clone(), fk.referenced_columns.clone())),
                    }
                }
                Backend::Mysql => keys.push(new(fk.columns.clone(), fk.referenced_columns.clone())),
            }
        }
    }
    keys.sort();
    let pair = |k: &ForeignKey| {
        if k.child <= k.parent {
            (k.child.clone(), k.parent.clone())
        } else {
            (k.parent.clone(), k.child.clone())
        }
    };
    let pairs: Vec<(String, String)> = keys.iter().map(pair).collect();
    keys.iter()
        .filter(|k| k.child != k.parent)
        .filter(|k| printed.contains(k.parent.as_str()) && printed.contains(k.child.as_str()))
        .filter(|k| k.columns.len() == 1)
        .filter(|k| {
            let parent_key = schema
                .table(&k.parent)
                .map(|t| primary_key(backend, t))
                .unwrap_or_default();
            parent_key.len() == 1 && k.referenced.first() == parent_key.first()
        })
        .filter(|k| pairs.iter().filter(|p| **p == pair(k)).count() == 1)
        .cloned()
        .collect()
}

/// diesel's Rust name of an SQL name: characters other than `[A-Za-z0-9_]`
/// become one `_`, a leading digit gets a `_` before it, and a keyword,
/// `table`, `columns`, `is_nullable`, a name starting with `__` (unless it
/// ends with `_`) or the table's own name gets a `_` after it.
pub fn rust_name(sql_name: &str, table: Option<&str>) -> String {
    let mappable = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut name = String::with_capacity(sql_name.len());
    let mut last_was_underscore = false;
    if sql_name.starts_with(|c: char| c.is_ascii_digit()) {
        name.push('_');
        last_was_underscore = true;
    }
    let mut replaced = false;
    for c in sql_name.chars() {
        if mappable(c) {
            last_was_underscore = false;
            name.push(c);
        } else {
            replaced = true;
            if !last_was_underscore {
                name.push('_');
            }
            last_was_underscore = true;
        }
    }
    if !replaced && !sql_name.starts_with(|c: char| c.is_ascii_digit()) {
        name = sql_name.to_string();
    }
    if is_reserved(&name) || Some(name.as_str()) == table {
        name.push('_');
    }
    name
}

fn is_reserved(name: &str) -> bool {
    name.is_empty()
        || KEYWORDS.contains(&name)
        || ["table", "columns", "is_nullable"].contains(&name)
        || (name.starts_with("__") && !name.ends_with('_'))
}

/// diesel's string literal: raw (with one `#` more than the text holds)
/// when the text has a `"`.
fn rust_string(text: &str) -> String {
    if text.contains('"') {
        let hashes = "#".repeat(text.matches('#').count() + 1);
        format!("r{hashes}\"{text}\"{hashes}")
    } else {
        format!("\"{text}\"")
    }
}

/// Names syn refuses as identifiers.
const KEYWORDS: &[&str] = &[
    "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "Self", "self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// The SQL types diesel provides on every backend.
const COMMON_TYPES: &[&str] = &[
    "Bool",
    "Integer",
    "SmallInt",
    "BigInt",
    "Binary",
    "Text",
    "Double",
    "Float",
    "Numeric",
    "Timestamp",
    "Date",
    "Time",
    "Float4",
    "Smallint",
    "Int2",
    "Int4",
    "Int8",
    "Bigint",
    "Float8",
    "Decimal",
    "VarChar",
    "Varchar",
    "Char",
    "Tinytext",
    "Mediumtext",
    "Longtext",
    "Tinyblob",
    "Blob",
    "Mediumblob",
    "Longblob",
    "Varbinary",
    "Bit",
];

/// SQLite's: the common ones.
const SQLITE_TYPES: &[&str] = COMMON_TYPES;

/// PostgreSQL's, besides the common ones.
const POSTGRES_TYPES: &[&str] = &[
    "Cidr",
    "Citext",
    "Inet",
    "Jsonb",
    "MacAddr",
    "MacAddr8",
    "Money",
    "Oid",
    "Range",
    "Timestamptz",
    "Uuid",
    "Json",
    "PgLsn",
    "Record",
    "Interval",
    "Int4range",
    "Int8range",
    "Daterange",
    "Numrange",
    "Tsrange",
    "Tstzrange",
    "Int4multirange",
    "Int8multirange",
    "Datemultirange",
    "Nummultirange",
    "Tsmultirange",
    "Tstzmultirange",
    "SmallSerial",
    "BigSerial",
    "Serial",
    "Bytea",
    "Bpchar",
    "Macaddr",
    "Macaddr8",
];

/// MySQL's, besides the common ones.
const MYSQL_TYPES: &[&str] = &["TinyInt", "Tinyint", "Datetime", "Json"];

/// PostgreSQL's built-in types (schema `pg_catalog`), by catalog name.
const PG_CATALOG: &[&str] = &[
    "bool",
    "bytea",
    "char",
    "name",
    "int8",
    "int2",
    "int4",
    "text",
    "oid",
    "json",
    "xml",
    "point",
    "lseg",
    "path",
    "box",
    "polygon",
    "line",
    "float4",
    "float8",
    "circle",
    "money",
    "macaddr",
    "macaddr8",
    "inet",
    "cidr",
    "bpchar",
    "varchar",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
    "timetz",
    "bit",
    "varbit",
    "numeric",
    "uuid",
    "jsonb",
    "jsonpath",
    "tsvector",
    "tsquery",
    "pg_lsn",
    "txid_snapshot",
    "pg_snapshot",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "int4multirange",
    "int8multirange",
    "nummultirange",
    "tsmultirange",
    "tstzmultirange",
    "datemultirange",
    "regclass",
    "regtype",
    "regproc",
    "record",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;
    use crate::schema::{Enum, ForeignKey as Fk, Key};

    fn column(name: &str, data_type: &str, nullable: bool) -> Column {
        Column {
            name: name.to_string(),
            data_type: data_type.to_string(),
            nullable,
            ..Column::default()
        }
    }

    fn table(name: &str, pk: &[&str], columns: Vec<Column>, fks: Vec<Fk>) -> Table {
        Table {
            name: name.to_string(),
            columns,
            primary_key: (!pk.is_empty()).then(|| Key {
                name: None,
                columns: pk.iter().map(|c| c.to_string()).collect(),
            }),
            foreign_keys: fks,
            ..Table::default()
        }
    }

    fn fk(columns: &[&str], parent: &str, referenced: &[&str]) -> Fk {
        Fk {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            referenced_table: parent.to_string(),
            referenced_columns: referenced.iter().map(|c| c.to_string()).collect(),
            ..Fk::default()
        }
    }

    #[test]
    fn sqlite_types_nullability_joinable_and_sorting() {
        let schema = Schema {
            dialect: "sqlite".to_string(),
            tables: vec![
                table(
                    "users",
                    &["id"],
                    vec![
                        column("id", "integer", true),
                        column("name", "varchar(200)", false),
                        column("big", "bigint", false),
                        column("flag", "boolean", false),
                        column("at", "datetime", true),
                        column("raw", "", true),
                        column("score", "real", false),
                        column("price", "numeric(10,2)", false),
                        column("type", "text", false),
                        column("first name", "text", false),
                    ],
                    vec![],
                ),
                table(
                    "posts",
                    &["id"],
                    vec![
                        column("id", "integer", false),
                        column("user_id", "integer", false),
                    ],
                    vec![fk(&["user_id"], "users", &["id"])],
                ),
                table("log", &[], vec![column("line", "text", false)], vec![]),
            ],
            ..Schema::default()
        };
        let out = schema_rs(&schema).expect("generates");
        assert!(out.skipped.is_empty());
        assert_eq!(
            out.text,
            r#"// @generated automatically by Diesel CLI.

diesel::table! {
    log (rowid) {
        rowid -> Integer,
        line -> Text,
    }
}

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> Nullable<Integer>,
        name -> Text,
        big -> BigInt,
        flag -> Bool,
        at -> Nullable<Timestamp>,
        raw -> Nullable<Binary>,
        score -> Float,
        price -> Double,
        #[sql_name = "type"]
        type_ -> Text,
        #[sql_name = "first name"]
        first_name -> Text,
    }
}

diesel::joinable!(posts -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(log, posts, users,);
"#
        );
    }

    #[test]
    fn postgres_enums_arrays_lengths_and_tables_without_a_key() {
        let schema = Schema {
            dialect: "postgresql".to_string(),
            tables: vec![
                table(
                    "authors",
                    &["id"],
                    vec![
                        column("id", "integer", false),
                        column("email", "character varying(200)", false),
                        column("code", "character(3)", true),
                        column("mood", "mood", true),
                        column("tags", "text[]", true),
                        column("at", "timestamp with time zone", false),
                        column("doc", "jsonb", false),
                        column("body", "xml", true),
                        column("uid", "uuid", false),
                    ],
                    vec![],
                ),
                table(
                    "books",
                    &["id"],
                    vec![
                        column("id", "bigint", false),
                        column("author_id", "integer", false),
                        column("moods", "mood[]", false),
                    ],
                    vec![fk(&["author_id"], "authors", &["id"])],
                ),
                table("raw", &[], vec![column("line", "text", false)], vec![]),
            ],
            enums: vec![Enum {
                name: "mood".to_string(),
                labels: vec!["happy".to_string()],
            }],
            ..Schema::default()
        };
        let out = schema_rs(&schema).expect("generates");
        assert_eq!(out.skipped, ["raw"]);
        assert_eq!(
            out.text,
            r#"// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "mood"))]
    pub struct Mood;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "xml", schema = "pg_catalog"))]
    pub struct Xml;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Mood;
    use super::sql_types::Xml;

    authors (id) {
        id -> Int4,
        #[max_length = 200]
        email -> Varchar,
        #[max_length = 3]
        code -> Nullable<Bpchar>,
        mood -> Nullable<Mood>,
        tags -> Nullable<Array<Nullable<Text>>>,
        at -> Timestamptz,
        doc -> Jsonb,
        body -> Nullable<Xml>,
        uid -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Mood;

    books (id) {
        id -> Int8,
        author_id -> Int4,
        moods -> Array<Nullable<Mood>>,
    }
}

diesel::joinable!(books -> authors (author_id));

diesel::allow_tables_to_appear_in_same_query!(authors, books,);
"#
        );
    }

    #[test]
    fn mysql_unsigned_enums_and_two_keys_between_the_same_tables() {
        let schema = Schema {
            dialect: "mysql".to_string(),
            tables: vec![
                table(
                    "a",
                    &["id"],
                    vec![
                        column("id", "bigint(20) unsigned", false),
                        column("flag", "tinyint(1)", false),
                        column("n", "int(11)", true),
                        column("name", "varchar(50)", false),
                        column("state", "enum('on','off')", false),
                        column("at", "datetime", false),
                    ],
                    vec![],
                ),
                table(
                    "b",
                    &["id"],
                    vec![
                        column("id", "int(11)", false),
                        column("a1", "bigint(20) unsigned", false),
                        column("a2", "bigint(20) unsigned", false),
                    ],
                    vec![fk(&["a1"], "a", &["id"]), fk(&["a2"], "a", &["id"])],
                ),
            ],
            ..Schema::default()
        };
        let out = schema_rs(&schema).expect("generates");
        assert_eq!(
            out.text,
            r#"// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(mysql_type(name = "Enum"))]
    pub struct AStateEnum;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::AStateEnum;

    a (id) {
        id -> Unsigned<Bigint>,
        flag -> Bool,
        n -> Nullable<Integer>,
        #[max_length = 50]
        name -> Varchar,
        #[max_length = 3]
        state -> AStateEnum,
        at -> Datetime,
    }
}

diesel::table! {
    b (id) {
        id -> Integer,
        a1 -> Unsigned<Bigint>,
        a2 -> Unsigned<Bigint>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(a, b,);
"#
        );
    }

    #[test]
    fn a_long_table_list_goes_one_per_line() {
        let tables: Vec<Table> = (0..6)
            .map(|i| {
                table(
                    &format!("table_with_a_long_name_{i}"),
                    &["id"],
                    vec![column("id", "integer", false)],
                    vec![],
                )
            })
            .collect();
        let schema = Schema {
            dialect: "sqlite".to_string(),
            tables,
            ..Schema::default()
        };
        let text = schema_rs(&schema).expect("generates").text;
        assert!(text.ends_with(
            "diesel::allow_tables_to_appear_in_same_query!(\n    table_with_a_long_name_0,\n    table_with_a_long_name_1,\n    table_with_a_long_name_2,\n    table_with_a_long_name_3,\n    table_with_a_long_name_4,\n    table_with_a_long_name_5,\n);\n"
        ));
        let empty = Schema {
            dialect: "sqlite".to_string(),
            ..Schema::default()
        };
        assert_eq!(
            schema_rs(&empty).expect("generates").text,
            format!("{HEADER}\n")
        );
    }

    #[test]
    fn names_become_rust_names_as_diesel_makes_them() {
        assert_eq!(rust_name("type", None), "type_");
        assert_eq!(rust_name("1st", None), "_1st");
        assert_eq!(rust_name("a-b c", None), "a_b_c");
        assert_eq!(rust_name("users", Some("users")), "users_");
        assert_eq!(rust_name("__x", None), "__x_");
        assert_eq!(rust_string("a\"#b"), "r##\"a\"#b\"##");
        assert_eq!(mysql_length("set('a','bc')"), Some(4));
        let unknown = Schema {
            dialect: "sqlite".to_string(),
            tables: vec![table(
                "t",
                &["id"],
                vec![column("id", "json", false)],
                vec![],
            )],
            ..Schema::default()
        };
        assert!(schema_rs(&unknown).is_err());
    }
}
