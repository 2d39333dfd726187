//! The text form of a [`Schema`] (one line per item, each object's items
//! indented under its header line, objects sorted) and [`diff`], which
//! compares two schemas object by object.

use super::{Check, Column, Definition, ForeignKey, Index, Key, Schema, Table};
use std::fmt::Write as _;

impl Schema {
    /// The normalised text form: a header line per object (`table users`,
    /// `view active_users`, …) and an indented line per item of a table.
    /// Equal schemas give equal texts; two texts compare well with `diff -u`.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for block in self.blocks() {
            for line in block {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// One block of lines per object: its header line first.
    fn blocks(&self) -> Vec<Vec<String>> {
        let mut blocks: Vec<Vec<String>> = self.tables.iter().map(Table::lines).collect();
        let named = |kind: &str, items: &[Definition]| -> Vec<Vec<String>> {
            items
                .iter()
                .map(|d| vec![format!("{kind} {}", d.name), format!("  {}", d.definition)])
                .collect()
        };
        blocks.extend(named("view", &self.views));
        blocks.extend(self.enums.iter().map(|e| {
            let labels: Vec<String> = e.labels.iter().map(|l| quote(l)).collect();
            vec![
                format!("enum {}", e.name),
                format!("  labels ({})", labels.join(", ")),
            ]
        }));
        blocks.extend(named("sequence", &self.sequences));
        blocks.extend(named("function", &self.functions));
        blocks.extend(named("trigger", &self.triggers));
        blocks
    }
}

impl Table {
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("table {}", self.name)];
        lines.extend(self.columns.iter().map(Column::line));
        if let Some(pk) = &self.primary_key {
            lines.push(format!("  primary key{}", key(pk)));
        }
        lines.extend(self.unique.iter().map(|u| format!("  unique{}", key(u))));
        lines.extend(self.indexes.iter().map(Index::line));
        lines.extend(self.foreign_keys.iter().map(ForeignKey::line));
        lines.extend(self.checks.iter().map(Check::line));
        lines
    }
}

impl Column {
    fn line(&self) -> String {
        let mut line = format!("  column {} {}", self.name, self.data_type);
        if !self.nullable {
            line.push_str(" not null");
        }
        if let Some(default) = &self.default {
            let _ = write!(line, " default {default}");
        }
        if let Some(extra) = &self.extra {
            let _ = write!(line, " {extra}");
        }
        line
    }
}

impl Index {
    fn line(&self) -> String {
        let mut line = format!(
            "  {}index {} ({})",
            if self.unique { "unique " } else { "" },
            self.name,
            self.columns.join(", ")
        );
        if let Some(method) = &self.method {
            let _ = write!(line, " using {method}");
        }
        if let Some(predicate) = &self.predicate {
            let _ = write!(line, " where {predicate}");
        }
        line
    }
}

impl ForeignKey {
    fn line(&self) -> String {
        format!(
            "  foreign key{} ({}) references {} ({}) on delete {} on update {}",
            name(&self.name),
            self.columns.join(", "),
            self.referenced_table,
            self.referenced_columns.join(", "),
            self.on_delete,
            self.on_update
        )
    }
}

impl Check {
    fn line(&self) -> String {
        format!("  check{} ({})", name(&self.name), self.expression)
    }
}

fn key(key: &Key) -> String {
    format!("{} ({})", name(&key.name), key.columns.join(", "))
}

fn name(name: &Option<String>) -> String {
    name.as_ref().map(|n| format!(" {n}")).unwrap_or_default()
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// One line of a [`diff`]: in both, only in the first schema, or only in the second.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(serde::Serialize))]
#[cfg_attr(
    feature = "cli",
    serde(tag = "kind", content = "line", rename_all = "lowercase")
)]
pub enum Difference {
    /// A header line shown for context: the object exists in both.
    Context(String),
    /// Only in the first (`from`) schema.
    Removed(String),
    /// Only in the second (`to`) schema.
    Added(String),
}

impl Difference {
    /// The line as a unified diff prints it: ` `, `-` or `+`, then the line.
    pub fn line(&self) -> String {
        match self {
            Difference::Context(l) => format!(" {l}"),
            Difference::Removed(l) => format!("-{l}"),
            Difference::Added(l) => format!("+{l}"),
        }
    }
}

/// What differs between two schemas, object by object in header order:
/// an object only in one is all `-` or all `+`; an object in both whose
/// lines differ shows its header as context and its differing lines. Empty
/// when the schemas are equal.
pub fn diff(from: &Schema, to: &Schema) -> Vec<Difference> {
    let mut from_blocks = from.blocks();
    let mut to_blocks = to.blocks();
    let header = |b: &Vec<String>| b.first().cloned().unwrap_or_default();
    from_blocks.sort_by_key(header);
    to_blocks.sort_by_key(header);
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < from_blocks.len() || j < to_blocks.len() {
        let order = match (from_blocks.get(i), to_blocks.get(j)) {
            (Some(a), Some(b)) => header(a).cmp(&header(b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                out.extend(from_blocks[i].iter().cloned().map(Difference::Removed));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.extend(to_blocks[j].iter().cloned().map(Difference::Added));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (a, b) = (&from_blocks[i], &to_blocks[j]);
                if a != b {
                    out.push(Difference::Context(header(a)));
                    out.extend(lines_diff(&a[1..], &b[1..]));
                }
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The lines of one object that differ, in order (a longest common
/// subsequence; an object has few lines).
fn lines_diff(a: &[String], b: &[String]) -> Vec<Difference> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(Difference::Removed(a[i].clone()));
            i += 1;
        } else {
            out.push(Difference::Added(b[j].clone()));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Enum;

    fn schema() -> Schema {
        Schema {
            dialect: "postgresql".to_string(),
            tables: vec![Table {
                name: "users".to_string(),
                columns: vec![
                    Column {
                        name: "id".to_string(),
                        data_type: "integer".to_string(),
                        nullable: false,
                        default: None,
                        extra: Some("identity always".to_string()),
                    },
                    Column {
                        name: "email".to_string(),
                        data_type: "varchar(200)".to_string(),
                        nullable: true,
                        default: Some("'x'".to_string()),
                        extra: None,
                    },
                ],
                primary_key: Some(Key {
                    name: Some("users_pkey".to_string()),
                    columns: vec!["id".to_string()],
                }),
                unique: vec![Key {
                    name: None,
                    columns: vec!["email".to_string()],
                }],
                indexes: vec![Index {
                    name: "ix_email".to_string(),
                    columns: vec!["lower(email)".to_string()],
                    unique: false,
                    method: Some("gin".to_string()),
                    predicate: Some("(email IS NOT NULL)".to_string()),
                }],
                foreign_keys: vec![ForeignKey {
                    name: Some("fk".to_string()),
                    columns: vec!["id".to_string()],
                    referenced_table: "people".to_string(),
                    referenced_columns: vec!["id".to_string()],
                    on_delete: "cascade".to_string(),
                    on_update: "no action".to_string(),
                }],
                checks: vec![Check {
                    name: None,
                    expression: "id > 0".to_string(),
                }],
            }],
            views: vec![Definition {
                name: "v".to_string(),
                definition: "SELECT 1".to_string(),
            }],
            enums: vec![Enum {
                name: "mood".to_string(),
                labels: vec!["ok".to_string(), "it's".to_string()],
            }],
            ..Schema::default()
        }
    }

    #[test]
    fn the_text_has_one_line_per_item_under_its_object() {
        assert_eq!(
            schema().text(),
            "table users
  column id integer not null identity always
  column email varchar(200) default 'x'
  primary key users_pkey (id)
  unique (email)
  index ix_email (lower(email)) using gin where (email IS NOT NULL)
  foreign key fk (id) references people (id) on delete cascade on update no action
  check (id > 0)
view v
  SELECT 1
enum mood
  labels ('ok', 'it''s')
"
        );
        assert_eq!(Schema::default().text(), "");
    }

    #[test]
    fn equal_schemas_have_no_difference() {
        assert!(diff(&schema(), &schema()).is_empty());
    }

    #[test]
    fn a_difference_shows_the_object_and_its_changed_lines() {
        let mut to = schema();
        to.tables[0].indexes.push(Index {
            name: "ix_new".to_string(),
            columns: vec!["id".to_string()],
            unique: true,
            method: None,
            predicate: None,
        });
        to.views.clear();
        to.tables[0].columns[1].nullable = false;
        let lines: Vec<String> = diff(&schema(), &to).iter().map(Difference::line).collect();
        assert_eq!(
            lines,
            [
                " table users",
                "-  column email varchar(200) default 'x'",
                "+  column email varchar(200) not null default 'x'",
                "+  unique index ix_new (id)",
                "-view v",
                "-  SELECT 1",
            ]
        );
    }
}
