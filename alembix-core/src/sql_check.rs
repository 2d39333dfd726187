//! SQL checked at build time: every statement of a section must parse for each
//! dialect the history declares, and must be able to run the way the migration
//! runs it (`-- transaction:`), so that mistakes fail the build instead of the
//! deploy.
//!
//! Compiled only with the `sql-check` feature (it brings in `sqlparser`); the
//! build side (the macro, the xtask) enables it, the runtime does not.
//! [`check_section`] is a pure function of its arguments, cheap to call from
//! several threads at once.
//!
//! # Rules
//!
//! 1. **Syntax** ([`ProblemKind::SqlSyntax`]). Each statement is parsed with
//!    sqlparser's dialect for the database: `SQLiteDialect`, `PostgreSqlDialect`
//!    or `MySqlDialect` (MySQL and MariaDB). A statement that does not parse is
//!    a problem on the file line of the error, whose message names the file
//!    `line:column` (columns count characters, from 1), the dialect, the
//!    statement's start and the parser's words. An error the parser reports
//!    without a place (the statement ends too early) points just after the
//!    statement's last character.
//! 2. **Escape hatch.** A statement the database reads but the parser does not
//!    is accepted when a line comment `-- alembix:unchecked`, optionally
//!    followed by a reason (`-- alembix:unchecked: sqlparser does not know
//!    CREATE STATISTICS`), stands on a line of its own among the comments
//!    between the previous statement's `;` (or the section's start) and the
//!    statement; blank lines and other comments may stand between the marker
//!    and the statement. It covers that one statement, for syntax only: rules 3
//!    and 4 still read it. There is no switch for a whole file or section. A
//!    marker inside a statement, after a statement on the same line (`…; --
//!    alembix:unchecked`) or followed by no statement does nothing; a marker
//!    before a statement that parses is allowed (it only skips a check that
//!    would pass). The splitter does not keep the comments before a statement
//!    in [`Statement::sql`], which is why [`check_section`] takes the section's
//!    text as well.
//! 3. **Statements that refuse a transaction** ([`ProblemKind::NotTransactional`]).
//!    In a migration that runs in a transaction (`-- transaction:
//!    per-migration`, the default), a statement the database refuses inside a
//!    transaction block is a problem. On PostgreSQL (the server's calls of
//!    `PreventInTransactionBlock`, as of PostgreSQL 17):
//!    `CREATE [UNIQUE] INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`,
//!    `REINDEX … CONCURRENTLY` (also as the option `REINDEX (CONCURRENTLY)`),
//!    `REINDEX SCHEMA|DATABASE|SYSTEM`, `VACUUM` (any form; `ANALYZE` alone
//!    runs in a transaction), `CLUSTER` without a table, `CREATE DATABASE`,
//!    `DROP DATABASE`, `ALTER DATABASE … SET TABLESPACE`, `CREATE TABLESPACE`,
//!    `DROP TABLESPACE`, `ALTER SYSTEM`, `ALTER TABLE … DETACH PARTITION …
//!    CONCURRENTLY`, `DISCARD ALL`, `COMMIT PREPARED`, `ROLLBACK PREPARED`,
//!    `CREATE SUBSCRIPTION` unless `create_slot = false` or `connect = false`,
//!    `ALTER SUBSCRIPTION … REFRESH PUBLICATION`, and `ALTER SUBSCRIPTION …
//!    SET|ADD|DROP PUBLICATION` unless `refresh = false`. On SQLite: `VACUUM`
//!    (also `VACUUM INTO`). Not flagged, because they run in a transaction or
//!    because only the database's state decides: `REFRESH MATERIALIZED VIEW
//!    CONCURRENTLY` (runs in one), `ALTER TYPE … ADD VALUE` (runs in one since
//!    PostgreSQL 12), `CLUSTER` of a table, `DROP SUBSCRIPTION` (refused only
//!    while the subscription has a replication slot), `REINDEX TABLE` and
//!    `CLUSTER` of a partitioned table (refused, but the statement does not say
//!    the table is partitioned).
//! 4. **MySQL/MariaDB: schema and data changes mixed**
//!    ([`ProblemKind::MixedDdlAndData`]). MySQL commits implicitly before and
//!    after every schema change (`CREATE`, `ALTER`, `DROP`, `RENAME`,
//!    `TRUNCATE`, except `CREATE`/`DROP TEMPORARY TABLE`; also `GRANT`,
//!    `REVOKE`, `SET PASSWORD`, `LOCK TABLES`, `INSTALL`/`UNINSTALL`, and the
//!    table maintenance statements `ANALYZE`, `CHECK`, `OPTIMIZE`, `REPAIR`,
//!    `CACHE INDEX`, `LOAD INDEX`, `FLUSH`). A section run in a transaction
//!    that holds both such a statement and a data change (`INSERT`, `UPDATE`,
//!    `DELETE`, `REPLACE`, `LOAD DATA`/`LOAD XML`, `WITH … UPDATE|DELETE`;
//!    `SELECT`, `SET` and `CALL` count as neither)
//!    expects them to roll back together, which MySQL cannot do: one problem,
//!    at the first statement of the kind that comes later, naming the first
//!    of each. A section of schema changes only, or of data changes only, is
//!    fine.
//!
//! Rules 3 and 4 read the statement's tokens as sqlparser's tokenizer cuts
//! them (never the raw text, so a keyword inside a string, a quoted name or a
//! comment does not count), and so give the same answer whether the statement
//! parsed or was marked unchecked. A test checks that they agree with the
//! syntax tree wherever sqlparser models the statement.
//!
//! Problems come ordered by line, and for one line in the order of the rules.
//!
//! # Known to need the marker (sqlparser 0.64)
//!
//! Valid statements, common in migrations, that sqlparser cannot read today
//! (`tests/sql_check/cases/known_unparsed_*.sql` keep them, so a sqlparser
//! update that learns one shows in the test's diff):
//!
//! - SQLite: `CREATE TRIGGER IF NOT EXISTS …` (without `IF NOT EXISTS`,
//!   triggers with `BEGIN … END` bodies parse); `PRAGMA name = ON|OFF|WAL|…`
//!   and `PRAGMA name(arg)` (numbers and strings as values parse:
//!   `PRAGMA foreign_keys = 0`); `REINDEX`; `VACUUM INTO`.
//! - PostgreSQL: `DO $$ … $$`; `CREATE [OR REPLACE] PROCEDURE`; `CREATE
//!   STATISTICS`, `PUBLICATION`, `SUBSCRIPTION`, `TABLESPACE`, `CAST`, `EVENT
//!   TRIGGER`; `CREATE TABLE … (LIKE … INCLUDING …)`; `CREATE INDEX …
//!   TABLESPACE`; `ALTER SEQUENCE`, `EXTENSION`, `DOMAIN`, `DATABASE`,
//!   `SYSTEM`, `SUBSCRIPTION`; `ALTER INDEX` other than `RENAME`; `ALTER TABLE
//!   … SET SCHEMA|TABLESPACE`, `CLUSTER ON`, `ALTER CONSTRAINT`; `ALTER TABLE
//!   … ALTER COLUMN … SET STATISTICS|STORAGE|COMPRESSION|GENERATED`, `TYPE …
//!   COLLATE`; `COMMENT ON FUNCTION f(args)`; `DROP INDEX CONCURRENTLY`, `DROP
//!   TABLESPACE|SUBSCRIPTION|OWNED`; `REASSIGN OWNED`; `SECURITY LABEL`;
//!   `VACUUM` with a table or options; `REINDEX`; `CLUSTER`; `COMMIT|ROLLBACK
//!   PREPARED`. (`COMMENT ON TABLE|COLUMN`, `CREATE EXTENSION`, `ALTER COLUMN …
//!   TYPE … USING`, `USING gin`, `$$` function bodies and triggers do parse.)
//! - MySQL/MariaDB: `CREATE FULLTEXT|SPATIAL INDEX`; `PARTITION BY` in `CREATE
//!   TABLE` and `ALTER TABLE`, `ALTER TABLE … DROP PARTITION`; `ALTER TABLE …
//!   ENGINE=`, `CONVERT TO CHARACTER SET`, `CHARACTER SET`, `COMMENT =`,
//!   `FORCE`, `RENAME INDEX`, `ALTER INDEX … INVISIBLE`, `DROP CHECK`, `ADD
//!   COLUMN (a …, b …)`; `CREATE PROCEDURE … BEGIN … END`; `CREATE FUNCTION`;
//!   `CREATE|DROP EVENT`; `CREATE USER 'name'@'host'`; `OPTIMIZE TABLE`; `LOAD
//!   DATA INFILE`. (`MODIFY`, `CHANGE`, `AUTO_INCREMENT`, table options on
//!   `CREATE TABLE`, triggers, and `ON DUPLICATE KEY UPDATE` do parse.)
//!
//! # Approximations
//!
//! - sqlparser's dialects are close to, not the same as, the databases: a
//!   statement can parse and still be refused (an unknown table, a type the
//!   server lacks), and the other way round (the list above).
//! - Columns assume the section's text starts at the beginning of a line, as
//!   [`Section::sql`](crate::Section) does; a statement that cannot be found in
//!   the text (a caller passing another text) gets column 1 for its first
//!   line and no marker.
//! - Each statement is parsed with the `;` the splitter cut off (some of
//!   sqlparser's rules want it), so an error at the very end of a statement
//!   may say `found: ;` where the section's last statement has none.
//! - A section the splitter finds unterminated
//!   ([`ProblemKind::UnterminatedSql`]) usually gives a syntax problem for its
//!   last statement as well.
//! - The parser refuses statements nested deeper than its limit (50 levels,
//!   about 25 nested subqueries) as a syntax problem; with sqlparser's
//!   `recursive-protection` the stack grows in new segments where needed, so deep
//!   SQL cannot overflow the stack of an unoptimized macro or test thread.
//! - Not checked: a value added by `ALTER TYPE … ADD VALUE` cannot be used
//!   later in the same transaction on PostgreSQL; a MySQL schema change alone
//!   is not atomic either (the runtime records MySQL progress per statement).

use crate::file::TransactionMode;
use crate::problem::{Problem, ProblemKind};
use crate::sql::{SqlDialect, Statement};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer};

/// The comment that lets the next statement skip the syntax check (rule 2):
/// `-- alembix:unchecked`, optionally followed by `:` and a reason.
pub const UNCHECKED_MARKER: &str = "alembix:unchecked";

/// How many characters of a statement's first line a message quotes.
const SHOWN_CHARS: usize = 60;

/// What a cached verdict of [`check_section`] depends on besides its input:
/// this crate's version and the parser's. A build skips a section only when
/// the key, which includes this, matched one that passed.
pub const CHECKER_VERSION: &str = concat!(
    "alembix-core ",
    env!("CARGO_PKG_VERSION"),
    " sqlparser 0.64"
);

/// Checks the statements one section runs on `dialect`: each must parse, and
/// must be able to run in the way the migration runs them (`transaction`).
/// Returns problems located at `file`, ordered by line.
///
/// `text` is the section's text the statements were cut from
/// ([`Section::sql`](crate::Section), starting at the beginning of a line);
/// `statements` are that text's statements for `dialect`
/// ([`Section::statements`](crate::Section::statements)). The text is needed
/// for the `-- alembix:unchecked` markers, which stand before a statement and
/// so are not part of it, and for the column where a statement starts.
pub fn check_section(
    file: &str,
    dialect: SqlDialect,
    transaction: TransactionMode,
    text: &str,
    statements: &[Statement],
) -> Vec<Problem> {
    let parser_dialect = ParserDialect::of(dialect);
    let places = locate(text, statements, dialect);
    let mut problems: Vec<Problem> = Vec::new();
    // The first schema change and the first data change (MySQL), by index.
    let mut first_ddl: Option<usize> = None;
    let mut first_dml: Option<usize> = None;
    for (index, (statement, place)) in statements.iter().zip(&places).enumerate() {
        let mut tokens: Vec<TokenWithSpan> = Vec::new();
        // On an error the buffer keeps the tokens read so far: enough for the
        // leading keywords rules 3 and 4 need.
        let lexed = Tokenizer::new(parser_dialect.get(), &statement.sql)
            .tokenize_with_location_into_buf(&mut tokens);
        let lexemes = Lexemes::new(&tokens);
        let refused = match transaction {
            TransactionMode::PerMigration => refuses_transaction(dialect, &lexemes),
            TransactionMode::None => None,
        };
        if transaction == TransactionMode::PerMigration && dialect == SqlDialect::Mysql {
            match mysql_effect(&lexemes) {
                Some(Effect::ImplicitCommit) => {
                    first_ddl.get_or_insert(index);
                }
                Some(Effect::DataChange) => {
                    first_dml.get_or_insert(index);
                }
                None => {}
            }
        }
        drop(lexemes);
        if !place.unchecked {
            let failure = match lexed {
                Err(e) => Some(SyntaxError {
                    at: Some(e.location),
                    message: e.message,
                }),
                Ok(()) => {
                    // The `;` the splitter cut off: some of sqlparser's rules
                    // (a MySQL trigger whose body is one statement) want it.
                    let end = end_location(&statement.sql);
                    tokens.push(TokenWithSpan::new(Token::SemiColon, Span::new(end, end)));
                    Parser::new(parser_dialect.get())
                        .with_tokens_with_locations(tokens)
                        .parse_statements()
                        .err()
                        .map(SyntaxError::from)
                }
            };
            if let Some(failure) = failure {
                problems.push(syntax_problem(file, dialect, statement, place, failure));
            }
        }
        if let Some(name) = refused {
            problems.push(not_transactional(file, dialect, statement, name));
        }
    }
    if let (Some(ddl), Some(dml)) = (first_ddl, first_dml) {
        problems.push(mixed(file, &statements[ddl], &statements[dml]));
    }
    // Stable: for one line, the rules' order stays.
    problems.sort_by_key(|p| p.line);
    problems
}

/// sqlparser's dialect for one of ours.
enum ParserDialect {
    Sqlite(SQLiteDialect),
    Postgres(PostgreSqlDialect),
    Mysql(MySqlDialect),
}

impl ParserDialect {
    fn of(dialect: SqlDialect) -> Self {
        match dialect {
            SqlDialect::Sqlite => ParserDialect::Sqlite(SQLiteDialect {}),
            SqlDialect::Postgres => ParserDialect::Postgres(PostgreSqlDialect {}),
            SqlDialect::Mysql => ParserDialect::Mysql(MySqlDialect {}),
        }
    }

    fn get(&self) -> &dyn Dialect {
        match self {
            ParserDialect::Sqlite(d) => d,
            ParserDialect::Postgres(d) => d,
            ParserDialect::Mysql(d) => d,
        }
    }
}

/// Where a statement stands in the section's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    /// 1-based column (in characters) of the statement's first character.
    column: u32,
    /// Whether an `-- alembix:unchecked` marker stands before it.
    unchecked: bool,
}

/// Finds each statement in `text`, in order, with the comments before it.
///
/// Between two statements the splitter leaves only whitespace, `;` and
/// comments; skipping exactly those (with `dialect`'s comment rules) from the
/// end of one statement finds the first byte of the next.
fn locate(text: &str, statements: &[Statement], dialect: SqlDialect) -> Vec<Place> {
    let mut places = Vec::with_capacity(statements.len());
    let mut pos = 0usize;
    for statement in statements {
        let (start, unchecked) = skip_gap(text, pos, dialect);
        let found = text
            .get(start..)
            .is_some_and(|rest| rest.starts_with(statement.sql.as_str()));
        if found {
            let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
            let column = text[line_start..start].chars().count().saturating_add(1);
            places.push(Place {
                column: u32::try_from(column).unwrap_or(u32::MAX),
                unchecked,
            });
            pos = start + statement.sql.len();
        } else {
            places.push(Place {
                column: 1,
                unchecked: false,
            });
        }
    }
    places
}

/// Skips whitespace, `;` and comments from `from`; returns where code starts
/// again and whether an unchecked marker stood among the comments.
fn skip_gap(text: &str, from: usize, dialect: SqlDialect) -> (usize, bool) {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut marked = false;
    let line_end = |i: usize| {
        bytes[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |n| i + n)
    };
    while let Some(&b) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        match b {
            b if b.is_ascii_whitespace() || b == b';' => i += 1,
            b'-' if next == Some(b'-')
                && (dialect != SqlDialect::Mysql
                    || bytes.get(i + 2).is_none_or(|&c| c <= b' ' || c == 0x7f)) =>
            {
                let end = line_end(i);
                let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                let alone = bytes[line_start..i].iter().all(u8::is_ascii_whitespace);
                if alone && is_marker(&text[i + 2..end]) {
                    marked = true;
                }
                i = end;
            }
            b'#' if dialect == SqlDialect::Mysql => i = line_end(i),
            b'/' if next == Some(b'*') => {
                let executable = dialect == SqlDialect::Mysql
                    && (bytes.get(i + 2) == Some(&b'!')
                        || (bytes.get(i + 2) == Some(&b'M') && bytes.get(i + 3) == Some(&b'!')));
                if executable {
                    break;
                }
                i = block_comment_end(bytes, i, dialect == SqlDialect::Postgres);
            }
            _ => break,
        }
    }
    (i, marked)
}

/// The end of the `/* … */` comment opening at `at` (nested when `nested`),
/// or the end of the text when it is never closed.
fn block_comment_end(bytes: &[u8], at: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) if depth == 0 || nested => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth = depth.saturating_sub(1);
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Whether a line comment's text (after `--`) is the unchecked marker.
fn is_marker(comment: &str) -> bool {
    comment
        .trim_start()
        .strip_prefix(UNCHECKED_MARKER)
        .is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(':') || rest.starts_with(char::is_whitespace)
        })
}

/// A parse failure: the parser's words and, when it gave one, the place
/// (relative to the statement's text).
struct SyntaxError {
    at: Option<Location>,
    message: String,
}

impl From<ParserError> for SyntaxError {
    fn from(e: ParserError) -> Self {
        match e {
            ParserError::TokenizerError(message) | ParserError::ParserError(message) => {
                // The parser appends the place as " at Line: L, Column: C".
                if let Some(at) = message.rfind(" at Line: ") {
                    if let Some(location) = parse_location(&message[at + 10..]) {
                        return SyntaxError {
                            at: Some(location),
                            message: message[..at].to_string(),
                        };
                    }
                }
                SyntaxError { at: None, message }
            }
            ParserError::RecursionLimitExceeded => SyntaxError {
                at: None,
                message: "the statement nests deeper than the parser's limit".to_string(),
            },
        }
    }
}

/// `L, Column: C` as a location.
fn parse_location(text: &str) -> Option<Location> {
    let (line, column) = text.split_once(", Column: ")?;
    let line: u64 = line.parse().ok()?;
    let column: u64 = column.parse().ok()?;
    (line > 0 && column > 0).then(|| Location::new(line, column))
}

fn syntax_problem(
    file: &str,
    dialect: SqlDialect,
    statement: &Statement,
    place: &Place,
    failure: SyntaxError,
) -> Problem {
    let (line, column) = match failure.at {
        Some(at) => file_position(statement, place, at),
        None => end_position(statement, place),
    };
    Problem::new(
        ProblemKind::SqlSyntax,
        format!(
            "`{}` does not parse as {dialect} SQL at {line}:{column}: {}",
            shown(&statement.sql),
            failure.message
        ),
    )
    .at(file, Some(line))
    .help(format!(
        "fix the statement; if {dialect} accepts it and the parser does not know the syntax, \
         put `-- {UNCHECKED_MARKER}: <why>` on its own line just before the statement to skip \
         this check for that statement"
    ))
}

/// The file line and column of `at`, a place in the statement's text.
fn file_position(statement: &Statement, place: &Place, at: Location) -> (u32, u32) {
    let lines_in = u32::try_from(at.line.saturating_sub(1)).unwrap_or(u32::MAX);
    let column = u32::try_from(at.column).unwrap_or(u32::MAX);
    let column = if lines_in == 0 {
        place.column.saturating_add(column).saturating_sub(1)
    } else {
        column
    };
    (statement.line.saturating_add(lines_in), column)
}

/// The file line and column just after the statement's last character.
fn end_position(statement: &Statement, place: &Place) -> (u32, u32) {
    file_position(statement, place, end_location(&statement.sql))
}

/// The place just after the last character of `sql`, as sqlparser counts
/// (lines and columns from 1, columns in characters).
fn end_location(sql: &str) -> Location {
    let lines_in = sql.bytes().filter(|&b| b == b'\n').count();
    let last_line = sql.rfind('\n').map_or(sql, |n| &sql[n + 1..]);
    let width = last_line.chars().count();
    Location::new(
        u64::try_from(lines_in)
            .unwrap_or(u64::MAX)
            .saturating_add(1),
        u64::try_from(width).unwrap_or(u64::MAX).saturating_add(1),
    )
}

/// The statement's first line, shortened for a message.
fn shown(sql: &str) -> String {
    let first = sql.lines().next().unwrap_or_default().trim_end();
    let mut out: String = first.chars().take(SHOWN_CHARS).collect();
    if out.len() < sql.len() {
        out.push('…');
    }
    out
}

fn not_transactional(
    file: &str,
    dialect: SqlDialect,
    statement: &Statement,
    name: &str,
) -> Problem {
    Problem::new(
        ProblemKind::NotTransactional,
        format!(
            "`{}`: {dialect} refuses {name} inside a transaction block, and this migration runs in \
             one (`-- transaction: per-migration`, the default)",
            shown(&statement.sql)
        ),
    )
    .at(file, Some(statement.line))
    .help(
        "declare `-- transaction: none` in the header so that the migration runs without a \
         transaction; best put this statement in a migration of its own, since a failure \
         half-way through a migration without a transaction leaves the earlier statements applied",
    )
}

fn mixed(file: &str, ddl: &Statement, dml: &Statement) -> Problem {
    let later = if ddl.line > dml.line { ddl } else { dml };
    Problem::new(
        ProblemKind::MixedDdlAndData,
        format!(
            "this section mixes data changes (`{}`, line {}) with `{}` (line {}), which MySQL \
             commits implicitly like every schema change: the migration's transaction cannot \
             roll them back together",
            shown(&dml.sql),
            dml.line,
            shown(&ddl.sql),
            ddl.line
        ),
    )
    .at(file, Some(later.line))
    .help(
        "move the data change into a migration of its own, or declare `-- transaction: none` \
         in the header to say that this migration is knowingly not atomic on MySQL",
    )
}

/// One token of a statement as rules 3 and 4 read it, with its depth in
/// parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lexeme<'a> {
    /// An unquoted word: a keyword or a plain name.
    Word(&'a str),
    /// A quoted name, a string or a number (its text, unquoted).
    Value(&'a str),
    /// `=`.
    Eq,
    /// Anything else.
    Other,
}

/// A statement's lexemes (no whitespace or comments), each with its depth in
/// parentheses.
struct Lexemes<'a> {
    all: Vec<(Lexeme<'a>, u32)>,
}

impl<'a> Lexemes<'a> {
    fn new(tokens: &'a [TokenWithSpan]) -> Self {
        let mut depth = 0u32;
        let mut all = Vec::with_capacity(tokens.len());
        for token in tokens {
            let lexeme = match &token.token {
                Token::Whitespace(_) | Token::EOF => continue,
                Token::LParen => {
                    depth = depth.saturating_add(1);
                    continue;
                }
                Token::RParen => {
                    depth = depth.saturating_sub(1);
                    continue;
                }
                Token::Word(w) if w.quote_style.is_none() => Lexeme::Word(&w.value),
                Token::Word(w) => Lexeme::Value(&w.value),
                Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Lexeme::Value(s),
                Token::Number(n, _) => Lexeme::Value(n),
                Token::Eq => Lexeme::Eq,
                _ => Lexeme::Other,
            };
            all.push((lexeme, depth));
        }
        Lexemes { all }
    }

    /// The lexemes outside parentheses.
    fn top(&self) -> Top<'a> {
        Top(self
            .all
            .iter()
            .filter(|(_, depth)| *depth == 0)
            .map(|(lexeme, _)| *lexeme)
            .collect())
    }

    /// Whether an unquoted word inside parentheses is `word`.
    fn has_nested(&self, word: &str) -> bool {
        self.all.iter().any(|(l, depth)| {
            *depth > 0 && matches!(l, Lexeme::Word(w) if w.eq_ignore_ascii_case(word))
        })
    }

    /// Whether the option `name` is set to false (`name = false`, `off`, `0`,
    /// as PostgreSQL's `defGetBoolean` reads it) inside parentheses.
    fn option_is_false(&self, name: &str) -> bool {
        let all = &self.all;
        all.iter().enumerate().any(|(i, (lexeme, depth))| {
            if *depth == 0 || !matches!(lexeme, Lexeme::Word(w) if w.eq_ignore_ascii_case(name)) {
                return false;
            }
            let mut j = i + 1;
            if matches!(all.get(j), Some((Lexeme::Eq, _))) {
                j += 1;
            }
            matches!(all.get(j), Some((Lexeme::Word(v) | Lexeme::Value(v), _))
                if ["false", "off", "0"].iter().any(|f| v.eq_ignore_ascii_case(f)))
        })
    }
}

/// The lexemes of a statement outside parentheses.
struct Top<'a>(Vec<Lexeme<'a>>);

impl Top<'_> {
    /// Whether the lexeme at `i` is the unquoted word `keyword` (any case).
    fn is(&self, i: usize, keyword: &str) -> bool {
        matches!(self.0.get(i), Some(Lexeme::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    /// The position of the first unquoted word `keyword` at or after `from`.
    fn find(&self, from: usize, keyword: &str) -> Option<usize> {
        (from..self.0.len()).find(|&i| self.is(i, keyword))
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// The statement `dialect` refuses inside a transaction block, if this is one
/// (rule 3); its name for the message.
fn refuses_transaction(dialect: SqlDialect, lexemes: &Lexemes<'_>) -> Option<&'static str> {
    let top = lexemes.top();
    match dialect {
        SqlDialect::Sqlite => top.is(0, "VACUUM").then_some("`VACUUM`"),
        SqlDialect::Postgres => postgres_refuses_transaction(&top, lexemes),
        SqlDialect::Mysql => None,
    }
}

fn postgres_refuses_transaction(top: &Top<'_>, lexemes: &Lexemes<'_>) -> Option<&'static str> {
    let is = |i: usize, keyword: &str| top.is(i, keyword);
    if is(0, "CREATE") {
        let index = if is(1, "UNIQUE") { 2 } else { 1 };
        if is(index, "INDEX") && is(index + 1, "CONCURRENTLY") {
            return Some("`CREATE INDEX CONCURRENTLY`");
        }
        if is(1, "DATABASE") {
            return Some("`CREATE DATABASE`");
        }
        if is(1, "TABLESPACE") {
            return Some("`CREATE TABLESPACE`");
        }
        if is(1, "SUBSCRIPTION")
            && !lexemes.option_is_false("create_slot")
            && !lexemes.option_is_false("connect")
        {
            return Some("`CREATE SUBSCRIPTION` that creates a replication slot (the default; `create_slot = false` or `connect = false` avoids it)");
        }
        return None;
    }
    if is(0, "DROP") {
        return if is(1, "INDEX") && is(2, "CONCURRENTLY") {
            Some("`DROP INDEX CONCURRENTLY`")
        } else if is(1, "DATABASE") {
            Some("`DROP DATABASE`")
        } else if is(1, "TABLESPACE") {
            Some("`DROP TABLESPACE`")
        } else {
            None
        };
    }
    if is(0, "ALTER") {
        if is(1, "SYSTEM") {
            return Some("`ALTER SYSTEM`");
        }
        // ALTER DATABASE name SET TABLESPACE new
        if is(1, "DATABASE") && is(3, "SET") && is(4, "TABLESPACE") {
            return Some("`ALTER DATABASE … SET TABLESPACE`");
        }
        if is(1, "TABLE") {
            let detach = top.find(2, "DETACH");
            if detach.is_some_and(|d| {
                is(d + 1, "PARTITION") && top.find(d + 2, "CONCURRENTLY").is_some()
            }) {
                return Some("`ALTER TABLE … DETACH PARTITION … CONCURRENTLY`");
            }
            return None;
        }
        if is(1, "SUBSCRIPTION") {
            if is(3, "REFRESH") && is(4, "PUBLICATION") {
                return Some("`ALTER SUBSCRIPTION … REFRESH PUBLICATION`");
            }
            let changes = is(3, "SET") || is(3, "ADD") || is(3, "DROP");
            if changes && is(4, "PUBLICATION") && !lexemes.option_is_false("refresh") {
                return Some("`ALTER SUBSCRIPTION … SET|ADD|DROP PUBLICATION` with refresh (the default; `refresh = false` avoids it)");
            }
        }
        return None;
    }
    if is(0, "REINDEX") {
        // REINDEX [ ( option, … ) ] { INDEX | TABLE | SCHEMA | DATABASE | SYSTEM }
        //     [ CONCURRENTLY ] [ name ]; CONCURRENTLY may also be an option.
        if top.find(1, "CONCURRENTLY").is_some()
            || (lexemes.has_nested("CONCURRENTLY") && !lexemes.option_is_false("CONCURRENTLY"))
        {
            return Some("`REINDEX CONCURRENTLY`");
        }
        return if is(1, "SCHEMA") {
            Some("`REINDEX SCHEMA`")
        } else if is(1, "DATABASE") {
            Some("`REINDEX DATABASE`")
        } else if is(1, "SYSTEM") {
            Some("`REINDEX SYSTEM`")
        } else {
            None
        };
    }
    if is(0, "VACUUM") {
        return Some("`VACUUM`");
    }
    if is(0, "CLUSTER") {
        // CLUSTER [VERBOSE] | CLUSTER ( option, … ): every table of the database.
        let rest = if is(1, "VERBOSE") { 2 } else { 1 };
        return (top.len() <= rest).then_some("`CLUSTER` without a table");
    }
    if is(0, "DISCARD") && is(1, "ALL") {
        return Some("`DISCARD ALL`");
    }
    if (is(0, "COMMIT") || is(0, "ROLLBACK")) && is(1, "PREPARED") {
        return Some(if is(0, "COMMIT") {
            "`COMMIT PREPARED`"
        } else {
            "`ROLLBACK PREPARED`"
        });
    }
    None
}

/// What a MySQL statement does to the migration's transaction (rule 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// A schema change (or another statement) that commits implicitly.
    ImplicitCommit,
    /// A data change, which a rollback would undo.
    DataChange,
}

fn mysql_effect(lexemes: &Lexemes<'_>) -> Option<Effect> {
    let top = lexemes.top();
    let is = |i: usize, keyword: &str| top.is(i, keyword);
    // `TEMP` is not MySQL's, but sqlparser reads it as `TEMPORARY`: agree with it.
    let temp = |i: usize| is(i, "TEMPORARY") || is(i, "TEMP");
    let temporary = |i: usize| temp(i) || (is(i, "OR") && is(i + 1, "REPLACE") && temp(i + 2));
    if (is(0, "CREATE") || is(0, "DROP")) && temporary(1) {
        // CREATE/DROP TEMPORARY TABLE do not commit.
        return None;
    }
    const COMMITS: [&str; 15] = [
        "CREATE",
        "ALTER",
        "DROP",
        "RENAME",
        "TRUNCATE",
        "GRANT",
        "REVOKE",
        "INSTALL",
        "UNINSTALL",
        "LOCK",
        "ANALYZE",
        "CHECK",
        "OPTIMIZE",
        "REPAIR",
        "FLUSH",
    ];
    if COMMITS.iter().any(|k| is(0, k))
        || (is(0, "SET") && is(1, "PASSWORD"))
        || (is(0, "CACHE") && is(1, "INDEX"))
        || (is(0, "LOAD") && is(1, "INDEX"))
    {
        return Some(Effect::ImplicitCommit);
    }
    const CHANGES: [&str; 4] = ["INSERT", "UPDATE", "DELETE", "REPLACE"];
    if CHANGES.iter().any(|k| is(0, k)) || (is(0, "LOAD") && (is(1, "DATA") || is(1, "XML"))) {
        return Some(Effect::DataChange);
    }
    if is(0, "WITH") {
        // WITH … AS ( … ) { SELECT | UPDATE | DELETE }: the bodies are in parentheses.
        let body = (1..top.len()).find(|&i| {
            ["SELECT", "UPDATE", "DELETE", "INSERT", "REPLACE"]
                .iter()
                .any(|k| is(i, k))
        });
        if body.is_some_and(|i| !is(i, "SELECT")) {
            return Some(Effect::DataChange);
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sqlparser::ast::{
        self, AlterTableOperation, DetachPartitionMode, DiscardObject, ObjectType,
    };
    use std::path::Path;

    fn check(sql: &str, dialect: SqlDialect) -> Vec<Problem> {
        let split = crate::sql::split_statements(sql, 1, dialect);
        check_section(
            "m.sql",
            dialect,
            TransactionMode::PerMigration,
            sql,
            &split.statements,
        )
    }

    /// Machine-written SQL can nest deeply or run long; the parser must
    /// answer (parse or refuse), never overflow the stack, even unoptimized on
    /// a test thread's 2 MiB.
    #[test]
    fn deep_or_long_statements_do_not_overflow_the_stack() {
        let shapes: Vec<(&str, String)> = vec![
            (
                "parens",
                format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000)),
            ),
            (
                "subqueries",
                format!("SELECT {}1{}", "(SELECT ".repeat(2_000), ")".repeat(2_000)),
            ),
            ("not", format!("SELECT {}TRUE", "NOT ".repeat(5_000))),
            ("minus", format!("SELECT {}1", "- ".repeat(5_000))),
            (
                "case",
                format!(
                    "SELECT {}1{}",
                    "CASE WHEN a THEN ".repeat(2_000),
                    " END".repeat(2_000)
                ),
            ),
            ("and", format!("SELECT a{}", " AND a".repeat(20_000))),
            ("plus", format!("SELECT 1{}", " + 1".repeat(20_000))),
            (
                "in list",
                format!("SELECT 1 IN (1{})", ", 1".repeat(20_000)),
            ),
            (
                "values",
                format!("INSERT INTO t VALUES (1){}", ", (1)".repeat(20_000)),
            ),
            (
                "function calls",
                format!("SELECT {}1{}", "f(".repeat(2_000), ")".repeat(2_000)),
            ),
            (
                "arrays",
                format!("SELECT {}1{}", "ARRAY[".repeat(2_000), "]".repeat(2_000)),
            ),
        ];
        for (name, sql) in &shapes {
            for dialect in SqlDialect::ALL {
                let problems = check(sql, dialect);
                assert!(problems.len() <= 1, "{name} {dialect}: {problems:?}");
            }
        }
    }

    #[test]
    fn the_marker_is_one_spelling() {
        for yes in [
            " alembix:unchecked",
            "alembix:unchecked",
            " alembix:unchecked: sqlparser does not know CREATE STATISTICS",
            "   alembix:unchecked  because",
        ] {
            assert!(is_marker(yes), "{yes:?}");
        }
        for no in [
            " alembix:uncheckedx",
            " alembix:check",
            " ALEMBIX:UNCHECKED",
            " see alembix:unchecked",
            " alembix: unchecked",
        ] {
            assert!(!is_marker(no), "{no:?}");
        }
    }

    /// What the syntax tree says about rule 3, for dialects where sqlparser
    /// reads the statement: the name of the refused statement, or `None`.
    fn refused_by_tree(dialect: SqlDialect, tree: &ast::Statement) -> Option<&'static str> {
        match (dialect, tree) {
            (SqlDialect::Mysql, _) => None,
            (_, ast::Statement::Vacuum(_)) => Some("`VACUUM`"),
            (SqlDialect::Sqlite, _) => None,
            (_, ast::Statement::CreateIndex(index)) => {
                index.concurrently.then_some("`CREATE INDEX CONCURRENTLY`")
            }
            (_, ast::Statement::CreateDatabase { .. }) => Some("`CREATE DATABASE`"),
            (
                _,
                ast::Statement::Drop {
                    object_type: ObjectType::Database,
                    ..
                },
            ) => Some("`DROP DATABASE`"),
            (
                _,
                ast::Statement::Discard {
                    object_type: DiscardObject::ALL,
                },
            ) => Some("`DISCARD ALL`"),
            (_, ast::Statement::AlterTable(alter)) => alter
                .operations
                .iter()
                .any(|op| {
                    matches!(
                        op,
                        AlterTableOperation::DetachPartitionOf {
                            mode: Some(DetachPartitionMode::Concurrently),
                            ..
                        }
                    )
                })
                .then_some("`ALTER TABLE … DETACH PARTITION … CONCURRENTLY`"),
            _ => None,
        }
    }

    /// What the syntax tree says about rule 4 (MySQL), where it models the
    /// statement: `Some(effect)`; `None` for statements it leaves to tokens.
    fn effect_by_tree(tree: &ast::Statement) -> Option<Option<Effect>> {
        use ast::Statement as S;
        Some(match tree {
            S::Insert(_) | S::Update(_) | S::Delete(_) | S::LoadData { .. } => {
                Some(Effect::DataChange)
            }
            S::Query(query) => match query.body.as_ref() {
                ast::SetExpr::Insert(_) | ast::SetExpr::Update(_) | ast::SetExpr::Delete(_) => {
                    Some(Effect::DataChange)
                }
                _ => None,
            },
            S::CreateTable(create) => (!create.temporary).then_some(Effect::ImplicitCommit),
            S::Drop { temporary, .. } => (!temporary).then_some(Effect::ImplicitCommit),
            S::AlterTable(_)
            | S::CreateIndex(_)
            | S::CreateView(_)
            | S::Truncate(_)
            | S::RenameTable(_)
            | S::CreateTrigger(_)
            | S::DropTrigger(_)
            | S::CreateFunction(_)
            | S::CreateProcedure { .. }
            | S::DropFunction(_)
            | S::DropProcedure { .. }
            | S::CreateDatabase { .. }
            | S::CreateSchema { .. }
            | S::Grant(_)
            | S::Revoke(_)
            | S::CreateUser(_)
            | S::AlterUser(_)
            | S::LockTables { .. }
            | S::OptimizeTable { .. }
            | S::Analyze(_)
            | S::Flush { .. } => Some(Effect::ImplicitCommit),
            _ => return None,
        })
    }

    /// Rules 3 and 4 read tokens, so that they also judge statements the
    /// parser cannot read; wherever sqlparser does read one (every case
    /// file's statements), the tree must agree with the tokens.
    #[test]
    fn tokens_agree_with_the_syntax_tree() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql_check/cases");
        let mut compared = [0usize; 3];
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        for path in files {
            let sql = std::fs::read_to_string(&path).unwrap();
            for dialect in SqlDialect::ALL {
                let parser_dialect = ParserDialect::of(dialect);
                for statement in crate::sql::split_statements(&sql, 1, dialect).statements {
                    let Ok(tokens) = Tokenizer::new(parser_dialect.get(), &statement.sql)
                        .tokenize_with_location()
                    else {
                        continue;
                    };
                    let lexemes = Lexemes::new(&tokens);
                    let Ok(trees) = Parser::new(parser_dialect.get())
                        .with_tokens_with_locations(tokens.clone())
                        .parse_statements()
                    else {
                        continue;
                    };
                    let [tree] = trees.as_slice() else { continue };
                    let at = format!(
                        "{}:{} ({dialect}): {}",
                        path.display(),
                        statement.line,
                        statement.sql
                    );
                    assert_eq!(
                        refuses_transaction(dialect, &lexemes),
                        refused_by_tree(dialect, tree),
                        "{at}"
                    );
                    if dialect == SqlDialect::Mysql {
                        if let Some(effect) = effect_by_tree(tree) {
                            assert_eq!(mysql_effect(&lexemes), effect, "{at}");
                        }
                    }
                    compared[dialect.index()] += 1;
                }
            }
        }
        assert!(compared.iter().all(|&n| n > 100), "{compared:?}");
    }
}
