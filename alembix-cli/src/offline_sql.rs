//! The SQL of one revision step as Alembic's offline mode rendered it, made into
//! the body of a migration file: Alembic's bookkeeping (`alembic_version`
//! statements) and its `BEGIN;`/`COMMIT;` removed (a `COMMIT;` inside a step is an
//! `autocommit_block`), SQLAlchemy's `%` → `%%` escaping undone where its dialect
//! applied it, a statement that still holds a bind parameter refused, and values
//! that differ between two renderings of the same step (computed by Python while
//! rendering: a uuid, the current time) found and noted.

use crate::alembic_driver::Context;
use crate::import_output;
use alembix_core::sql::{split_statements, SqlDialect};

/// What the driver renders in place of a bind parameter without a value.
const UNFILLED_BIND: &str = "/* xtask-import-alembic: unfilled ";

/// The SQL family of the offline output, for reading its quotes and comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Postgres,
    Mysql,
    Sqlite,
    Other,
}

impl Family {
    /// From SQLAlchemy's dialect name (`postgresql`) or Alembic's impl (`PostgresqlImpl`).
    pub(crate) fn of(name: &str) -> Family {
        let name = name.to_ascii_lowercase();
        if name.starts_with("postgresql") {
            Family::Postgres
        } else if name.starts_with("mysql") || name.starts_with("mariadb") {
            Family::Mysql
        } else if name.starts_with("sqlite") {
            Family::Sqlite
        } else {
            Family::Other
        }
    }

    /// How alembix-core reads statements of this family.
    pub(crate) fn sql_dialect(self) -> SqlDialect {
        match self {
            Family::Postgres => SqlDialect::Postgres,
            Family::Mysql => SqlDialect::Mysql,
            Family::Sqlite | Family::Other => SqlDialect::Sqlite,
        }
    }
}

/// How SQLAlchemy rendered the SQL, as the migration contexts reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendering {
    pub family: Family,
    /// The DBAPI paramstyle: `qmark`, `named`, `format`, `pyformat`, `numeric`…
    pub paramstyle: String,
    /// Whether every `%` of the SQL was written as `%%` (format/pyformat drivers).
    pub double_percents: bool,
}

impl Rendering {
    /// The one rendering every context reported; `None` when none reported it
    /// completely or contexts disagreed.
    pub(crate) fn from_contexts(contexts: &[Context]) -> Option<Rendering> {
        let mut found: Option<Rendering> = None;
        for c in contexts {
            let this = Rendering {
                family: Family::of(&c.dialect),
                paramstyle: c.paramstyle.clone()?,
                double_percents: c.double_percents?,
            };
            match &found {
                Some(f) if *f != this => return None,
                _ => found = Some(this),
            }
        }
        found
    }
}

/// A bind parameter that offline mode did not fill in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unrendered {
    /// The parameter's marker as written (`%(extra)s`, `%s`, `:x`, `?`…).
    Marker(String),
    /// A parameter without a value, which `literal_binds` renders as `NULL` (the
    /// report of the driver); its name.
    Null(String),
}

impl Unrendered {
    /// Why the statement cannot be imported as it is.
    fn explain(&self) -> String {
        match self {
            Unrendered::Marker(m) => format!("still holds the bind parameter `{m}`: offline mode had no value to write there, so the SQL would fail at upgrade; write the value in its place"),
            Unrendered::Null(name) => format!("has `NULL` where the bind parameter `{name}` stands: it has no value (Alembic online would refuse to run it), and offline mode wrote NULL in its place; write the value the revision means"),
        }
    }
}

/// Checks one statement of offline output for a bind parameter that Alembic left
/// unrendered.
///
/// Markers are looked for outside string literals, quoted identifiers and comments,
/// in the form the paramstyle renders them (`%(name)s`, `%s`, `:name`, `:1`, `$1`,
/// `?`); with no known paramstyle, in every form.
fn find_bind_marker(
    sql: &str,
    family: Family,
    rendering: Option<&Rendering>,
) -> Option<Unrendered> {
    if let Some(at) = sql.find(UNFILLED_BIND) {
        let name = sql[at + UNFILLED_BIND.len()..]
            .split_whitespace()
            .next()
            .unwrap_or("");
        return Some(Unrendered::Null(name.to_string()));
    }
    find_marker(sql, family, rendering).map(Unrendered::Marker)
}

/// The first bind parameter marker of `sql`, as [`find_bind_marker`] looks for it.
fn find_marker(sql: &str, family: Family, rendering: Option<&Rendering>) -> Option<String> {
    let style = rendering.map(|r| r.paramstyle.as_str());
    let wants = |s: &str| style.is_none_or(|p| p == s);
    let bytes = sql.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        match c {
            b'-' if next == Some(b'-')
                && (family != Family::Mysql
                    || bytes.get(i + 2).is_none_or(|b| b.is_ascii_whitespace())) =>
            {
                i = sql[i..].find('\n').map_or(bytes.len(), |k| i + k);
            }
            b'#' if family == Family::Mysql => {
                i = sql[i..].find('\n').map_or(bytes.len(), |k| i + k);
            }
            b'/' if next == Some(b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |k| i + 2 + k + 2);
            }
            b'\'' | b'"' | b'`' => {
                let backslash = match family {
                    Family::Mysql => c != b'`',
                    // E'…' strings; standard strings take backslashes as they are.
                    Family::Postgres => {
                        c == b'\''
                            && i > 0
                            && bytes[i - 1].eq_ignore_ascii_case(&b'e')
                            && (i < 2 || !word(bytes[i - 2]))
                    }
                    _ => false,
                };
                i = quoted_end(bytes, i, c, backslash);
            }
            b'[' if matches!(family, Family::Sqlite | Family::Other) => {
                i = sql[i..].find(']').map_or(bytes.len(), |k| i + k + 1);
            }
            b'$' if family == Family::Postgres
                && next.is_some_and(|b| b.is_ascii_digit())
                && (i == 0 || !word(bytes[i - 1])) =>
            {
                if wants("numeric_dollar") {
                    return Some(marker_text(sql, i, |b| b.is_ascii_digit()));
                }
                i += 1;
            }
            b'$' if family == Family::Postgres && (i == 0 || !word(bytes[i - 1])) => {
                // A dollar-quoted body: `$$ … $$` or `$tag$ … $tag$`.
                let tag_len = bytes[i + 1..]
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                    .filter(|&k| bytes.get(i + 1 + k) == Some(&b'$'))
                    .map(|k| k + 2);
                match tag_len {
                    Some(len) => {
                        let tag = &sql[i..i + len];
                        i = sql[i + len..]
                            .find(tag)
                            .map_or(bytes.len(), |k| i + len + k + len);
                    }
                    None => i += 1,
                }
            }
            b'%' => {
                let run = bytes[i..].iter().take_while(|&&b| b == b'%').count();
                let last = i + run - 1;
                // With doubling, a marker is the odd `%` at the end of a run.
                let single = rendering.is_none_or(|r| !r.double_percents) || run % 2 == 1;
                if single {
                    let after = &sql[last + 1..];
                    if after.starts_with('s') && (wants("format") || wants("pyformat")) {
                        return Some("%s".to_string());
                    }
                    if let Some(name) = after
                        .strip_prefix('(')
                        .and_then(|a| a.split_once(")s"))
                        .map(|(name, _)| name)
                        .filter(|n| !n.contains(['(', ')', '\n']))
                    {
                        if wants("pyformat") || wants("format") {
                            return Some(format!("%({name})s"));
                        }
                    }
                }
                i += run;
            }
            // No PostgreSQL driver uses `?`, which is a JSON operator there.
            b'?' if wants("qmark") && (style.is_some() || family != Family::Postgres) => {
                return Some("?".to_string())
            }
            b':' if i == 0
                || !(word(bytes[i - 1]) || bytes[i - 1] == b':' || bytes[i - 1] == b'\\') =>
            {
                match next {
                    Some(b) if b.is_ascii_digit() && wants("numeric") => {
                        return Some(marker_text(sql, i, |b| b.is_ascii_digit()));
                    }
                    Some(b)
                        if (b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
                            && wants("named") =>
                    {
                        return Some(marker_text(sql, i, word));
                    }
                    _ => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The index just past a quoted run that starts at `start` with `quote`; a doubled
/// quote, and with `backslash` a backslash, escapes.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash => i += 2,
            b if b == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The marker at `at`: its first byte, then the bytes that `part` accepts.
fn marker_text(sql: &str, at: usize, part: impl Fn(u8) -> bool) -> String {
    let len = sql.as_bytes()[at + 1..]
        .iter()
        .take_while(|&&b| part(b))
        .count();
    String::from_utf8_lossy(&sql.as_bytes()[at..at + 1 + len]).into_owned()
}

/// Undoes SQLAlchemy's `%` → `%%` escaping where this run's dialect applied it
/// (everywhere: literals, identifiers, `op.execute` text, operators), so the text
/// means what it meant to the driver. `Err` when that cannot be known.
fn undo_percent_escaping(text: &str, rendering: Option<&Rendering>) -> Result<String, String> {
    if !text.contains('%') {
        return Ok(text.to_string());
    }
    let Some(rendering) = rendering else {
        return Err("it holds `%`, and whether SQLAlchemy wrote each `%` as `%%` depends on the paramstyle Alembic rendered with, which the importer could not learn from this run (name the Python that runs Alembic with --python)".to_string());
    };
    if !rendering.double_percents {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let run = rest[at..].bytes().take_while(|&b| b == b'%').count();
        if run % 2 == 1 {
            return Err(format!(
                "it holds a single `%`, which SQLAlchemy would have written as `%%` for the {} paramstyle: text that did not come from SQLAlchemy (e.g. `context.static_output`), so what it means is unclear",
                rendering.paramstyle
            ));
        }
        out.extend(std::iter::repeat_n('%', run / 2));
        rest = &rest[at + run..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `sql` without the comments the driver puts before a valueless parameter's `NULL`.
fn without_unfilled_comments(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find(UNFILLED_BIND) {
        out.push_str(&rest[..at]);
        rest = rest[at..]
            .split_once("*/")
            .map_or("", |(_, tail)| tail.trim_start());
    }
    out.push_str(rest);
    out
}

/// The first line of `sql`, cut to 60 characters, for messages.
fn excerpt(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// A revision's SQL from offline mode, without Alembic's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cleaned {
    /// Statements (each with its `;`) and standalone comment lines, in order.
    items: Vec<String>,
    /// How many of the items are statements.
    pub statements: usize,
    /// Whether it committed mid-way (an `autocommit_block`).
    pub autocommit: bool,
    /// What differed in a second rendering of the same step.
    pub frozen: Vec<Frozen>,
}

/// A value Python computed while Alembic rendered a step (`uuid4()`,
/// `datetime.now()`, a random number): a second rendering gave another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frozen {
    /// The statement that holds it, 1-based.
    pub statement: usize,
    /// The value as the SQL holds it (`'2024-05-06 07:08:09.123456'`), or `None`
    /// when the statement as a whole came out differently.
    pub value: Option<String>,
}

impl Frozen {
    /// The value, shown in one line.
    pub(crate) fn shown(&self) -> String {
        match &self.value {
            Some(v) => format!("`{}`", excerpt(&v.replace(['\r', '\n'], " "))),
            None => "a value".to_string(),
        }
    }

    /// The comment line written above its statement.
    fn note(&self, tool: &str) -> String {
        let what = match &self.value {
            Some(_) => format!("{} was computed by Python", self.shown()),
            None => "this statement holds values computed by Python".to_string(),
        };
        format!(
            "-- NOTE({tool}): {what} when Alembic rendered this SQL (another rendering gave another value), so it is frozen here: every database that runs this file gets this same value"
        )
    }
}

impl Cleaned {
    /// The SQL: statements separated by blank lines, standalone comments kept, a
    /// note above each statement that holds a frozen value (`tool` names the
    /// importer in it); empty when there is no statement.
    pub(crate) fn sql(&self, tool: &str) -> String {
        if self.statements == 0 {
            return String::new();
        }
        let mut out: Vec<String> = Vec::with_capacity(self.items.len());
        let mut statement = 0;
        for item in &self.items {
            if item.starts_with("--") {
                out.push(item.clone());
                continue;
            }
            statement += 1;
            let mut lines: Vec<String> = self
                .frozen
                .iter()
                .filter(|f| f.statement == statement)
                .map(|f| f.note(tool))
                .collect();
            lines.push(item.clone());
            out.push(lines.join("\n"));
        }
        out.join("\n\n")
    }

    fn statement_texts(&self) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .map(String::as_str)
            .filter(|t| !t.starts_with("--"))
    }

    /// Records what differs in `second`, another rendering of the same step:
    /// each literal that changed, or a statement as a whole when its shape did.
    pub(crate) fn compare(&mut self, second: &Cleaned, family: Family) {
        let first: Vec<&str> = self.statement_texts().collect();
        let other: Vec<&str> = second.statement_texts().collect();
        let mut frozen = Vec::new();
        if first.len() != other.len() {
            frozen.push(Frozen {
                statement: 1,
                value: None,
            });
        } else {
            for (k, (a, b)) in first.iter().zip(&other).enumerate() {
                if a == b {
                    continue;
                }
                let (ta, tb) = (tokens(a, family), tokens(b, family));
                let mut values: Vec<String> = Vec::new();
                if ta.len() == tb.len() {
                    for (x, y) in ta.iter().zip(&tb) {
                        if x != y && !values.iter().any(|v| v == x) {
                            values.push((*x).to_string());
                        }
                    }
                }
                if values.is_empty() {
                    frozen.push(Frozen {
                        statement: k + 1,
                        value: None,
                    });
                }
                frozen.extend(values.into_iter().map(|v| Frozen {
                    statement: k + 1,
                    value: Some(v),
                }));
            }
        }
        self.frozen = frozen;
    }
}

/// The tokens of a statement, for comparing two renderings: quoted strings and
/// identifiers whole, numbers, words, and any other character on its own.
fn tokens(sql: &str, family: Family) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        i = match c {
            b'\'' | b'"' | b'`' => quoted_end(bytes, i, c, family == Family::Mysql && c != b'`'),
            b if b.is_ascii_digit() => {
                i + bytes[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'))
                    .count()
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                i + bytes[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b >= 0x80)
                    .count()
            }
            _ => i + 1,
        };
        // Never split a UTF-8 sequence.
        while i < bytes.len() && !sql.is_char_boundary(i) {
            i += 1;
        }
        out.push(&sql[start..i]);
    }
    out
}

/// `"schema"."Table"(` → `table`.
fn table_name(word: &str) -> String {
    let word = word.split('(').next().unwrap_or(word);
    let last = word.rsplit('.').next().unwrap_or(word);
    last.trim_matches(['"', '`', '[', ']']).to_ascii_lowercase()
}

/// `chunk` (one revision's step of offline output) without Alembic's bookkeeping and
/// transaction framing, with SQLAlchemy's `%` escaping undone (per `rendering`);
/// `Err` when a statement still holds a bind parameter or its `%` cannot be read.
pub(crate) fn clean_chunk(
    chunk: &str,
    version_table: &str,
    rendering: Option<&Rendering>,
    family: Family,
) -> Result<Cleaned, String> {
    enum Kind {
        Bookkeeping,
        Transaction,
        Sql,
    }
    let statements = split_statements(chunk, 1, family.sql_dialect()).statements;
    let mut cursor = 0;
    let mut items: Vec<(Kind, String)> = Vec::new();
    for stmt in &statements {
        let Some(found) = chunk[cursor..].find(&stmt.sql) else {
            continue;
        };
        let gap = &chunk[cursor..cursor + found];
        for line in gap.lines().map(str::trim) {
            let line = line.trim_start_matches(';').trim();
            if line.starts_with("--") && !line.starts_with("-- Running ") {
                items.push((Kind::Sql, line.to_string()));
            }
        }
        cursor += found + stmt.sql.len();
        let words: Vec<String> = stmt
            .sql
            .split_whitespace()
            .take(3)
            .map(str::to_ascii_uppercase)
            .collect();
        let target = match words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["INSERT", "INTO", ..]
            | ["DELETE", "FROM", ..]
            | ["CREATE", "TABLE", ..]
            | ["DROP", "TABLE", ..] => stmt.sql.split_whitespace().nth(2).map(table_name),
            ["UPDATE", ..] => stmt.sql.split_whitespace().nth(1).map(table_name),
            _ => None,
        };
        let kind = if target.as_deref() == Some(version_table) {
            Kind::Bookkeeping
        } else if matches!(
            words
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["BEGIN"]
                | ["BEGIN", "TRANSACTION"]
                | ["START", "TRANSACTION"]
                | ["COMMIT"]
                | ["COMMIT", "TRANSACTION"]
        ) {
            Kind::Transaction
        } else {
            Kind::Sql
        };
        items.push((kind, format!("{};", stmt.sql)));
    }
    items.retain(|(k, _)| !matches!(k, Kind::Bookkeeping));
    // Alembic's own framing sits at the end of a step: COMMIT (and the next BEGIN).
    while matches!(items.last(), Some((Kind::Transaction, _))) {
        items.pop();
    }
    let autocommit = items.iter().any(|(k, _)| matches!(k, Kind::Transaction));
    items.retain(|(k, _)| !matches!(k, Kind::Transaction));
    let mut statement = 0;
    for (_, text) in &mut items {
        if !text.starts_with("--") {
            statement += 1;
            if let Some(unrendered) = find_bind_marker(text, family, rendering) {
                return Err(format!(
                    "statement {statement} of Alembic's offline SQL (`{}`) {}",
                    excerpt(&without_unfilled_comments(text)),
                    unrendered.explain()
                ));
            }
        }
        *text = undo_percent_escaping(text, rendering).map_err(|why| {
            format!(
                "statement {} of Alembic's offline SQL (`{}`) cannot be taken as it is: {why}",
                statement.max(1),
                excerpt(text)
            )
        })?;
    }
    let items: Vec<String> = items.into_iter().map(|(_, t)| t).collect();
    let statements = items.iter().filter(|t| !t.starts_with("--")).count();
    if statements > 0 {
        import_output::check_sql_body(&items.join("\n\n"))?;
    }
    Ok(Cleaned {
        items,
        statements,
        autocommit,
        frozen: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn transaction_framing_is_removed_and_autocommit_detected() {
        let step = "\nCREATE TABLE t (id INT);\n\nUPDATE \"myschema\".\"alembic_version\" SET version_num='b' WHERE version_num = 'a';\n\nCOMMIT;\n\nBEGIN;\n\n";
        let c = clean_chunk(step, "alembic_version", None, Family::Postgres).unwrap();
        assert_eq!(c.sql("t"), "CREATE TABLE t (id INT);");
        assert!(!c.autocommit);
        let step = "\nALTER TABLE t ADD x INT;\n\nCOMMIT;\n\n-- a note\nCREATE INDEX CONCURRENTLY ix ON t (x);\n\nBEGIN;\n\nUPDATE alembic_version SET version_num='b';\n\nCOMMIT;\n\n";
        let c = clean_chunk(step, "alembic_version", None, Family::Postgres).unwrap();
        assert!(c.autocommit);
        assert_eq!(
            c.sql("t"),
            "ALTER TABLE t ADD x INT;\n\n-- a note\n\nCREATE INDEX CONCURRENTLY ix ON t (x);"
        );
        assert_eq!(c.statements, 2);
    }

    fn rendering(family: Family, paramstyle: &str, double_percents: bool) -> Rendering {
        Rendering {
            family,
            paramstyle: paramstyle.to_string(),
            double_percents,
        }
    }

    #[test]
    fn bind_markers_are_found_outside_quotes_and_comments_only() {
        let pg = rendering(Family::Postgres, "pyformat", true);
        let pg_named = rendering(Family::Postgres, "named", false);
        let my = rendering(Family::Mysql, "format", true);
        let my_named = rendering(Family::Mysql, "named", false);
        let lite = rendering(Family::Sqlite, "qmark", false);
        let cases: [(&str, &Rendering, Option<&str>); 21] = [
            ("UPDATE t SET extra=%(extra)s", &pg, Some("%(extra)s")),
            ("UPDATE t SET a = '%(x)s', b = '50%%'", &pg, None),
            ("SELECT a %% 2, '100%%' FROM \"p%%\"", &pg, None),
            ("SELECT a %%%s", &pg, Some("%s")),
            ("UPDATE t SET x = :x", &pg_named, Some(":x")),
            (
                "SELECT x::text, ARRAY[1:2], '12:30 :noon' FROM t",
                &pg_named,
                None,
            ),
            ("SELECT $$ :x $$, $body$ :y $body$ -- :z\n", &pg_named, None),
            ("SELECT E'it\\'s :x'", &pg_named, None),
            ("SELECT 'it\\'s :x'", &pg_named, Some(":x")),
            ("SELECT data ? 'key' FROM t", &pg, None),
            ("UPDATE t SET x = %s", &my, Some("%s")),
            ("UPDATE t SET x = '%s', y = \"%s\"", &my, None),
            ("UPDATE t SET n = 'it\\'s :x' # :y\n", &my_named, None),
            (
                "UPDATE t SET n = 'it\\'s' WHERE a = :x",
                &my_named,
                Some(":x"),
            ),
            ("SET @a := 1", &my_named, None),
            ("SELECT 1 --:x", &my_named, Some(":x")),
            ("UPDATE t SET x = ?", &lite, Some("?")),
            (
                "SELECT 'why?', \"a?\", `b?`, [c?] /* d? */ -- e?\n",
                &lite,
                None,
            ),
            ("UPDATE t SET x = :x", &lite, None),
            ("UPDATE t SET x = ?", &pg_named, None),
            (
                "UPDATE t SET x = $1",
                &rendering(Family::Postgres, "numeric_dollar", false),
                Some("$1"),
            ),
        ];
        for (sql, r, expected) in cases {
            assert_eq!(
                find_marker(sql, r.family, Some(r)).as_deref(),
                expected,
                "{sql} ({})",
                r.paramstyle
            );
        }
        assert_eq!(
            find_bind_marker(
                "UPDATE t SET x = /* xtask-import-alembic: unfilled x */ NULL",
                Family::Postgres,
                Some(&pg)
            ),
            Some(Unrendered::Null("x".to_string()))
        );
        assert_eq!(
            find_bind_marker("UPDATE t SET x = %s", Family::Mysql, Some(&my)),
            Some(Unrendered::Marker("%s".to_string()))
        );
        // Unknown paramstyle: every form counts, except `?` on PostgreSQL.
        assert_eq!(
            find_marker("SET x = :x", Family::Sqlite, None).as_deref(),
            Some(":x")
        );
        assert_eq!(
            find_marker("SET x = %(x)s", Family::Sqlite, None).as_deref(),
            Some("%(x)s")
        );
        assert_eq!(find_marker("SELECT a ? 'k'", Family::Postgres, None), None);
    }

    #[test]
    fn percent_escaping_is_undone_only_where_it_was_applied() {
        let doubled = rendering(Family::Postgres, "pyformat", true);
        assert_eq!(
            undo_percent_escaping("SELECT '50%%', a %% 2, '%%%%' FROM \"r%%\"", Some(&doubled))
                .unwrap(),
            "SELECT '50%', a % 2, '%%' FROM \"r%\""
        );
        assert!(undo_percent_escaping("SELECT '50%'", Some(&doubled))
            .unwrap_err()
            .contains("single `%`"));
        let named = rendering(Family::Postgres, "named", false);
        assert_eq!(
            undo_percent_escaping("SELECT '%%'", Some(&named)).unwrap(),
            "SELECT '%%'"
        );
        assert!(undo_percent_escaping("SELECT '%'", None).is_err());
        assert_eq!(undo_percent_escaping("SELECT 1", None).unwrap(), "SELECT 1");
    }

    #[test]
    fn chunks_with_markers_fail_and_percents_are_undone() {
        let pg = rendering(Family::Postgres, "pyformat", true);
        let step = "\nINSERT INTO t (a) VALUES ('100%%');\n\nUPDATE t SET extra=%(extra)s WHERE t.id = 1;\n\n";
        let why = clean_chunk(step, "alembic_version", Some(&pg), Family::Postgres).unwrap_err();
        assert!(why.contains("statement 2"), "{why}");
        assert!(why.contains("`%(extra)s`"), "{why}");
        let step = "\n-- 100%% done\nINSERT INTO t (a) VALUES ('100%%');\n\nUPDATE alembic_version SET version_num='b';\n\n";
        let c = clean_chunk(step, "alembic_version", Some(&pg), Family::Postgres).unwrap();
        assert_eq!(
            c.sql("t"),
            "-- 100% done\n\nINSERT INTO t (a) VALUES ('100%');"
        );
        let unfilled = "\nUPDATE t SET x = /* xtask-import-alembic: unfilled x */ NULL;\n\n";
        let why =
            clean_chunk(unfilled, "alembic_version", Some(&pg), Family::Postgres).unwrap_err();
        assert!(why.contains("(`UPDATE t SET x = NULL;`)"), "{why}");
    }

    #[test]
    fn values_that_differ_between_renderings_are_frozen_values() {
        let clean =
            |sql: &str| clean_chunk(sql, "alembic_version", None, Family::Postgres).unwrap();
        let mut first = clean("-- seed\nINSERT INTO t (id, at) VALUES ('6f1c2b', '2024-05-06 07:08:09.1');\n\nUPDATE t SET n = 1;\n\nINSERT INTO u VALUES ('6f1c2b');\n\n");
        let second = clean("-- seed\nINSERT INTO t (id, at) VALUES ('a0b1c2', '2024-05-06 07:08:09.2');\n\nUPDATE t SET n = 1;\n\nINSERT INTO u VALUES ('a0b1c2');\n\n");
        first.compare(&second, Family::Postgres);
        assert_eq!(
            first.frozen,
            [
                Frozen {
                    statement: 1,
                    value: Some("'6f1c2b'".into())
                },
                Frozen {
                    statement: 1,
                    value: Some("'2024-05-06 07:08:09.1'".into())
                },
                Frozen {
                    statement: 3,
                    value: Some("'6f1c2b'".into())
                },
            ]
        );
        let sql = first.sql("import-alembic");
        assert!(
            sql.starts_with("-- seed\n\n-- NOTE(import-alembic): `'6f1c2b'` was computed by Python when Alembic rendered this SQL"),
            "{sql}"
        );
        assert_eq!(sql.matches("-- NOTE(import-alembic)").count(), 3, "{sql}");
        assert!(
            sql.contains("this same value\nINSERT INTO t (id, at)"),
            "notes sit right above their statement: {sql}"
        );
        assert!(
            sql.contains("09.1');\n\nUPDATE t SET n = 1;\n\n-- NOTE"),
            "{sql}"
        );

        // A statement whose shape changed is noted as a whole; equal renderings note nothing.
        let mut a = clean("UPDATE t SET x = NULL;\n\n");
        a.compare(&clean("UPDATE t SET x = 'v';\n\n"), Family::Postgres);
        assert_eq!(
            a.frozen,
            [Frozen {
                statement: 1,
                value: Some("NULL".into())
            }]
        );
        let mut b = clean("UPDATE t SET x = now();\n\n");
        b.compare(&clean("UPDATE t SET x = now() + 1;\n\n"), Family::Postgres);
        assert_eq!(
            b.frozen,
            [Frozen {
                statement: 1,
                value: None
            }]
        );
        let mut c = clean("UPDATE t SET x = 1;\n\n");
        c.compare(&clean("UPDATE t SET x = 1;\n\n"), Family::Postgres);
        assert!(c.frozen.is_empty());
    }
}
