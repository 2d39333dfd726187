//! A static reader for Alembic revision modules: the module docstring, module-level
//! literal assignments (`revision = "ae10"`, `down_revision: Union[...] = ("a", "b")`)
//! and whether a top-level function's body does anything.
//!
//! No Python runs. The reader knows exactly as much of Python's lexical grammar as
//! these files need: strings of every form (prefixes, triple quotes, escapes),
//! comments, brackets spanning lines, backslash continuations, and indentation. A
//! value it cannot read as a literal (a variable, a call, an f-string) is an error
//! that says so, never a guess.

use std::fmt;

/// A literal value assigned at module level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `None`.
    None,
    /// A string literal (adjacent literals already concatenated).
    Str(String),
    /// A tuple, `(…)` or a bare `a, b`.
    Tuple(Vec<Value>),
    /// A list, `[…]`.
    List(Vec<Value>),
}

impl Value {
    /// The value as Alembic reads an id list (`None`, a string, or a tuple/list of
    /// strings); `Err` says what was found instead.
    pub fn as_id_list(&self) -> Result<Vec<String>, String> {
        match self {
            Value::None => Ok(Vec::new()),
            Value::Str(s) => Ok(vec![s.clone()]),
            Value::Tuple(items) | Value::List(items) => items
                .iter()
                .map(|item| match item {
                    Value::Str(s) => Ok(s.clone()),
                    other => Err(format!("a {} inside the sequence", other.kind())),
                })
                .collect(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Str(_) => "string",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
        }
    }
}

/// What a top-level function's body does, as far as a static reader can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Only a docstring, `pass`, `...` or comments: the function does nothing.
    Empty,
    /// Its first real statement is `raise …` (e.g. `raise NotImplementedError`).
    Raises,
    /// Anything else: only running it tells what SQL it emits.
    Code,
}

/// A module-level assignment the reader was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// 1-based line of the assignment.
    pub line: u32,
    /// The literal value, or why it could not be read.
    pub value: Result<Value, String>,
}

/// What the reader found in one module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Module {
    /// The module docstring, if the first statement is a string literal.
    pub docstring: Option<String>,
    /// Module-level assignments to the requested names, last one wins (as in Python).
    pub assignments: Vec<(String, Assignment)>,
    /// Top-level `def`s: name, line, and what the body does.
    pub functions: Vec<(String, u32, Body)>,
}

impl Module {
    /// The last module-level assignment to `name`.
    pub fn get(&self, name: &str) -> Option<&Assignment> {
        self.assignments
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
    }

    /// The top-level function `name`: its line and what its body does.
    pub fn function(&self, name: &str) -> Option<(u32, Body)> {
        self.functions
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, line, body)| (*line, *body))
    }
}

/// A lexical error: the file is not Python the reader can follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads `source`, collecting the docstring, the module-level assignments to
/// `names`, and every top-level function.
pub fn read_module(source: &str, names: &[&str]) -> Result<Module, SyntaxError> {
    let lines = logical_lines(source)?;
    let mut module = Module::default();
    let mut first_statement = true;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        if line.indent > 0 {
            // Indented lines are only ever reached inside a block we skip below; a
            // stray one (e.g. after a decorator we ignore) is not module level.
            i += 1;
            continue;
        }
        if first_statement {
            first_statement = false;
            if let Some(doc) = lone_string(&line.tokens) {
                module.docstring = Some(doc);
                i += 1;
                continue;
            }
        }
        // A block header (`def`, `class`, `if`, …) owns the indented lines after it.
        let block_end = lines[i + 1..]
            .iter()
            .position(|l| l.indent == 0)
            .map_or(lines.len(), |p| i + 1 + p);
        match line.tokens.as_slice() {
            [Tok::Name(kw), Tok::Name(fname), ..] if kw == "def" => {
                let body = function_body(&line.tokens, &lines[i + 1..block_end]);
                module.functions.push((fname.clone(), line.line, body));
            }
            [Tok::Name(kw1), Tok::Name(kw2), Tok::Name(fname), ..]
                if kw1 == "async" && kw2 == "def" =>
            {
                let body = function_body(&line.tokens[1..], &lines[i + 1..block_end]);
                module.functions.push((fname.clone(), line.line, body));
            }
            [Tok::Name(name), rest @ ..] if names.contains(&name.as_str()) => {
                if let Some(value) = assignment_value(rest) {
                    module.assignments.push((
                        name.clone(),
                        Assignment {
                            line: line.line,
                            value,
                        },
                    ));
                }
            }
            _ => {}
        }
        i = block_end;
    }
    Ok(module)
}

/// The value of `name = …` or `name: annotation = …`, given the tokens after the
/// name; `None` when the statement is not a plain assignment (e.g. `name += 1`).
fn assignment_value(rest: &[Tok]) -> Option<Result<Value, String>> {
    let after_eq = match rest.first() {
        Some(Tok::Op(op)) if op == "=" => &rest[1..],
        Some(Tok::Op(op)) if op == ":" => {
            let mut depth = 0i32;
            let eq = rest.iter().enumerate().skip(1).find_map(|(k, t)| {
                match t {
                    Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
                    Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => depth -= 1,
                    Tok::Op(o) if o == "=" && depth == 0 => return Some(k),
                    _ => {}
                }
                None
            })?;
            &rest[eq + 1..]
        }
        _ => return None,
    };
    if after_eq
        .iter()
        .any(|t| matches!(t, Tok::Op(o) if o == "=" || o == ";"))
    {
        return Some(Err(
            "a chained assignment or several statements on one line".to_string(),
        ));
    }
    let mut parser = ValueParser {
        toks: after_eq,
        pos: 0,
    };
    Some(parser.top())
}

struct ValueParser<'a> {
    toks: &'a [Tok],
    pos: usize,
}

impl ValueParser<'_> {
    fn top(&mut self) -> Result<Value, String> {
        let first = self.atom()?;
        if self.at_op(",") {
            // A bare tuple: `a, b` or `a,`.
            let mut items = vec![first];
            while self.at_op(",") {
                self.pos += 1;
                if self.pos == self.toks.len() {
                    break;
                }
                items.push(self.atom()?);
            }
            self.end()?;
            return Ok(Value::Tuple(items));
        }
        self.end()?;
        Ok(first)
    }

    fn end(&self) -> Result<(), String> {
        match self.toks.get(self.pos) {
            None => Ok(()),
            Some(t) => Err(format!("`{t}` after the value")),
        }
    }

    fn at_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Op(o)) if o == op)
    }

    fn atom(&mut self) -> Result<Value, String> {
        match self.toks.get(self.pos) {
            Some(Tok::Name(n)) if n == "None" => {
                self.pos += 1;
                Ok(Value::None)
            }
            Some(Tok::Str(_)) => {
                let mut text = String::new();
                while let Some(Tok::Str(s)) = self.toks.get(self.pos) {
                    match s {
                        StrLit::Text(t) => text.push_str(t),
                        StrLit::Bytes => return Err("a bytes literal".to_string()),
                        StrLit::Formatted => return Err("an f-string".to_string()),
                    }
                    self.pos += 1;
                }
                Ok(Value::Str(text))
            }
            Some(Tok::Op(o)) if o == "(" || o == "[" => {
                let close = if o == "(" { ")" } else { "]" };
                let is_list = o == "[";
                self.pos += 1;
                let mut items = Vec::new();
                let mut saw_comma = false;
                loop {
                    if self.at_op(close) {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.atom()?);
                    if self.at_op(",") {
                        saw_comma = true;
                        self.pos += 1;
                    } else if !self.at_op(close) {
                        return Err(match self.toks.get(self.pos) {
                            Some(t) => format!("`{t}` inside the brackets"),
                            None => "an unclosed bracket".to_string(),
                        });
                    }
                }
                Ok(match (is_list, items.len(), saw_comma) {
                    (true, _, _) => Value::List(items),
                    // `("a")` is just a parenthesized string.
                    (false, 1, false) => items.pop().unwrap_or(Value::None),
                    _ => Value::Tuple(items),
                })
            }
            Some(t) => Err(format!("`{t}`, which is not a literal")),
            None => Err("nothing".to_string()),
        }
    }
}

/// Classifies a function body: the tokens after the `def …:` header on its own
/// line (a one-line `def f(): pass`), then the indented lines.
fn function_body(header: &[Tok], block: &[LogicalLine]) -> Body {
    // The body on the header line starts after the last top-level `:`.
    let mut depth = 0i32;
    let mut colon = None;
    for (k, t) in header.iter().enumerate() {
        match t {
            Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
            Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => depth -= 1,
            Tok::Op(o) if o == ":" && depth == 0 => colon = Some(k),
            _ => {}
        }
    }
    let inline = colon.map_or(&[][..], |k| &header[k + 1..]);
    let statements = std::iter::once(inline)
        .chain(block.iter().map(|l| l.tokens.as_slice()))
        .flat_map(|toks| toks.split(|t| matches!(t, Tok::Op(o) if o == ";")))
        .filter(|toks| !toks.is_empty());
    for toks in statements {
        let trivial = lone_string(toks).is_some()
            || matches!(toks, [Tok::Name(n)] if n == "pass")
            || matches!(toks, [Tok::Op(o)] if o == "...")
            || matches!(toks, [Tok::Str(_), ..] if toks.iter().all(|t| matches!(t, Tok::Str(_))));
        if trivial {
            continue;
        }
        return match toks.first() {
            Some(Tok::Name(n)) if n == "raise" => Body::Raises,
            _ => Body::Code,
        };
    }
    Body::Empty
}

/// The text of a statement that is only string literals (a docstring).
fn lone_string(toks: &[Tok]) -> Option<String> {
    if toks.is_empty() {
        return None;
    }
    let mut out = String::new();
    for t in toks {
        match t {
            Tok::Str(StrLit::Text(s)) => out.push_str(s),
            _ => return None,
        }
    }
    Some(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum StrLit {
    Text(String),
    Bytes,
    Formatted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Name(String),
    Str(StrLit),
    /// Numbers and anything else that is neither a name nor a string.
    Other(String),
    Op(String),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Name(s) | Tok::Other(s) | Tok::Op(s) => f.write_str(s),
            Tok::Str(StrLit::Text(s)) => write!(f, "{s:?}"),
            Tok::Str(StrLit::Bytes) => f.write_str("b\"…\""),
            Tok::Str(StrLit::Formatted) => f.write_str("f\"…\""),
        }
    }
}

#[derive(Debug)]
struct LogicalLine {
    /// 1-based physical line where it starts.
    line: u32,
    /// Column of its first token.
    indent: usize,
    tokens: Vec<Tok>,
}

const OPERATORS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "@=", "**", "//", "<<", ">>",
];

/// Splits `source` into logical lines of tokens (comments and blank lines dropped).
fn logical_lines(source: &str) -> Result<Vec<LogicalLine>, SyntaxError> {
    let chars: Vec<char> = source.trim_start_matches('\u{feff}').chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line: u32 = 1;
    let mut depth: u32 = 0;
    let mut current: Option<LogicalLine> = None;
    let mut column = 0usize;
    let mut at_line_start = true;
    while i < chars.len() {
        let c = chars[i];
        if at_line_start && depth == 0 && current.is_none() {
            // Measure indentation of a new logical line.
            column = 0;
            while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
                column += if chars[i] == '\t' { 8 - column % 8 } else { 1 };
                i += 1;
            }
            at_line_start = false;
            continue;
        }
        match c {
            '\n' => {
                line += 1;
                i += 1;
                at_line_start = true;
                if depth == 0 {
                    if let Some(l) = current.take() {
                        out.push(l);
                    }
                }
            }
            '\r' | ' ' | '\t' | '\x0c' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' if chars.get(i + 1) == Some(&'\n')
                || (chars.get(i + 1) == Some(&'\r') && chars.get(i + 2) == Some(&'\n')) =>
            {
                // Line continuation: the logical line goes on.
                i += if chars[i + 1] == '\r' { 3 } else { 2 };
                line += 1;
            }
            _ => {
                let start_line = line;
                let tok = if let Some((tok, next, newlines)) = string_at(&chars, i, line)? {
                    i = next;
                    line += newlines;
                    tok
                } else if c.is_alphabetic() || c == '_' {
                    let s = i;
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                    Tok::Name(chars[s..i].iter().collect())
                } else if c.is_ascii_digit() {
                    let s = i;
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '.') {
                        i += 1;
                    }
                    Tok::Other(chars[s..i].iter().collect())
                } else {
                    let op = OPERATORS
                        .iter()
                        .find(|op| {
                            op.chars()
                                .enumerate()
                                .all(|(k, oc)| chars.get(i + k) == Some(&oc))
                        })
                        .map_or_else(|| c.to_string(), |op| (*op).to_string());
                    i += op.chars().count();
                    match op.as_str() {
                        "(" | "[" | "{" => depth += 1,
                        ")" | "]" | "}" => {
                            depth = depth.checked_sub(1).ok_or_else(|| SyntaxError {
                                line,
                                message: format!("unmatched `{op}`"),
                            })?;
                        }
                        _ => {}
                    }
                    Tok::Op(op)
                };
                current
                    .get_or_insert_with(|| LogicalLine {
                        line: start_line,
                        indent: column,
                        tokens: Vec::new(),
                    })
                    .tokens
                    .push(tok);
            }
        }
    }
    if depth > 0 {
        return Err(SyntaxError {
            line,
            message: "a bracket is never closed".to_string(),
        });
    }
    if let Some(l) = current.take() {
        out.push(l);
    }
    Ok(out)
}

/// If a string literal (with optional prefix) starts at `i`: the token, the index
/// after it and the number of newlines inside it.
fn string_at(
    chars: &[char],
    i: usize,
    line: u32,
) -> Result<Option<(Tok, usize, u32)>, SyntaxError> {
    let mut j = i;
    while j < chars.len() && j - i < 3 && chars[j].is_ascii_alphabetic() {
        j += 1;
    }
    let quote = match chars.get(j) {
        Some(&q @ ('\'' | '"')) => q,
        _ => return Ok(None),
    };
    let prefix: String = chars[i..j].iter().collect::<String>().to_ascii_lowercase();
    if !prefix
        .chars()
        .all(|p| matches!(p, 'r' | 'u' | 'b' | 'f' | 't'))
    {
        return Ok(None);
    }
    if j > i && i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return Ok(None);
    }
    let raw = prefix.contains('r');
    let triple = chars.get(j + 1) == Some(&quote) && chars.get(j + 2) == Some(&quote);
    let mut k = j + if triple { 3 } else { 1 };
    let mut text = String::new();
    let mut newlines = 0u32;
    loop {
        let Some(&c) = chars.get(k) else {
            return Err(SyntaxError {
                line,
                message: "a string literal is never closed".to_string(),
            });
        };
        if c == quote
            && (!triple || (chars.get(k + 1) == Some(&quote) && chars.get(k + 2) == Some(&quote)))
        {
            k += if triple { 3 } else { 1 };
            break;
        }
        if c == '\n' {
            if !triple {
                return Err(SyntaxError {
                    line,
                    message: "a string literal is never closed on its line".to_string(),
                });
            }
            newlines += 1;
        }
        if c == '\\' {
            let Some(&next) = chars.get(k + 1) else {
                k += 1;
                continue;
            };
            if next == '\n' {
                newlines += 1;
            }
            if raw {
                text.push('\\');
                text.push(next);
                k += 2;
                continue;
            }
            k += 2;
            match next {
                '\n' => {}
                '\\' => text.push('\\'),
                '\'' => text.push('\''),
                '"' => text.push('"'),
                'n' => text.push('\n'),
                't' => text.push('\t'),
                'r' => text.push('\r'),
                '0' => text.push('\0'),
                'a' => text.push('\x07'),
                'b' => text.push('\x08'),
                'f' => text.push('\x0c'),
                'v' => text.push('\x0b'),
                'x' | 'u' | 'U' => {
                    let len = match next {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = chars.iter().skip(k).take(len).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) if hex.len() == len => {
                            text.push(ch);
                            k += len;
                        }
                        _ => {
                            text.push('\\');
                            text.push(next);
                        }
                    }
                }
                other => {
                    text.push('\\');
                    text.push(other);
                }
            }
            continue;
        }
        text.push(c);
        k += 1;
    }
    let lit = if prefix.contains('b') {
        StrLit::Bytes
    } else if prefix.contains('f') || prefix.contains('t') {
        StrLit::Formatted
    } else {
        StrLit::Text(text)
    };
    Ok(Some((Tok::Str(lit), k, newlines)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const NAMES: &[&str] = &["revision", "down_revision", "branch_labels", "depends_on"];

    fn value(m: &Module, name: &str) -> Value {
        m.get(name).unwrap().value.clone().unwrap()
    }

    #[test]
    fn reads_alembic_template_with_annotations() {
        let src = r#""""merge heads

Revision ID: ddd4
Revises: bbb2, ccc3
Create Date: 2026-11-22 00:40:15.154912

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'ddd4'
down_revision: Union[str, Sequence[str], None] = ('bbb2', 'ccc3')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("x")
"#;
        let m = read_module(src, NAMES).unwrap();
        assert!(m.docstring.as_deref().unwrap().starts_with("merge heads\n"));
        assert_eq!(value(&m, "revision"), Value::Str("ddd4".into()));
        assert_eq!(
            value(&m, "down_revision"),
            Value::Tuple(vec![Value::Str("bbb2".into()), Value::Str("ccc3".into())])
        );
        assert_eq!(value(&m, "branch_labels"), Value::None);
        assert_eq!(m.get("revision").unwrap().line, 15);
        assert_eq!(m.function("upgrade").map(|f| f.1), Some(Body::Empty));
        assert_eq!(m.function("downgrade").map(|f| f.1), Some(Body::Code));
    }

    #[test]
    fn reads_every_literal_form() {
        let src = "revision = \"a\" 'b'  # implicit concatenation\n\
                   down_revision = (\n    'x',  # first\n    \"y\",\n)\n\
                   branch_labels = ['l1']\n\
                   depends_on = 'p', 'q'\n";
        let m = read_module(src, NAMES).unwrap();
        assert_eq!(value(&m, "revision"), Value::Str("ab".into()));
        assert_eq!(
            value(&m, "down_revision").as_id_list().unwrap(),
            vec!["x", "y"]
        );
        assert_eq!(
            value(&m, "branch_labels"),
            Value::List(vec![Value::Str("l1".into())])
        );
        assert_eq!(
            value(&m, "depends_on").as_id_list().unwrap(),
            vec!["p", "q"]
        );
        let m = read_module(
            "down_revision = ('a')\nbranch_labels = ('a',)\ndepends_on = ()\n",
            NAMES,
        )
        .unwrap();
        assert_eq!(value(&m, "down_revision"), Value::Str("a".into()));
        assert_eq!(
            value(&m, "branch_labels"),
            Value::Tuple(vec![Value::Str("a".into())])
        );
        assert_eq!(value(&m, "depends_on"), Value::Tuple(vec![]));
    }

    #[test]
    fn ignores_nested_assignments_and_keeps_the_last() {
        let src = "revision = 'old'\nrevision = 'new'\n\ndef f():\n    revision = 'inner'\n\nclass C:\n    down_revision = 'x'\n";
        let m = read_module(src, NAMES).unwrap();
        assert_eq!(value(&m, "revision"), Value::Str("new".into()));
        assert!(m.get("down_revision").is_none());
    }

    #[test]
    fn refuses_what_is_not_a_literal() {
        let m = read_module(
            "revision = make_id()\ndown_revision = f'{x}'\ndepends_on = OTHER\n",
            NAMES,
        )
        .unwrap();
        for name in ["revision", "down_revision", "depends_on"] {
            assert!(m.get(name).unwrap().value.is_err(), "{name}");
        }
        assert!(Value::Tuple(vec![Value::None]).as_id_list().is_err());
    }

    #[test]
    fn classifies_function_bodies() {
        let src = "def upgrade(): pass\n\ndef downgrade() -> None:\n    \"\"\"doc\"\"\"\n    # nothing\n    raise NotImplementedError('no way back')\n\ndef other(\n    a,\n    b,\n):\n    ...\n";
        let m = read_module(src, NAMES).unwrap();
        assert_eq!(m.function("upgrade").map(|f| f.1), Some(Body::Empty));
        assert_eq!(m.function("downgrade").map(|f| f.1), Some(Body::Raises));
        assert_eq!(m.function("other"), Some((8, Body::Empty)));
    }

    #[test]
    fn strings_keep_escapes_and_raw_text() {
        let m = read_module("revision = 'a\\'b\\x41'\ndown_revision = r'c\\d'\n", NAMES).unwrap();
        assert_eq!(value(&m, "revision"), Value::Str("a'bA".into()));
        assert_eq!(value(&m, "down_revision"), Value::Str("c\\d".into()));
    }

    #[test]
    fn hashes_and_brackets_inside_strings_are_text() {
        let src = "\"\"\"doc # not a comment (\n\"\"\"\nrevision = '#(['\n";
        let m = read_module(src, NAMES).unwrap();
        assert_eq!(m.docstring.as_deref(), Some("doc # not a comment (\n"));
        assert_eq!(value(&m, "revision"), Value::Str("#([".into()));
    }

    #[test]
    fn reports_unclosed_constructs() {
        assert!(read_module("revision = ('a'\n", NAMES).is_err());
        assert!(read_module("revision = 'a\n", NAMES).is_err());
        assert!(read_module("x = \"\"\"never closed\n", NAMES).is_err());
    }
}
