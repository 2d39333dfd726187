//! Splitting a section of SQL into statements, each with the line it starts on,
//! per dialect.
//!
//! The runtime runs statements one by one so an error can name the statement, and
//! so MySQL/MariaDB progress can be recorded between them. Each dialect cuts
//! where its own client and server would:
//!
//! | rule | SQLite | PostgreSQL | MySQL/MariaDB |
//! | --- | --- | --- | --- |
//! | `'…'` strings | `''` | `''`; backslash escapes only in `E'…'` | `''` and backslash escapes |
//! | `"…"` | identifier | identifier | string, backslash escapes |
//! | `` `…` `` | identifier | an operator character | identifier |
//! | `[…]` | identifier | — | — |
//! | `--` comment | always | always | only before a space or control character |
//! | `#` comment | — | — | to the end of the line |
//! | `/* … */` | flat | nested | flat (`/*! … */` is code) |
//! | `$tag$ … $tag$` | — | a body | — |
//! | `;` inside | `CREATE TRIGGER … BEGIN … END` (and `CASE … END`) | parentheses; `BEGIN ATOMIC … END` of `CREATE [OR REPLACE] FUNCTION/PROCEDURE` (psql's rule) | `BEGIN … END`, `IF … END IF`, `CASE … END [CASE]`, `LOOP`/`WHILE`/`REPEAT`/`FOR … END …` in triggers, procedures, functions, events, and MariaDB's compound statements |
//!
//! Assumed server settings: PostgreSQL's `standard_conforming_strings = on` (the
//! default since 9.1); MySQL's default `sql_mode` (no `ANSI_QUOTES`, no
//! `NO_BACKSLASH_ESCAPES`).
//!
//! A section that ends inside a string, quoted identifier, block comment or
//! dollar-quoted body is reported as [`Unterminated`], with the line where the
//! construct opens. Everything runs in one pass, in time linear in the text.

use std::fmt;

/// The SQL dialects whose lexical rules the splitter knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SqlDialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
}

impl SqlDialect {
    /// Every dialect, in a fixed order (the order of [`SqlDialect::index`]).
    pub const ALL: [SqlDialect; 3] = [SqlDialect::Sqlite, SqlDialect::Postgres, SqlDialect::Mysql];

    /// The position of this dialect in [`SqlDialect::ALL`].
    pub const fn index(self) -> usize {
        match self {
            SqlDialect::Sqlite => 0,
            SqlDialect::Postgres => 1,
            SqlDialect::Mysql => 2,
        }
    }

    /// The dialect a name means, as written in a section marker and in the
    /// dialect declaration: exactly `sqlite`, `postgresql` or `mysql` (which
    /// covers MariaDB).
    pub fn from_name(name: &str) -> Option<SqlDialect> {
        SqlDialect::ALL.into_iter().find(|d| d.name() == name)
    }

    /// A short name for messages: `sqlite`, `postgresql`, `mysql`.
    pub const fn name(self) -> &'static str {
        match self {
            SqlDialect::Sqlite => "sqlite",
            SqlDialect::Postgres => "postgresql",
            SqlDialect::Mysql => "mysql",
        }
    }
}

/// The dialect names, as a help text lists them.
pub const DIALECT_NAMES: &str = "`sqlite`, `postgresql` and `mysql` (MySQL and MariaDB)";

/// `"; did you mean `…`?"` when `name` is a common other spelling of a
/// dialect (`postgres`, `pg`, `mariadb`, `sqlite3`, any case), else `""`.
pub fn near_dialect(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let near = match lower.as_str() {
        "postgres" | "pg" | "pgsql" | "postgre" | "psql" | "postgresql" => "postgresql",
        "mariadb" | "maria" | "mysql" => "mysql",
        "sqlite3" | "sqlite" | "sqlite3.0" => "sqlite",
        _ => return String::new(),
    };
    format!("; did you mean `{near}`?")
}

impl fmt::Display for SqlDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One SQL statement of a section, without its terminating `;`.
///
/// The text is trimmed of ASCII whitespace (what every dialect's lexer skips).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// 1-based line in the migration file where the statement starts.
    pub line: u32,
    /// The statement text, trimmed, comments inside it kept.
    pub sql: String,
}

/// What a section ends inside of when a construct is never closed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unclosed {
    /// A string or quoted identifier opened with this character (`'`, `"`, `` ` ``, `[`).
    Quote(char),
    /// A PostgreSQL escape string, `E'…'`.
    EscapeString,
    /// A `/* … */` comment.
    BlockComment,
    /// A PostgreSQL dollar-quoted body, with its opening tag (`$$`, `$body$`).
    DollarQuote(String),
}

impl fmt::Display for Unclosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unclosed::Quote('[') => f.write_str("an identifier opened with `[`"),
            Unclosed::Quote(q) => write!(f, "a string or quoted name opened with `{q}`"),
            Unclosed::EscapeString => f.write_str("an escape string opened with `E'`"),
            Unclosed::BlockComment => f.write_str("a comment opened with `/*`"),
            Unclosed::DollarQuote(tag) => write!(f, "a body opened with `{tag}`"),
        }
    }
}

/// A construct still open at the end of a section: the section cannot run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unterminated {
    /// 1-based line in the migration file where the construct opens.
    pub line: u32,
    /// What is open.
    pub unclosed: Unclosed,
}

impl fmt::Display for Unterminated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on line {} is never closed", self.unclosed, self.line)
    }
}

/// A section cut into statements for one dialect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// Set when the section ends inside a construct (the last statement then
    /// runs to the end of the section).
    pub unterminated: Option<Unterminated>,
}

/// A section's splits for every dialect, each distinct split stored once.
///
/// In the common case all dialects cut a section the same way and there is one
/// split; a section whose text means something else to some dialect (a
/// backslash before a quote, a `#`, a `$tag$`, a compound statement) holds one
/// split per different reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splits {
    /// The distinct splits, in the order of the first dialect that uses each.
    distinct: Vec<Split>,
    /// For each dialect (by [`SqlDialect::index`]), which of `distinct` it uses.
    which: [u8; 3],
}

impl Default for Splits {
    fn default() -> Self {
        Splits::uniform(Split::default())
    }
}

impl Splits {
    /// Splits `sql` (starting on line `first_line` of its file) for every dialect.
    pub fn new(sql: &str, first_line: u32) -> Splits {
        // SQLite's cut first, noting whether anything could read differently
        // elsewhere; the common case stops there.
        let mut watch = Watch::default();
        let sqlite = cut(sql, first_line, SqlDialect::Sqlite, Some(&mut watch));
        if !watch.sensitive {
            return Splits::uniform(sqlite.to_split(sql));
        }
        let mut cuts: Vec<Cut> = vec![sqlite];
        let mut which = [0u8; 3];
        for dialect in [SqlDialect::Postgres, SqlDialect::Mysql] {
            let cut = cut(sql, first_line, dialect, None);
            let at = match cuts.iter().position(|c| *c == cut) {
                Some(at) => at,
                None => {
                    cuts.push(cut);
                    cuts.len() - 1
                }
            };
            which[dialect.index()] = u8::try_from(at).unwrap_or(0);
        }
        let distinct = cuts.iter().map(|c| c.to_split(sql)).collect();
        Splits { distinct, which }
    }

    /// Splits a section whose dialects run different texts (a section with
    /// dialect variants): `texts[i]` is what dialect `SqlDialect::ALL[i]` runs
    /// and the line its first line is on, `None` for a dialect with no SQL
    /// there (it gets an empty split). `sql` is the whole section, and every
    /// text a slice of it given as a byte range, so that statements stay
    /// slices of the section's text.
    pub fn per_dialect(sql: &str, texts: [Option<(std::ops::Range<usize>, u32)>; 3]) -> Splits {
        let mut distinct: Vec<Split> = Vec::new();
        let mut which = [0u8; 3];
        for dialect in SqlDialect::ALL {
            let split = match &texts[dialect.index()] {
                Some((range, first_line)) => {
                    let text = sql.get(range.clone()).unwrap_or_default();
                    cut(text, *first_line, dialect, None).to_split(text)
                }
                None => Split::default(),
            };
            let at = match distinct.iter().position(|s| *s == split) {
                Some(at) => at,
                None => {
                    distinct.push(split);
                    distinct.len() - 1
                }
            };
            which[dialect.index()] = u8::try_from(at).unwrap_or(0);
        }
        Splits { distinct, which }
    }

    /// One split that every dialect shares.
    pub fn uniform(split: Split) -> Splits {
        Splits {
            distinct: vec![split],
            which: [0; 3],
        }
    }

    /// Rebuilds splits from [`Splits::distinct`] and [`Splits::which`]; `None`
    /// unless `which` points into `distinct` and every split is used, the first
    /// use of each in order.
    pub fn from_parts(distinct: Vec<Split>, which: [u8; 3]) -> Option<Splits> {
        let mut next = 0u8;
        for &w in &which {
            if w > next {
                return None;
            }
            if w == next {
                next += 1;
            }
        }
        (usize::from(next) == distinct.len()).then_some(Splits { distinct, which })
    }

    /// The split `dialect` runs.
    pub fn get(&self, dialect: SqlDialect) -> &Split {
        let at = usize::from(self.which[dialect.index()]);
        // `new` and `from_parts` keep `which` inside `distinct`, which is never empty.
        &self.distinct[at.min(self.distinct.len() - 1)]
    }

    /// The statements `dialect` runs.
    pub fn statements(&self, dialect: SqlDialect) -> &[Statement] {
        &self.get(dialect).statements
    }

    /// What `dialect` sees left open at the end of the section, if anything.
    pub fn unterminated(&self, dialect: SqlDialect) -> Option<&Unterminated> {
        self.get(dialect).unterminated.as_ref()
    }

    /// The distinct splits (one when every dialect agrees).
    pub fn distinct(&self) -> &[Split] {
        &self.distinct
    }

    /// For each dialect in [`SqlDialect::ALL`] order, its index in [`Splits::distinct`].
    pub fn which(&self) -> [u8; 3] {
        self.which
    }

    /// Whether every dialect cuts the section the same way.
    pub fn is_uniform(&self) -> bool {
        self.distinct.len() == 1
    }

    /// Whether no dialect finds a statement in the section.
    pub fn is_empty(&self) -> bool {
        self.distinct.iter().all(|s| s.statements.is_empty())
    }
}

/// Splits `sql` (which starts on line `first_line` of its file) into the
/// statements `dialect` would run.
///
/// Text that holds only comments and whitespace produces no statement.
pub fn split_statements(sql: &str, first_line: u32, dialect: SqlDialect) -> Split {
    cut(sql, first_line, dialect, None).to_split(sql)
}

/// A split as byte ranges of the text, before any statement is copied out.
#[derive(PartialEq, Eq)]
struct Cut {
    /// Line, start and end of each statement (trimmed, never empty).
    statements: Vec<(u32, usize, usize)>,
    unterminated: Option<Unterminated>,
}

impl Cut {
    fn to_split(&self, sql: &str) -> Split {
        Split {
            statements: self
                .statements
                .iter()
                .map(|&(line, start, end)| Statement {
                    line,
                    sql: sql.get(start..end).unwrap_or_default().to_string(),
                })
                .collect(),
            unterminated: self.unterminated.clone(),
        }
    }
}

/// The statements of `sql` as `dialect` cuts it, as ranges.
///
/// With `watch`, also notes whether the text holds anything another dialect
/// could read differently (see [`Watch`]).
fn cut(sql: &str, first_line: u32, dialect: SqlDialect, mut watch: Option<&mut Watch>) -> Cut {
    let mut lexer = Lexer::new(sql, first_line, dialect);
    let mut blocks = Blocks::new(dialect);
    let mut statements = Vec::new();
    // Where the current statement's first code starts, and its line.
    let mut current: Option<(usize, u32)> = None;
    let bytes = sql.as_bytes();
    let flush = |statements: &mut Vec<(u32, usize, usize)>, from: (usize, u32), to: usize| {
        let mut end = to;
        while end > from.0 && bytes[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        // `from` is the first byte of a code token, never whitespace.
        if end > from.0 {
            statements.push((from.1, from.0, end));
        }
    };
    while let Some(token) = lexer.next_token() {
        if let Some(watch) = watch.as_deref_mut() {
            watch.token(&token, bytes);
        }
        if !token.kind.is_code() {
            continue;
        }
        if token.kind == Kind::Punct(b';') && blocks.at_top() {
            if let Some(from) = current.take() {
                flush(&mut statements, from, token.start);
            }
            blocks.reset();
            continue;
        }
        if current.is_none() {
            current = Some((token.start, token.line));
        }
        blocks.feed(&token, lexer.bytes);
    }
    if let Some(from) = current {
        flush(&mut statements, from, sql.len());
    }
    Cut {
        statements,
        unterminated: lexer.unterminated,
    }
}

/// Whether `sql` holds at least one statement in some dialect (anything but
/// comments and whitespace).
pub fn has_statements(sql: &str) -> bool {
    SqlDialect::ALL
        .iter()
        .any(|&dialect| !split_statements(sql, 1, dialect).statements.is_empty())
}

/// Whether `sql`, read as `dialect` reads it, ends inside a line comment
/// (`-- …`, or `# …` on MySQL) that a `;` written right after it would be
/// part of. Asked of the text with the `;`: on MySQL a `--` at the very end
/// is a comment, but `--;` is not.
pub fn ends_in_line_comment(sql: &str, dialect: SqlDialect) -> bool {
    let ended = format!("{sql};");
    Lexer::new(&ended, 1, dialect)
        .last()
        .is_some_and(|token| token.kind == Kind::LineComment)
}

/// Whether `sql`, read as `dialect` reads it, holds a `;` outside strings,
/// quoted names and comments: a client that cuts at every such `;` (the
/// `mysql`/`mariadb` client) needs another delimiter to send it whole.
pub fn has_semicolon(sql: &str, dialect: SqlDialect) -> bool {
    Lexer::new(sql, 1, dialect).any(|token| token.kind == Kind::Punct(b';'))
}

/// Watches SQLite's reading of a text for anything PostgreSQL or MySQL could
/// read differently: a backslash in a quote, `#`, `$`, a backtick or `[`
/// quote, `--` before a non-space, a `/*` inside a comment, `/*!`, a `;`
/// inside parentheses, a trigger/function/procedure/event keyword, a statement
/// starting with a compound keyword or a label. When none occurs, every
/// dialect cuts the text exactly as SQLite does.
#[derive(Default)]
struct Watch {
    sensitive: bool,
    parens: u32,
    /// Code tokens of the current statement so far.
    index: u32,
}

impl Watch {
    fn token(&mut self, token: &Token, bytes: &[u8]) {
        if self.sensitive {
            return;
        }
        let text = &bytes[token.start..token.end];
        let hit = match token.kind {
            Kind::Space => false,
            Kind::LineComment => text.get(2).is_some_and(|&b| b > b' ' && b != 0x7f),
            Kind::BlockComment => {
                text.starts_with(b"/*!")
                    || text.starts_with(b"/*M!")
                    || text[2..].windows(2).any(|w| w == b"/*")
            }
            Kind::Quoted => text.contains(&b'\\') || matches!(text.first(), Some(b'`' | b'[')),
            Kind::Punct(b'#' | b'$') | Kind::Executable => true,
            Kind::Punct(b'(') => {
                self.parens = self.parens.saturating_add(1);
                false
            }
            Kind::Punct(b')') => {
                self.parens = self.parens.saturating_sub(1);
                false
            }
            Kind::Punct(b';') => {
                self.index = 0;
                // SQLite ends the statement here; PostgreSQL would not.
                self.parens > 0
            }
            Kind::Punct(b':') => self.index == 1,
            // PostgreSQL's `E'…'`.
            Kind::Word if matches!(text, b"E" | b"e") && bytes.get(token.end) == Some(&b'\'') => {
                true
            }
            Kind::Word => {
                (matches!(text.len(), 5 | 7..=9)
                    && ["TRIGGER", "FUNCTION", "PROCEDURE", "EVENT"]
                        .iter()
                        .any(|k| is(text, k)))
                    || (self.index == 0
                        && ["BEGIN", "IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"]
                            .iter()
                            .any(|k| is(text, k)))
            }
            Kind::Punct(_) => false,
        };
        if token.kind.is_code() && token.kind != Kind::Punct(b';') {
            self.index = self.index.saturating_add(1);
        }
        self.sensitive = hit;
    }
}

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Whitespace.
    Space,
    /// A `/* … */` comment.
    BlockComment,
    /// A `--` or `#` comment, up to (not including) the end of its line.
    LineComment,
    /// A word: keyword, identifier or number.
    Word,
    /// A string, quoted identifier or dollar-quoted body.
    Quoted,
    /// MySQL's `/*! … */`: a comment whose content runs.
    Executable,
    /// Any other ASCII character.
    Punct(u8),
}

impl Kind {
    fn is_code(self) -> bool {
        !matches!(self, Kind::Space | Kind::BlockComment | Kind::LineComment)
    }
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    /// Byte range in the text.
    start: usize,
    end: usize,
    /// Line of the token's first byte.
    line: u32,
}

/// Cuts the text into tokens, following `dialect`'s rules; records a
/// construct left open at the end.
struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    line: u32,
    dialect: SqlDialect,
    unterminated: Option<Unterminated>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str, first_line: u32, dialect: SqlDialect) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            at: 0,
            line: first_line,
            dialect,
            unterminated: None,
        }
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.at + offset).copied()
    }

    /// Moves to `end`, counting the lines on the way.
    fn advance_to(&mut self, end: usize) {
        let end = end.min(self.bytes.len());
        let mut newlines = 0u32;
        let mut i = self.at;
        while i < end {
            if self.bytes[i] == b'\n' {
                newlines = newlines.saturating_add(1);
            }
            i += 1;
        }
        self.line = self.line.saturating_add(newlines);
        self.at = end;
    }

    fn open_until_end(&mut self, line: u32, unclosed: Unclosed) {
        self.advance_to(self.bytes.len());
        self.unterminated = Some(Unterminated { line, unclosed });
    }

    fn next_token(&mut self) -> Option<Token> {
        let c = self.peek(0)?;
        let (start, line) = (self.at, self.line);
        let kind = match c {
            c if CLASS[usize::from(c)] & SPACE != 0 => {
                let mut i = start;
                while i < self.bytes.len() && CLASS[usize::from(self.bytes[i])] & SPACE != 0 {
                    if self.bytes[i] == b'\n' {
                        self.line = self.line.saturating_add(1);
                    }
                    i += 1;
                }
                self.at = i;
                Kind::Space
            }
            c if CLASS[usize::from(c)] & WORD_START != 0 => {
                let mut i = start + 1;
                while i < self.bytes.len() && CLASS[usize::from(self.bytes[i])] & WORD != 0 {
                    i += 1;
                }
                self.at = i;
                if self.dialect == SqlDialect::Postgres
                    && i == start + 1
                    && (c == b'E' || c == b'e')
                    && self.peek(0) == Some(b'\'')
                {
                    self.quoted(b'\'', true, line, Unclosed::EscapeString);
                    Kind::Quoted
                } else {
                    Kind::Word
                }
            }
            b'-' if self.peek(1) == Some(b'-') && self.dash_dash_comments() => {
                self.line_comment();
                Kind::LineComment
            }
            b'#' if self.dialect == SqlDialect::Mysql => {
                self.line_comment();
                Kind::LineComment
            }
            b'/' if self.peek(1) == Some(b'*') => {
                let executable = self.dialect == SqlDialect::Mysql
                    && (self.peek(2) == Some(b'!')
                        || (self.peek(2) == Some(b'M') && self.peek(3) == Some(b'!')));
                self.block_comment(line);
                if executable {
                    Kind::Executable
                } else {
                    Kind::BlockComment
                }
            }
            b'\'' => {
                let backslash = self.dialect == SqlDialect::Mysql;
                self.quoted(b'\'', backslash, line, Unclosed::Quote('\''));
                Kind::Quoted
            }
            b'"' => {
                let backslash = self.dialect == SqlDialect::Mysql;
                self.quoted(b'"', backslash, line, Unclosed::Quote('"'));
                Kind::Quoted
            }
            b'`' if self.dialect != SqlDialect::Postgres => {
                self.quoted(b'`', false, line, Unclosed::Quote('`'));
                Kind::Quoted
            }
            b'[' if self.dialect == SqlDialect::Sqlite => {
                match self.bytes[start + 1..].iter().position(|&b| b == b']') {
                    Some(n) => self.advance_to(start + n + 2),
                    None => self.open_until_end(line, Unclosed::Quote('[')),
                }
                Kind::Quoted
            }
            b'$' if self.dialect == SqlDialect::Postgres => match self.dollar_tag() {
                Some(tag_len) => {
                    let tag = &self.text[start..start + tag_len];
                    match self.text[start + tag_len..].find(tag) {
                        Some(n) => self.advance_to(start + tag_len + n + tag_len),
                        None => self.open_until_end(line, Unclosed::DollarQuote(tag.to_string())),
                    }
                    Kind::Quoted
                }
                None => {
                    self.at += 1;
                    Kind::Punct(c)
                }
            },
            _ => {
                self.at += 1;
                Kind::Punct(c)
            }
        };
        Some(Token {
            kind,
            start,
            end: self.at,
            line,
        })
    }

    /// Whether `--` at the cursor starts a comment: always, except on MySQL,
    /// where a space or control character (or the end) must follow.
    fn dash_dash_comments(&self) -> bool {
        self.dialect != SqlDialect::Mysql || self.peek(2).is_none_or(|b| b <= b' ' || b == 0x7f)
    }

    /// A line comment, up to (not including) its line's end.
    fn line_comment(&mut self) {
        let mut i = self.at;
        while i < self.bytes.len() && self.bytes[i] != b'\n' {
            i += 1;
        }
        self.at = i;
    }

    /// A `/* … */` comment at the cursor; nested on PostgreSQL.
    fn block_comment(&mut self, line: u32) {
        let nested = self.dialect == SqlDialect::Postgres;
        let mut depth = 0usize;
        let mut i = self.at;
        let bytes = self.bytes;
        while i < bytes.len() {
            match (bytes[i], bytes.get(i + 1)) {
                (b'/', Some(b'*')) if depth == 0 || nested => {
                    depth += 1;
                    i += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        self.advance_to(i);
                        return;
                    }
                }
                _ => i += 1,
            }
        }
        self.open_until_end(line, Unclosed::BlockComment);
    }

    /// A quoted string or name opening at the cursor with `quote`: a doubled
    /// quote stands for one; with `backslash`, a backslash escapes the next byte.
    fn quoted(&mut self, quote: u8, backslash: bool, line: u32, unclosed: Unclosed) {
        let bytes = self.bytes;
        let mut i = self.at + 1;
        while i < bytes.len() {
            let b = bytes[i];
            if b == quote {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                    continue;
                }
                self.advance_to(i + 1);
                return;
            }
            i += if b == b'\\' && backslash { 2 } else { 1 };
        }
        self.open_until_end(line, unclosed);
    }

    /// If a dollar-quote tag (`$$` or `$name$`) starts at the cursor, its length.
    fn dollar_tag(&self) -> Option<usize> {
        let mut j = 1;
        loop {
            match self.peek(j)? {
                b'$' => return Some(j + 1),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' | 0x80..=0xff => j += 1,
                b'0'..=b'9' if j > 1 => j += 1,
                _ => return None,
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.next_token()
    }
}

/// The block structure a dialect tracks to know whether a `;` ends the statement.
enum Blocks {
    Sqlite(SqliteBlocks),
    Postgres(PostgresBlocks),
    Mysql(MysqlBlocks),
}

impl Blocks {
    fn new(dialect: SqlDialect) -> Self {
        match dialect {
            SqlDialect::Sqlite => Blocks::Sqlite(SqliteBlocks::default()),
            SqlDialect::Postgres => Blocks::Postgres(PostgresBlocks::default()),
            SqlDialect::Mysql => Blocks::Mysql(MysqlBlocks::default()),
        }
    }

    /// Whether a `;` here ends the statement.
    fn at_top(&self) -> bool {
        match self {
            Blocks::Sqlite(b) => b.depth == 0,
            Blocks::Postgres(b) => b.depth == 0 && b.parens == 0,
            Blocks::Mysql(b) => b.stack.is_empty(),
        }
    }

    /// Forgets the statement that just ended.
    fn reset(&mut self) {
        match self {
            Blocks::Sqlite(b) => *b = SqliteBlocks::default(),
            Blocks::Postgres(b) => *b = PostgresBlocks::default(),
            Blocks::Mysql(b) => {
                let mut stack = std::mem::take(&mut b.stack);
                stack.clear();
                *b = MysqlBlocks {
                    stack,
                    ..MysqlBlocks::default()
                };
            }
        }
    }

    /// Takes in one code token of the statement.
    fn feed(&mut self, token: &Token, bytes: &[u8]) {
        let text = &bytes[token.start..token.end];
        match self {
            Blocks::Sqlite(b) => {
                if token.kind == Kind::Word {
                    b.word(text);
                }
            }
            Blocks::Postgres(b) => b.token(token.kind, text),
            Blocks::Mysql(b) => b.token(token.kind, text, bytes.get(token.end).copied()),
        }
    }
}

/// SQLite: `CREATE [TEMP|TEMPORARY] TRIGGER … BEGIN … END`, with `CASE … END`
/// inside (SQLite's parser cuts there; its `sqlite3_complete` agrees).
#[derive(Default)]
struct SqliteBlocks {
    words: u32,
    create: bool,
    temp: bool,
    trigger: bool,
    depth: u32,
}

impl SqliteBlocks {
    fn word(&mut self, word: &[u8]) {
        let n = self.words;
        self.words = self.words.saturating_add(1);
        match n {
            0 => self.create = is(word, "CREATE"),
            1 if self.create => {
                self.temp = is(word, "TEMP") || is(word, "TEMPORARY");
                self.trigger = is(word, "TRIGGER");
            }
            2 if self.temp => self.trigger = is(word, "TRIGGER"),
            _ if self.trigger => {
                if is(word, "BEGIN") || is(word, "CASE") {
                    self.depth = self.depth.saturating_add(1);
                } else if is(word, "END") {
                    self.depth = self.depth.saturating_sub(1);
                }
            }
            _ => {}
        }
    }
}

/// PostgreSQL, as psql cuts: parentheses, and in a statement that starts
/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, `BEGIN … END` outside parentheses
/// (SQL-standard bodies, `BEGIN ATOMIC`), with `CASE … END` inside them.
#[derive(Default)]
struct PostgresBlocks {
    /// Identifiers seen in the statement.
    words: usize,
    /// The first letter of each of the first four identifiers that is one of
    /// `create`, `or`, `replace`, `function`, `procedure` (psql's heuristic).
    head: [u8; 4],
    parens: u32,
    depth: u32,
}

impl PostgresBlocks {
    fn token(&mut self, kind: Kind, text: &[u8]) {
        match kind {
            Kind::Punct(b'(') => self.parens = self.parens.saturating_add(1),
            Kind::Punct(b')') => self.parens = self.parens.saturating_sub(1),
            Kind::Word if !text.first().is_some_and(u8::is_ascii_digit) => self.word(text),
            _ => {}
        }
    }

    fn word(&mut self, word: &[u8]) {
        if self.words < self.head.len()
            && ["CREATE", "OR", "REPLACE", "FUNCTION", "PROCEDURE"]
                .iter()
                .any(|k| is(word, k))
        {
            self.head[self.words] = word[0].to_ascii_lowercase();
        }
        self.words = self.words.saturating_add(1);
        let h = self.head;
        let routine = h[0] == b'c'
            && (h[1] == b'f'
                || h[1] == b'p'
                || (h[1] == b'o' && h[2] == b'r' && (h[3] == b'f' || h[3] == b'p')));
        if !routine || self.parens > 0 {
            return;
        }
        if is(word, "BEGIN") {
            self.depth = self.depth.saturating_add(1);
        } else if is(word, "CASE") {
            if self.depth >= 1 {
                self.depth = self.depth.saturating_add(1);
            }
        } else if is(word, "END") {
            self.depth = self.depth.saturating_sub(1);
        }
    }
}

/// A block open in a MySQL compound statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// `BEGIN … END`.
    Begin,
    /// `IF … END IF`.
    If,
    /// `CASE` as a statement (`… END CASE`): its branches hold statements.
    CaseStatement,
    /// `CASE` in an expression (`… END`): its branches hold expressions.
    CaseExpression,
    /// `LOOP … END LOOP`, `REPEAT … END REPEAT`.
    Loop,
    /// `WHILE … DO … END WHILE`, MariaDB's `FOR … DO … END FOR`.
    While,
}

/// What a MySQL statement is, as far as blocks go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum MysqlStatement {
    /// Nothing seen yet.
    #[default]
    Start,
    /// `CREATE`, then only words that do not decide (`OR REPLACE`, `DEFINER = …`).
    Create,
    /// `BEGIN`, then `n` words of `NOT ATOMIC` (MariaDB's anonymous block).
    Begin(u8),
    /// One word: a label if `:` follows (MariaDB's labelled compound statement).
    MaybeLabel,
    /// A trigger, procedure, function, event, or compound statement.
    Compound,
    /// Anything else: the first `;` ends it.
    Plain,
}

/// MySQL/MariaDB: the blocks of compound statements. The server parses them
/// with its full grammar; this follows it closely enough to find the `;` that
/// ends the statement: a block opener counts at the start of a statement inside
/// the body (after `;`, `BEGIN`, `THEN`, `ELSE`, `DO`, `LOOP`, `REPEAT`, a label,
/// or the routine's header), so `IF(…)`, `REPEAT(…)` and `IF [NOT] EXISTS` do
/// not open blocks; `CASE` always opens one; `END` closes one, and the
/// `IF`/`CASE`/`LOOP`/… after it is part of it.
#[derive(Default)]
struct MysqlBlocks {
    statement: MysqlStatement,
    stack: Vec<Block>,
    /// At the start of a statement of the body.
    start: bool,
    after_end: bool,
    after_follows: bool,
    parens: u32,
    /// The previous code token, for `DEFINER = user@host`.
    previous: Option<u8>,
}

impl MysqlBlocks {
    fn token(&mut self, kind: Kind, text: &[u8], next: Option<u8>) {
        let previous = self.previous.replace(match kind {
            Kind::Punct(c) => c,
            _ => b'w',
        });
        match self.statement {
            MysqlStatement::Start => {
                self.statement = if kind != Kind::Word {
                    MysqlStatement::Plain
                } else if is(text, "CREATE") {
                    MysqlStatement::Create
                } else if is(text, "BEGIN") {
                    MysqlStatement::Begin(0)
                } else if ["IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"]
                    .iter()
                    .any(|k| is(text, k))
                {
                    self.start = true;
                    self.compound(kind, text, next);
                    MysqlStatement::Compound
                } else {
                    MysqlStatement::MaybeLabel
                };
            }
            MysqlStatement::Create => {
                if kind != Kind::Word {
                    return;
                }
                let definer_part = matches!(previous, Some(b'=' | b'@' | b'.' | b'-'));
                let skip = ["OR", "REPLACE", "DEFINER", "AGGREGATE"]
                    .iter()
                    .any(|k| is(text, k));
                if definer_part || skip {
                    return;
                }
                self.statement = if ["TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"]
                    .iter()
                    .any(|k| is(text, k))
                {
                    MysqlStatement::Compound
                } else {
                    MysqlStatement::Plain
                };
            }
            MysqlStatement::Begin(n) => {
                let expected = if n == 0 { "NOT" } else { "ATOMIC" };
                self.statement = if kind == Kind::Word && is(text, expected) {
                    if n == 0 {
                        MysqlStatement::Begin(1)
                    } else {
                        self.stack.push(Block::Begin);
                        self.start = true;
                        MysqlStatement::Compound
                    }
                } else {
                    MysqlStatement::Plain
                };
            }
            MysqlStatement::MaybeLabel => {
                self.statement = if kind == Kind::Punct(b':') && next != Some(b'=') {
                    self.start = true;
                    MysqlStatement::Compound
                } else {
                    MysqlStatement::Plain
                };
            }
            MysqlStatement::Compound => self.compound(kind, text, next),
            MysqlStatement::Plain => {}
        }
    }

    fn compound(&mut self, kind: Kind, text: &[u8], next: Option<u8>) {
        let was_start = std::mem::take(&mut self.start);
        let top = self.stack.last().copied();
        let header = top.is_none();
        match kind {
            Kind::Word => {}
            Kind::Punct(b'(') => {
                self.parens = self.parens.saturating_add(1);
                return;
            }
            Kind::Punct(b')') => {
                self.parens = self.parens.saturating_sub(1);
                // The end of a procedure's parameters.
                self.start = header && self.parens == 0;
                return;
            }
            Kind::Punct(b';') => {
                self.start = true;
                return;
            }
            // A label: `name: BEGIN`, not `:=`.
            Kind::Punct(b':') => {
                self.start = next != Some(b'=');
                return;
            }
            // `COMMENT 'text'` in a routine's header.
            Kind::Quoted if text.first().is_some_and(|&q| q == b'\'' || q == b'"') => {
                self.start = header;
                return;
            }
            _ => return,
        }
        if std::mem::take(&mut self.after_end)
            && ["IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"]
                .iter()
                .any(|k| is(text, k))
        {
            return;
        }
        if std::mem::take(&mut self.after_follows) && header {
            // `FOLLOWS other_trigger`: the body comes next.
            self.start = true;
            return;
        }
        if is(text, "BEGIN") {
            if !(header && self.parens > 0) {
                self.stack.push(Block::Begin);
                self.start = true;
            }
        } else if is(text, "CASE") {
            self.stack.push(if was_start {
                Block::CaseStatement
            } else {
                Block::CaseExpression
            });
        } else if is(text, "IF") {
            if was_start {
                self.stack.push(Block::If);
            }
        } else if is(text, "WHILE") || is(text, "FOR") {
            if was_start {
                self.stack.push(Block::While);
            }
        } else if is(text, "LOOP") || is(text, "REPEAT") {
            if was_start {
                self.stack.push(Block::Loop);
                self.start = true;
            }
        } else if is(text, "END") {
            self.after_end = self.stack.pop().is_some();
        } else if is(text, "THEN") || is(text, "ELSE") {
            self.start = matches!(top, Some(Block::If | Block::CaseStatement));
        } else if is(text, "DO") {
            self.start = matches!(top, None | Some(Block::While));
        } else if ["ROW", "DETERMINISTIC", "SQL", "DATA", "INVOKER", "DEFINER"]
            .iter()
            .any(|k| is(text, k))
        {
            // The last words of a routine's header: the body comes next.
            self.start = header;
        } else if is(text, "FOLLOWS") || is(text, "PRECEDES") {
            self.after_follows = header;
        }
    }
}

/// Whether `word` is the keyword `keyword` (ASCII, any case).
fn is(word: &[u8], keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword.as_bytes())
}

/// [`CLASS`] bit: ASCII whitespace, what every dialect's lexer skips.
const SPACE: u8 = 1;
/// [`CLASS`] bit: starts a word (letters, digits, `_`, any non-ASCII byte).
const WORD_START: u8 = 2;
/// [`CLASS`] bit: continues a word (a word start, or `$`).
const WORD: u8 = 4;

/// The class bits of every byte: one lookup per byte keeps the lexer quick
/// even where the macro runs unoptimized.
const CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_whitespace() {
            class[b] = SPACE;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            class[b] = WORD_START | WORD;
        } else if c == b'$' {
            class[b] = WORD;
        }
        b += 1;
    }
    class
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(sql: &str, dialect: SqlDialect) -> Vec<(u32, String)> {
        split_statements(sql, 10, dialect)
            .statements
            .into_iter()
            .map(|s| (s.line, s.sql))
            .collect()
    }

    #[test]
    fn splits_on_semicolons_and_tracks_lines() {
        for dialect in SqlDialect::ALL {
            let got = texts(
                "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\nSELECT 1",
                dialect,
            );
            assert_eq!(
                got,
                vec![
                    (10, "CREATE TABLE a (id int)".to_string()),
                    (12, "INSERT INTO a VALUES (1)".to_string()),
                    (13, "SELECT 1".to_string()),
                ],
                "{dialect}"
            );
        }
    }

    #[test]
    fn a_backslash_escapes_a_quote_on_mysql_only() {
        let sql = "INSERT INTO t VALUES ('C:\\');\nSELECT 2;";
        assert_eq!(texts(sql, SqlDialect::Sqlite).len(), 2);
        assert_eq!(texts(sql, SqlDialect::Postgres).len(), 2);
        let mysql = split_statements(sql, 3, SqlDialect::Mysql);
        assert_eq!(mysql.statements.len(), 1);
        assert_eq!(
            mysql.unterminated,
            Some(Unterminated {
                line: 3,
                unclosed: Unclosed::Quote('\'')
            })
        );
        let e = "SELECT E'it\\'s;';\nSELECT 2;";
        assert_eq!(texts(e, SqlDialect::Postgres).len(), 2);
    }

    #[test]
    fn splits_differ_only_where_the_dialects_read_differently() {
        let plain = Splits::new("CREATE TABLE a (x int);\n-- note\nDROP TABLE a;\n", 4);
        assert!(plain.is_uniform());
        assert_eq!(plain.statements(SqlDialect::Mysql).len(), 2);
        let odd = Splits::new("SELECT 'C:\\';\n", 4);
        assert!(!odd.is_uniform());
        assert_eq!(odd.which(), [0, 0, 1]);
        assert!(odd.unterminated(SqlDialect::Mysql).is_some());
        assert!(odd.unterminated(SqlDialect::Sqlite).is_none());
        let rebuilt = Splits::from_parts(odd.distinct().to_vec(), odd.which());
        assert_eq!(rebuilt.as_ref(), Some(&odd));
        assert_eq!(Splits::from_parts(odd.distinct().to_vec(), [0, 2, 1]), None);
        assert_eq!(Splits::from_parts(odd.distinct().to_vec(), [0, 0, 0]), None);
        assert_eq!(Splits::from_parts(vec![Split::default()], [1, 0, 0]), None);
    }

    #[test]
    fn comments_only_is_empty() {
        assert!(!has_statements("-- nothing to do\n/* really */\n  \n"));
        assert!(has_statements("-- x\nSELECT 1"));
        // A `#` line is a comment on MySQL only.
        assert!(has_statements("# x\n"));
    }

    #[test]
    fn line_comments_and_semicolons_for_clients() {
        assert!(ends_in_line_comment(
            "SELECT 1 -- done",
            SqlDialect::Postgres
        ));
        assert!(!ends_in_line_comment(
            "SELECT '-- no'",
            SqlDialect::Postgres
        ));
        assert!(!ends_in_line_comment("SELECT 1 --1", SqlDialect::Mysql));
        assert!(ends_in_line_comment("SELECT 1 # done", SqlDialect::Mysql));
        // MySQL: `--` is a comment before a space or control character (or
        // at the end), not before the `;` that would end the statement.
        assert!(!ends_in_line_comment("SELECT 1 --", SqlDialect::Mysql));
        assert!(ends_in_line_comment("SELECT 1 --", SqlDialect::Postgres));
        assert!(!ends_in_line_comment("SELECT 1 # done", SqlDialect::Sqlite));
        assert!(has_semicolon("BEGIN SET x = 1; END", SqlDialect::Mysql));
        assert!(!has_semicolon("SELECT ';' -- ;", SqlDialect::Mysql));
    }

    #[test]
    fn unterminated_constructs_do_not_panic() {
        for sql in [
            "'abc",
            "\"abc",
            "/* abc",
            "$tag$ abc",
            "$",
            "$$",
            "a $1 b;",
            "--",
            "[x",
            "`x",
            "E'\\",
            "/* /* */",
            "'\\",
            "BEGIN NOT",
            "CREATE TRIGGER t BEGIN",
            "x:",
            "é'",
        ] {
            for dialect in SqlDialect::ALL {
                let _ = split_statements(sql, 1, dialect);
            }
        }
    }

    /// Pieces that exercise every branch of the lexer and the block trackers.
    fn sql_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(vec![
                "CREATE",
                "TRIGGER",
                "FUNCTION",
                "PROCEDURE",
                "EVENT",
                "OR",
                "REPLACE",
                "DEFINER",
                "TEMP",
                "BEGIN",
                "begin",
                "END",
                "end",
                "CASE",
                "IF",
                "THEN",
                "ELSE",
                "LOOP",
                "WHILE",
                "REPEAT",
                "FOR",
                "DO",
                "ROW",
                "NOT",
                "ATOMIC",
                "FOLLOWS",
                "x",
                "_a1",
                "9",
                "E",
                "$",
                "$$",
                "$tag$",
                "$t1$",
                "$1",
                ";",
                "'",
                "\"",
                "`",
                "[",
                "]",
                "\\",
                "--",
                "-- ",
                "#",
                "/*",
                "*/",
                "/*!",
                "\n",
                "\r\n",
                " ",
                "\t",
                "é",
                "\u{a0}",
                "-",
                "/",
                "*",
                "''",
                "END;",
                "a$b",
                "(",
                ")",
                ":",
                ":=",
                "=",
                "@",
            ])
            .prop_map(str::to_string),
            "[ -~\n]{0,6}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Cutting the statements out and ending each again with `;` as the
        /// offline scripts do (right after it, or on the next line after a
        /// line comment) gives the same statements: each one ends where the
        /// dialect is back at the top level. (Not always on its own line:
        /// MySQL reads a `--` before a newline as a comment, before `;` not.)
        #[test]
        fn statements_split_again_the_same(
            pieces in proptest::collection::vec(sql_piece(), 0..40),
            first_line in 1u32..50,
        ) {
            let sql = pieces.concat();
            for dialect in SqlDialect::ALL {
                let split = split_statements(&sql, first_line, dialect);
                if split.unterminated.is_some() {
                    continue;
                }
                let texts: Vec<&str> = split.statements.iter().map(|s| s.sql.as_str()).collect();
                let ended = |t: &str| {
                    if ends_in_line_comment(t, dialect) {
                        format!("{t}\n;")
                    } else {
                        format!("{t};")
                    }
                };
                // A statement that a `;` after it does not end (PostgreSQL:
                // inside an open parenthesis, as psql reads it) took in the
                // rest of its section: it is the last, and nothing follows it.
                if let Some(last) = texts.last() {
                    let alone = split_statements(&ended(last), 1, dialect);
                    if alone.statements.len() != 1 || alone.statements[0].sql != *last {
                        continue;
                    }
                }
                let joined = texts.iter().map(|t| ended(t)).collect::<Vec<_>>().join("\n");
                let again = split_statements(&joined, first_line, dialect);
                let again: Vec<&str> = again.statements.iter().map(|s| s.sql.as_str()).collect();
                prop_assert_eq!(&again, &texts, "{} {:?}", dialect, sql);
                for s in &split.statements {
                    prop_assert!(s.line >= first_line);
                    prop_assert!(sql.contains(&s.sql));
                }
            }
        }

        /// When SQLite's reading shows nothing another dialect reads its
        /// own way, each dialect's own split is indeed SQLite's.
        #[test]
        fn the_shortcut_to_one_split_is_sound(
            pieces in proptest::collection::vec(sql_piece(), 0..40),
        ) {
            let sql = pieces.concat();
            let mut watch = Watch::default();
            let sqlite = cut(&sql, 1, SqlDialect::Sqlite, Some(&mut watch));
            if !watch.sensitive {
                for dialect in [SqlDialect::Postgres, SqlDialect::Mysql] {
                    let other = cut(&sql, 1, dialect, None);
                    prop_assert!(other == sqlite, "{} {:?}", dialect, sql);
                }
            }
        }

        /// Text without anything a dialect reads its own way splits the
        /// same in all of them.
        #[test]
        fn plain_sql_splits_alike(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "SELECT", "x", "1", "'a;b'", "''", "\"c;d\"", ";", "-- e;\n", "/* f; */",
                " ", "\n", "CREATE", "TABLE", ",", "=", "é",
            ]), 0..40),
        ) {
            let sql = pieces.concat();
            let splits = Splits::new(&sql, 1);
            prop_assert!(splits.is_uniform(), "{:?} {:?}", sql, splits);
        }
    }
}
