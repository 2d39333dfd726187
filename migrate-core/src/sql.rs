//! Splitting a section of SQL into statements, each with the line it starts on.
//!
//! The runtime runs statements one by one so an error can name the statement, and
//! so MySQL/MariaDB progress can be recorded between them. The splitter knows
//! enough SQL to never cut inside a string, a quoted identifier, a comment, a
//! PostgreSQL dollar-quoted body, or a `CREATE TRIGGER … BEGIN … END` block.

/// One SQL statement of a section, without its terminating `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// 1-based line in the migration file where the statement starts.
    pub line: u32,
    /// The statement text, trimmed, comments inside it kept.
    pub sql: String,
}

/// Splits `sql` (which starts on line `first_line` of its file) into statements.
///
/// Text that holds only comments and whitespace produces no statement.
pub fn split_statements(sql: &str, first_line: u32) -> Vec<Statement> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = first_line;
    let mut start = 0;
    let mut start_line = first_line;
    // Whether the current statement has any code outside comments yet.
    let mut has_code = false;
    // Depth of BEGIN … END inside a CREATE TRIGGER statement.
    let mut block_depth = 0u32;
    let mut is_trigger = false;

    let flush = |out: &mut Vec<Statement>, from: usize, to: usize, at: u32| {
        let text = sql[from..to].trim();
        if !text.is_empty() {
            out.push(Statement {
                line: at,
                sql: text.to_string(),
            });
        }
    };

    while i < bytes.len() {
        let c = bytes[i];
        if is_word_byte(c) {
            // A whole word at once: no byte of it is special below, and a word
            // is looked at as soon as the byte after it is reached.
            if !has_code {
                has_code = true;
                start = i;
                start_line = line;
            }
            let word_start = i;
            i += 1;
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            keyword(&bytes[word_start..i], &mut is_trigger, &mut block_depth);
            continue;
        }
        if !has_code && !c.is_ascii_whitespace() && !starts_comment(bytes, i) {
            has_code = true;
            start = i;
            start_line = line;
        }
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |k| i + k);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
            }
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    if bytes[i] == c {
                        // A doubled quote is an escaped quote.
                        if bytes.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    if bytes[i] == b'\\' && c == b'\'' && i + 1 < bytes.len() {
                        // MySQL-style backslash escapes; harmless elsewhere for splitting.
                        if bytes[i + 1] == b'\n' {
                            line += 1;
                        }
                        i += 2;
                        continue;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
            }
            b'$' if i == 0 || !is_ident_byte(bytes[i - 1]) => {
                if let Some(tag_end) = dollar_tag(bytes, i) {
                    let tag = &bytes[i..=tag_end];
                    let mut j = tag_end + 1;
                    let mut found = None;
                    while j < bytes.len() {
                        if bytes[j] == b'$' && bytes[j..].starts_with(tag) {
                            found = Some(j);
                            break;
                        }
                        j += 1;
                    }
                    let end = found.map_or(bytes.len(), |j| j + tag.len());
                    line += count_newlines(&bytes[i..end]);
                    i = end;
                } else {
                    i += 1;
                }
            }
            b';' if block_depth == 0 => {
                if has_code {
                    flush(&mut out, start, i, start_line);
                }
                has_code = false;
                is_trigger = false;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if has_code {
        flush(&mut out, start, bytes.len(), start_line);
    }
    out
}

/// Whether `sql` holds at least one statement (anything but comments and whitespace).
pub fn has_statements(sql: &str) -> bool {
    !split_statements(sql, 1).is_empty()
}

/// Tracks `CREATE TRIGGER … BEGIN … END` nesting; `word` is part of a statement.
fn keyword(word: &[u8], is_trigger: &mut bool, depth: &mut u32) {
    if word.eq_ignore_ascii_case(b"TRIGGER") {
        *is_trigger = true;
    } else if *is_trigger
        && (word.eq_ignore_ascii_case(b"BEGIN") || word.eq_ignore_ascii_case(b"CASE"))
    {
        *depth += 1;
    } else if *is_trigger && word.eq_ignore_ascii_case(b"END") {
        *depth = depth.saturating_sub(1);
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

fn starts_comment(bytes: &[u8], i: usize) -> bool {
    matches!(
        (bytes[i], bytes.get(i + 1)),
        (b'-', Some(b'-')) | (b'/', Some(b'*'))
    )
}

/// If a dollar-quote tag (`$$` or `$name$`) starts at `i`, the index of its closing `$`.
fn dollar_tag(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'$' => return Some(j),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => j += 1,
            b'0'..=b'9' if j > i + 1 => j += 1,
            _ => return None,
        }
    }
    None
}

fn count_newlines(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.iter().filter(|&&b| b == b'\n').count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(sql: &str) -> Vec<(u32, String)> {
        split_statements(sql, 10)
            .into_iter()
            .map(|s| (s.line, s.sql))
            .collect()
    }

    #[test]
    fn splits_on_semicolons_and_tracks_lines() {
        let got = texts("CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\nSELECT 1");
        assert_eq!(
            got,
            vec![
                (10, "CREATE TABLE a (id int)".to_string()),
                (12, "INSERT INTO a VALUES (1)".to_string()),
                (13, "SELECT 1".to_string()),
            ]
        );
    }

    #[test]
    fn never_splits_inside_quotes_comments_or_dollar_bodies() {
        let sql = "INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`, 'it''s;');\n\
                   -- a comment; with a semicolon\n\
                   /* block; comment */ SELECT 1;\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   DO $$ BEGIN PERFORM 1; END $$;";
        let got = texts(sql);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert_eq!(
            got[0].1,
            "INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`, 'it''s;')"
        );
        assert_eq!(
            got[1].0, 12,
            "a statement starts at its first code, after comments"
        );
        assert!(got[2].1.ends_with("LANGUAGE sql"));
        assert_eq!(got[3].0, 14);
    }

    #[test]
    fn keeps_trigger_bodies_whole() {
        let sql = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE u SET n = n + 1;\n  UPDATE v SET n = CASE WHEN n > 0 THEN 1 ELSE 0 END;\nEND;\nSELECT 2;";
        let got = texts(sql);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].1.ends_with("END"));
        assert_eq!(got[1], (14, "SELECT 2".to_string()));
    }

    #[test]
    fn comments_only_is_empty() {
        assert!(!has_statements("-- nothing to do\n/* really */\n  \n"));
        assert!(has_statements("-- x\nSELECT 1"));
    }

    /// The splitter as it was before it skipped whole words at once: the
    /// statements (and their lines) must stay exactly the same.
    fn reference_split(sql: &str, first_line: u32) -> Vec<Statement> {
        let bytes = sql.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        let mut line = first_line;
        let mut start = 0;
        let mut start_line = first_line;
        // Whether the current statement has any code outside comments yet.
        let mut has_code = false;
        // Depth of BEGIN … END inside a CREATE TRIGGER statement.
        let mut block_depth = 0u32;
        let mut is_trigger = false;
        let mut word_start: Option<usize> = None;

        let flush = |out: &mut Vec<Statement>, from: usize, to: usize, at: u32| {
            let text = sql[from..to].trim();
            if !text.is_empty() {
                out.push(Statement {
                    line: at,
                    sql: text.to_string(),
                });
            }
        };

        while i < bytes.len() {
            let c = bytes[i];
            // Track words for CREATE TRIGGER / BEGIN / END detection.
            if c.is_ascii_alphanumeric() || c == b'_' {
                if word_start.is_none() {
                    word_start = Some(i);
                }
            } else if let Some(ws) = word_start.take() {
                reference_keyword(&sql[ws..i], &mut is_trigger, &mut block_depth, has_code);
            }
            if !has_code && !c.is_ascii_whitespace() && !starts_comment(bytes, i) {
                has_code = true;
                start = i;
                start_line = line;
            }
            match c {
                b'\n' => {
                    line += 1;
                    i += 1;
                }
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/'))
                    {
                        if bytes[i] == b'\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                    i = (i + 2).min(bytes.len());
                }
                b'\'' | b'"' | b'`' => {
                    i += 1;
                    while i < bytes.len() {
                        if bytes[i] == b'\n' {
                            line += 1;
                        }
                        if bytes[i] == c {
                            // A doubled quote is an escaped quote.
                            if bytes.get(i + 1) == Some(&c) {
                                i += 2;
                                continue;
                            }
                            break;
                        }
                        if bytes[i] == b'\\' && c == b'\'' && i + 1 < bytes.len() {
                            // MySQL-style backslash escapes; harmless elsewhere for splitting.
                            if bytes[i + 1] == b'\n' {
                                line += 1;
                            }
                            i += 2;
                            continue;
                        }
                        i += 1;
                    }
                    i = (i + 1).min(bytes.len());
                }
                b'$' if i == 0 || !is_ident_byte(bytes[i - 1]) => {
                    if let Some(tag_end) = dollar_tag(bytes, i) {
                        let tag = &bytes[i..=tag_end];
                        let mut j = tag_end + 1;
                        let mut found = None;
                        while j < bytes.len() {
                            if bytes[j] == b'$' && bytes[j..].starts_with(tag) {
                                found = Some(j);
                                break;
                            }
                            j += 1;
                        }
                        let end = found.map_or(bytes.len(), |j| j + tag.len());
                        line += count_newlines(&bytes[i..end]);
                        i = end;
                    } else {
                        i += 1;
                    }
                }
                b';' if block_depth == 0 => {
                    if has_code {
                        flush(&mut out, start, i, start_line);
                    }
                    has_code = false;
                    is_trigger = false;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        if let Some(ws) = word_start {
            reference_keyword(&sql[ws..], &mut is_trigger, &mut block_depth, has_code);
        }
        if has_code {
            flush(&mut out, start, bytes.len(), start_line);
        }
        out
    }
    fn reference_keyword(word: &str, is_trigger: &mut bool, depth: &mut u32, has_code: bool) {
        if !has_code {
            return;
        }
        if word.eq_ignore_ascii_case("TRIGGER") {
            *is_trigger = true;
        } else if *is_trigger
            && (word.eq_ignore_ascii_case("BEGIN") || word.eq_ignore_ascii_case("CASE"))
        {
            *depth += 1;
        } else if *is_trigger && word.eq_ignore_ascii_case("END") {
            *depth = depth.saturating_sub(1);
        }
    }

    /// Pieces that exercise every branch of the splitter when glued together.
    fn sql_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(vec![
                "CREATE", "TRIGGER", "trigger", "BEGIN", "begin", "END", "end", "CASE", "x", "_a1",
                "9", "$", "$$", "$tag$", "$t1$", "$1", ";", "'", "\"", "`", "\\", "--", "/*", "*/",
                "\n", "\r\n", " ", "\t", "é", "\u{a0}", "-", "/", "*", "''", "END;", "a$b", "(",
                ")",
            ])
            .prop_map(str::to_string),
            "[ -~\n]{0,6}",
        ]
    }

    proptest::proptest! {
        #[test]
        fn same_statements_as_the_byte_by_byte_splitter(
            pieces in proptest::collection::vec(sql_piece(), 0..40),
            first_line in 1u32..50,
        ) {
            let sql = pieces.concat();
            proptest::prop_assert_eq!(
                split_statements(&sql, first_line),
                reference_split(&sql, first_line)
            );
        }
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
        ] {
            let _ = split_statements(sql, 1);
        }
    }
}
