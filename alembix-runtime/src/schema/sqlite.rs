//! Reading a SQLite schema: `sqlite_master` and the table-valued pragmas
//! (`pragma_table_info`, `pragma_index_list`, `pragma_index_info`,
//! `pragma_foreign_key_list`). SQLite keeps no catalog of check
//! constraints, index expressions or partial-index conditions: those are
//! read from the `CREATE` text it stores.

use super::{action, collapse, Check, Column, Definition, Excluded, ForeignKey, Index, Key};
use super::{Schema, Table};
use crate::backend::Database;
use crate::dialect::Dialect;
use crate::error::Result;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

#[derive(QueryableByName)]
struct Object {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    is_unique: i64,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct IndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = BigInt)]
    descending: i64,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    referenced: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    referenced_column: Option<String>,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

const DOING: &str = "reading the SQLite schema";

/// Reads the schema of the connection's main database.
pub(super) fn read(db: &mut Database, excluded: &Excluded) -> Result<Schema> {
    let objects: Vec<Object> = db.load_or(
        "SELECT type AS kind, name, tbl_name AS table_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        DOING,
    )?;
    let mut schema = Schema {
        dialect: Dialect::Sqlite.name().to_string(),
        ..Schema::default()
    };
    for object in &objects {
        if excluded.contains(&object.table_name) {
            continue;
        }
        let sql = object.sql.as_deref().unwrap_or_default();
        match object.kind.as_str() {
            "table" => schema.tables.push(table(db, &object.name, sql, &objects)?),
            "view" => schema.views.push(Definition {
                name: object.name.clone(),
                definition: view_query(sql),
            }),
            "trigger" => schema.triggers.push(Definition {
                name: format!("{}.{}", object.table_name, object.name),
                definition: collapse(sql),
            }),
            _ => {}
        }
    }
    Ok(schema)
}

fn table(db: &mut Database, name: &str, sql: &str, objects: &[Object]) -> Result<Table> {
    let columns = columns(db, name)?;
    let mut table = Table {
        name: name.to_string(),
        primary_key: primary_key(&columns),
        columns: columns
            .into_iter()
            .map(|c| Column {
                name: c.name,
                data_type: c.data_type.to_ascii_lowercase(),
                nullable: c.not_null == 0,
                default: c.default_value,
                extra: None,
            })
            .collect(),
        checks: checks(sql),
        ..Table::default()
    };
    let lit = Dialect::Sqlite.literal(name);
    let indexes: Vec<IndexRow> = db.load_or(
        &format!("SELECT name, CAST(\"unique\" AS INTEGER) AS is_unique, origin FROM pragma_index_list({lit})"),
        DOING,
    )?;
    for index in indexes {
        let info: Vec<IndexColumn> = db.load_or(
            &format!(
                "SELECT name, CAST(\"desc\" AS INTEGER) AS descending FROM pragma_index_xinfo({}) WHERE key = 1 ORDER BY seqno",
                Dialect::Sqlite.literal(&index.name)
            ),
            DOING,
        )?;
        let index_sql = objects
            .iter()
            .find(|o| o.kind == "index" && o.name == index.name)
            .and_then(|o| o.sql.as_deref());
        let (parsed, predicate) = index_sql.map(index_parts).unwrap_or_default();
        let columns: Vec<String> = info
            .into_iter()
            .enumerate()
            .map(|(i, c)| match c.name {
                Some(name) if c.descending != 0 => format!("{name} desc"),
                Some(name) => name,
                // An expression, as written (with its own `DESC`).
                None => parsed.get(i).cloned().unwrap_or_default(),
            })
            .collect();
        match index.origin.as_str() {
            "pk" => {}
            "u" => table.unique.push(Key {
                name: None,
                columns,
            }),
            _ => table.indexes.push(Index {
                name: index.name,
                columns,
                unique: index.is_unique != 0,
                method: None,
                predicate,
            }),
        }
    }
    table.foreign_keys = foreign_keys(db, name)?;
    Ok(table)
}

fn columns(db: &mut Database, table: &str) -> Result<Vec<ColumnRow>> {
    db.load_or(
        &format!(
            "SELECT name, type AS data_type, CAST(\"notnull\" AS INTEGER) AS not_null, dflt_value AS default_value, CAST(pk AS INTEGER) AS pk FROM pragma_table_info({}) ORDER BY cid",
            Dialect::Sqlite.literal(table)
        ),
        DOING,
    )
}

fn primary_key(columns: &[ColumnRow]) -> Option<Key> {
    let mut pk: Vec<&ColumnRow> = columns.iter().filter(|c| c.pk > 0).collect();
    pk.sort_by_key(|c| c.pk);
    (!pk.is_empty()).then(|| Key {
        name: None,
        columns: pk.iter().map(|c| c.name.clone()).collect(),
    })
}

fn foreign_keys(db: &mut Database, table: &str) -> Result<Vec<ForeignKey>> {
    let rows: Vec<ForeignKeyRow> = db.load_or(
        &format!(
            "SELECT CAST(id AS INTEGER) AS id, \"table\" AS referenced, \"from\" AS column_name, \"to\" AS referenced_column, on_update, on_delete FROM pragma_foreign_key_list({}) ORDER BY id, seq",
            Dialect::Sqlite.literal(table)
        ),
        DOING,
    )?;
    let mut keys: Vec<(i64, ForeignKey)> = Vec::new();
    for row in rows {
        if keys.last().map(|(id, _)| *id) != Some(row.id) {
            keys.push((
                row.id,
                ForeignKey {
                    name: None,
                    referenced_table: row.referenced.clone(),
                    on_delete: action(&row.on_delete),
                    on_update: action(&row.on_update),
                    ..ForeignKey::default()
                },
            ));
        }
        if let Some((_, key)) = keys.last_mut() {
            key.columns.push(row.column_name);
            if let Some(column) = row.referenced_column {
                key.referenced_columns.push(column);
            }
        }
    }
    let mut out = Vec::new();
    for (_, mut key) in keys {
        // `REFERENCES t` without columns means t's primary key.
        if key.referenced_columns.is_empty() {
            key.referenced_columns = primary_key(&columns(db, &key.referenced_table)?)
                .map(|k| k.columns)
                .unwrap_or_default();
        }
        out.push(key);
    }
    Ok(out)
}

/// A token of SQL text, enough to find constraints and clauses.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Literal,
    Punct(char),
}

/// The tokens of `sql`, each with its byte range.
fn tokens(sql: &str) -> Vec<(Token, usize, usize)> {
    let bytes: Vec<(usize, char)> = sql.char_indices().collect();
    let end_of = |k: usize| bytes.get(k).map_or(sql.len(), |(i, _)| *i);
    let mut out = Vec::new();
    let mut k = 0;
    while let Some(&(start, c)) = bytes.get(k) {
        if c.is_whitespace() {
            k += 1;
        } else if c == '-' && bytes.get(k + 1).map(|b| b.1) == Some('-') {
            while bytes.get(k).is_some_and(|b| b.1 != '\n') {
                k += 1;
            }
        } else if let Some(close) = match c {
            '\'' => Some('\''),
            '"' => Some('"'),
            '`' => Some('`'),
            '[' => Some(']'),
            _ => None,
        } {
            k += 1;
            let inner = k;
            loop {
                match bytes.get(k) {
                    None => break,
                    Some(&(_, d)) if d == close => {
                        if close != ']' && bytes.get(k + 1).map(|b| b.1) == Some(close) {
                            k += 2;
                            continue;
                        }
                        break;
                    }
                    _ => k += 1,
                }
            }
            let text = sql[end_of(inner)..end_of(k)].to_string();
            k += 1;
            let token = if c == '\'' {
                Token::Literal
            } else {
                Token::Quoted(text)
            };
            out.push((token, start, end_of(k)));
        } else if c.is_alphanumeric() || c == '_' {
            while bytes
                .get(k)
                .is_some_and(|b| b.1.is_alphanumeric() || b.1 == '_' || b.1 == '$')
            {
                k += 1;
            }
            out.push((
                Token::Word(sql[start..end_of(k)].to_string()),
                start,
                end_of(k),
            ));
        } else {
            k += 1;
            out.push((Token::Punct(c), start, end_of(k)));
        }
    }
    out
}

/// The index of the `)` matching the `(` at `open`.
fn matching(tokens: &[(Token, usize, usize)], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, (token, _, _)) in tokens.iter().enumerate().skip(open) {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.eq_ignore_ascii_case(word))
}

/// The check constraints of a `CREATE TABLE` text, named where it names them.
fn checks(sql: &str) -> Vec<Check> {
    let tokens = tokens(sql);
    let mut out = Vec::new();
    for k in 0..tokens.len() {
        if !is_word(&tokens[k].0, "check")
            || tokens.get(k + 1).map(|t| &t.0) != Some(&Token::Punct('('))
        {
            continue;
        }
        let Some(close) = matching(&tokens, k + 1) else {
            continue;
        };
        let name = match (
            k.checked_sub(2).map(|i| &tokens[i].0),
            k.checked_sub(1).map(|i| &tokens[i].0),
        ) {
            (Some(c), Some(Token::Word(n) | Token::Quoted(n))) if is_word(c, "constraint") => {
                Some(n.clone())
            }
            _ => None,
        };
        out.push(Check {
            name,
            expression: collapse(&sql[tokens[k + 1].2..tokens[close].1]),
        });
    }
    out
}

/// The query of a `CREATE VIEW` text (what follows its first `AS`), as
/// PostgreSQL and MySQL report a view's definition.
fn view_query(sql: &str) -> String {
    let tokens = tokens(sql);
    match tokens.iter().find(|t| is_word(&t.0, "as")) {
        Some(t) => collapse(&sql[t.2..]),
        None => collapse(sql),
    }
}

/// The key columns or expressions of a `CREATE INDEX` text, and its
/// `WHERE` condition.
fn index_parts(sql: &str) -> (Vec<String>, Option<String>) {
    let tokens = tokens(sql);
    let Some(open) = tokens.iter().position(|t| t.0 == Token::Punct('(')) else {
        return (Vec::new(), None);
    };
    let Some(close) = matching(&tokens, open) else {
        return (Vec::new(), None);
    };
    let mut columns = Vec::new();
    let mut start = tokens[open].2;
    let mut depth = 0usize;
    for (token, from, to) in &tokens[open + 1..close] {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth = depth.saturating_sub(1),
            Token::Punct(',') if depth == 0 => {
                columns.push(collapse(&sql[start..*from]));
                start = *to;
            }
            _ => {}
        }
    }
    columns.push(collapse(&sql[start..tokens[close].1]));
    let predicate = tokens
        .get(close + 1)
        .filter(|t| is_word(&t.0, "where"))
        .map(|t| collapse(&sql[t.2..]));
    (columns, predicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_found_with_their_names() {
        let sql = "CREATE TABLE t (a INT CHECK (a > 0), b TEXT DEFAULT 'check (x)', CONSTRAINT \"b_len\" CHECK (length(b) < 10), c INT CONSTRAINT c_pos CHECK(c >= (0)))";
        let found: Vec<(Option<String>, String)> = checks(sql)
            .into_iter()
            .map(|c| (c.name, c.expression))
            .collect();
        assert_eq!(
            found,
            [
                (None, "a > 0".to_string()),
                (Some("b_len".to_string()), "length(b) < 10".to_string()),
                (Some("c_pos".to_string()), "c >= (0)".to_string()),
            ]
        );
    }

    #[test]
    fn a_view_is_its_query() {
        assert_eq!(
            view_query("CREATE VIEW \"v as\" (a) AS\n  SELECT 1 AS a"),
            "SELECT 1 AS a"
        );
    }

    #[test]
    fn index_expressions_and_conditions_are_read_from_the_text() {
        assert_eq!(
            index_parts("CREATE INDEX ix ON t (lower(a), b DESC) WHERE b IS NOT NULL"),
            (
                vec!["lower(a)".to_string(), "b DESC".to_string()],
                Some("b IS NOT NULL".to_string())
            )
        );
        assert_eq!(
            index_parts("CREATE UNIQUE INDEX ix ON t(a)"),
            (vec!["a".to_string()], None)
        );
    }
}
