//! Reading a PostgreSQL schema from the catalogs (`pg_class`,
//! `pg_attribute`, `pg_constraint`, `pg_index`, `pg_type`, `pg_sequence`,
//! `pg_proc`, `pg_trigger`), the definitions as the server's own
//! `pg_get_*def` functions print them. One query per kind of object.

use super::{collapse, split_list, Check, Column, Definition, Enum, Excluded};
use super::{ForeignKey, Index, Key, Schema};
use crate::backend::{Database, Name};
use crate::dialect::Dialect;
use crate::error::Result;
use crate::ident::Identifier;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::QueryableByName;

const DOING: &str = "reading the PostgreSQL schema";

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    extra: Option<String>,
}

#[derive(QueryableByName)]
struct ConstraintRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    columns: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_table: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_columns: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Nullable<Text>)]
    columns: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    predicate: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    method: Option<String>,
}

#[derive(QueryableByName)]
struct DefinitionRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    table_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    definition: Option<String>,
}

/// Reads `schema` (the session's `current_schema()` for `None`).
pub(super) fn read(
    db: &mut Database,
    schema: Option<&Identifier>,
    excluded: &Excluded,
) -> Result<Schema> {
    let name = match schema {
        Some(schema) => schema.as_str().to_string(),
        None => {
            let rows: Vec<Name> =
                db.load_or("SELECT COALESCE(current_schema()::text, '') AS name", DOING)?;
            rows.into_iter().next().map(|r| r.name).unwrap_or_default()
        }
    };
    let nsp = Dialect::Postgres.literal(&name);
    let unqualify = |text: &str| unqualified(&collapse(text), &name);

    let names: Vec<Name> = db.load_or(
        &format!("SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {nsp} AND c.relkind IN ('r', 'p') AND NOT c.relispartition"),
        DOING,
    )?;
    let mut tables = excluded.tables(names);

    let columns: Vec<ColumnRow> = db.load_or(
        &format!("SELECT c.relname::text AS table_name, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null, CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_value, CASE WHEN a.attidentity = 'a' THEN 'identity always' WHEN a.attidentity = 'd' THEN 'identity by default' WHEN a.attgenerated = 's' THEN 'generated always as (' || pg_get_expr(d.adbin, d.adrelid) || ') stored' END AS extra FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE n.nspname = {nsp} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"),
        DOING,
    )?;
    for c in columns {
        if let Some(table) = tables.get_mut(&c.table_name) {
            table.columns.push(Column {
                name: c.name,
                // A type of this schema is qualified unless it is on the search path.
                data_type: unqualify(&c.data_type).to_ascii_lowercase(),
                nullable: !c.not_null,
                default: c.default_value.map(|d| unqualify(&d)),
                extra: c.extra,
            });
        }
    }

    let list = |array: &str, relid: &str| {
        format!("array_to_string(ARRAY(SELECT a.attname::text FROM unnest({array}) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = {relid} AND a.attnum = k.num ORDER BY k.ord), chr(31))")
    };
    let constraints: Vec<ConstraintRow> = db.load_or(
        &format!("SELECT cl.relname::text AS table_name, co.conname::text AS name, co.contype::text AS kind, {} AS columns, rc.relname::text AS referenced_table, {} AS referenced_columns, co.confdeltype::text AS on_delete, co.confupdtype::text AS on_update, pg_get_constraintdef(co.oid, true) AS definition FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace LEFT JOIN pg_class rc ON rc.oid = co.confrelid WHERE n.nspname = {nsp} AND co.contype IN ('p', 'u', 'f', 'c')",
            list("co.conkey", "co.conrelid"),
            list("co.confkey", "co.confrelid")),
        DOING,
    )?;
    for c in constraints {
        let Some(table) = tables.get_mut(&c.table_name) else {
            continue;
        };
        let key = Key {
            name: Some(c.name.clone()),
            columns: split_list(c.columns.as_deref()),
        };
        match c.kind.as_str() {
            "p" => table.primary_key = Some(key),
            "u" => table.unique.push(key),
            "f" => table.foreign_keys.push(ForeignKey {
                name: key.name,
                columns: key.columns,
                referenced_table: c.referenced_table.unwrap_or_default(),
                referenced_columns: split_list(c.referenced_columns.as_deref()),
                on_delete: referential(&c.on_delete),
                on_update: referential(&c.on_update),
            }),
            _ => table.checks.push(Check {
                name: key.name,
                expression: unqualify(&check_expression(&c.definition)),
            }),
        }
    }

    let indexes: Vec<IndexRow> = db.load_or(
        &format!("SELECT t.relname::text AS table_name, i.relname::text AS name, x.indisunique AS is_unique, array_to_string(ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) || CASE WHEN (x.indoption[k - 1] & 1) = 1 THEN ' desc' ELSE '' END FROM generate_series(1, x.indnkeyatts) k ORDER BY k), chr(31)) AS columns, pg_get_expr(x.indpred, x.indrelid, true) AS predicate, NULLIF(am.amname::text, 'btree') AS method FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = {nsp} AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = x.indexrelid AND co.conrelid = x.indrelid AND co.contype IN ('p', 'u', 'x'))"),
        DOING,
    )?;
    for i in indexes {
        if let Some(table) = tables.get_mut(&i.table_name) {
            table.indexes.push(Index {
                name: i.name,
                columns: split_list(i.columns.as_deref())
                    .iter()
                    .map(|c| unqualify(c))
                    .collect(),
                unique: i.is_unique,
                method: i.method,
                predicate: i.predicate.map(|p| unqualify(&p)),
            });
        }
    }

    let mut schema = Schema {
        dialect: Dialect::Postgres.name().to_string(),
        tables: tables.into_values().collect(),
        ..Schema::default()
    };
    let definitions = |db: &mut Database, sql: String| -> Result<Vec<Definition>> {
        let rows: Vec<DefinitionRow> = db.load_or(&sql, DOING)?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                !r.table_name
                    .as_deref()
                    .is_some_and(|t| excluded.contains(t))
            })
            .map(|r| Definition {
                name: r.name,
                definition: unqualify(r.definition.as_deref().unwrap_or_default()),
            })
            .collect())
    };
    schema.views = definitions(
        db,
        format!("SELECT c.relname::text AS name, NULL::text AS table_name, CASE WHEN c.relkind = 'm' THEN 'materialized ' ELSE '' END || rtrim(pg_get_viewdef(c.oid, true), '; ' || chr(10)) AS definition FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {nsp} AND c.relkind IN ('v', 'm')"),
    )?;
    schema.sequences = definitions(
        db,
        format!("SELECT c.relname::text AS name, o.relname::text AS table_name, format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END || COALESCE(' owned by ' || o.relname::text, '') AS definition FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid LEFT JOIN LATERAL (SELECT t.relname FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) o ON true WHERE n.nspname = {nsp} AND c.relkind = 'S'"),
    )?;
    schema.functions = definitions(
        db,
        format!("SELECT p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name, NULL::text AS table_name, pg_get_functiondef(p.oid) AS definition FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = {nsp} AND p.prokind IN ('f', 'p') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')"),
    )?;
    schema.triggers = definitions(
        db,
        format!("SELECT c.relname::text || '.' || t.tgname::text AS name, c.relname::text AS table_name, pg_get_triggerdef(t.oid, true) AS definition FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {nsp} AND NOT t.tgisinternal"),
    )?;
    let enums: Vec<DefinitionRow> = db.load_or(
        &format!("SELECT t.typname::text AS name, NULL::text AS table_name, array_to_string(ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), chr(31)) AS definition FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = {nsp} AND t.typtype = 'e'"),
        DOING,
    )?;
    schema.enums = enums
        .into_iter()
        .map(|e| Enum {
            name: e.name,
            labels: split_list(e.definition.as_deref()),
        })
        .collect();
    Ok(schema)
}

/// A `confdeltype` / `confupdtype` code as words.
fn referential(code: &str) -> String {
    match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        _ => "no action",
    }
    .to_string()
}

/// The condition of `CHECK (…)` as `pg_get_constraintdef` prints it.
fn check_expression(definition: &str) -> String {
    let text = definition.trim();
    let text = text.strip_prefix("CHECK ").unwrap_or(text);
    let text = match text.strip_suffix(" NOT VALID") {
        Some(rest) => rest,
        None => text,
    };
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text);
    collapse(inner)
}

/// `text` without `schema.` / `"schema".` qualifiers, so that a schema read
/// from a scratch database (`public`) and from a tenant's schema compare.
fn unqualified(text: &str, schema: &str) -> String {
    super::unqualified(text, &[format!("\"{schema}\"."), format!("{schema}.")])
}
