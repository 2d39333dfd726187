//! Keeping database passwords out of errors, `Debug` output, logs and the history table.
//!
//! The rule, for a `scheme://` URL: everything between the first `:` after
//! `//` and the **last** `@` of the whole string is the password, and so is
//! the value of every query parameter whose (percent-decoded) name contains
//! `pass` (`password`, `sslpassword`), up to the next `&`. That covers what
//! each driver reads as the password:
//!
//! - libpq ends the user info at the *first* `@` before any `/`, and reads
//!   `?` and `#` in it as ordinary characters (`postgres://u:a?b#c@h/db` has
//!   the password `a?b#c`);
//! - diesel's MySQL backend parses with the `url` crate (WHATWG): the user
//!   info ends at the *last* `@` of the authority, which ends at the first
//!   `/`, `?` or `#`.
//!
//! Where the drivers could read a password the user did not mean (a raw `@`
//! after that point: `postgres://u:p@ss@h/db` makes libpq connect to host
//! `ss@h`, and its message would quote `ss`), `ambiguity` refuses the URL
//! before any driver sees it; see [`crate::Database::connect`].
//!
//! [`redact_url`] applies the rule (and masks `password=` in libpq
//! `key=value` strings); [`Scrubber`] removes the password (raw and
//! percent-decoded) from any text a driver hands back.

use crate::dialect::Dialect;
use std::ops::Range;

/// What replaces a password.
pub const MASK: &str = "***";

/// `url` with every password replaced by [`MASK`]; host, port, user and database stay.
pub fn redact_url(url: &str) -> String {
    let ranges = match authority_start(url) {
        Some(start) => url_secret_ranges(url, start),
        None => key_value_secret_ranges(url),
    };
    replace_ranges(url, ranges)
}

/// Where the part after `scheme://` starts, if `url` begins with a scheme.
fn authority_start(url: &str) -> Option<usize> {
    let scheme_len =
        url.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))?;
    (scheme_len > 0
        && url.starts_with(|c: char| c.is_ascii_alphabetic())
        && url[scheme_len..].starts_with("://"))
    .then_some(scheme_len + 3)
}

/// The password ranges of a `scheme://` URL (see the module docs).
fn url_secret_ranges(url: &str, start: usize) -> Vec<Range<usize>> {
    let rest = &url[start..];
    let mut ranges = Vec::new();
    // A SQLite URL holds a path, whose `:` and `@` are the file's.
    let scheme = &url[..start - 3];
    if scheme.eq_ignore_ascii_case("sqlite") || scheme.eq_ignore_ascii_case("file") {
        return ranges;
    }
    if let Some(last_at) = rest.rfind('@') {
        if let Some(colon) = rest[..last_at].find(':') {
            ranges.push(start + colon + 1..start + last_at);
        }
    }
    // Any `?` or `&` may start a parameter: a password may hold a raw `?`.
    for (i, c) in rest.char_indices() {
        if c == '?' || c == '&' {
            if let Some(value) = pass_parameter(rest, i + 1) {
                ranges.push(start + value.start..start + value.end);
            }
        }
    }
    ranges
}

/// The value range of a `name=value` parameter starting at `from`, when its
/// percent-decoded name contains `pass`; the value ends at the next `&`.
fn pass_parameter(rest: &str, from: usize) -> Option<Range<usize>> {
    let tail = &rest[from..];
    let eq = tail.find(['=', '&'])?;
    if !tail[eq..].starts_with('=') {
        return None;
    }
    let name = percent_decode(&tail[..eq]).to_ascii_lowercase();
    if !name.contains("pass") {
        return None;
    }
    // The value runs to the next `&` that starts a `name=value` pair: a
    // piece without `=` is no parameter (libpq refuses it, quoting it), so
    // it is taken for more of the password, which held a raw `&`.
    let value_start = from + eq + 1;
    let mut value_end = value_start;
    loop {
        match rest[value_end..].find('&') {
            None => break Some(value_start..rest.len()),
            Some(i) => {
                let amp = value_end + i;
                let next = &rest[amp + 1..];
                let piece = &next[..next.find('&').unwrap_or(next.len())];
                if piece.contains('=') {
                    break Some(value_start..amp);
                }
                value_end = amp + 1;
            }
        }
    }
}

/// The value ranges of `password=` (any key containing `pass`) in libpq
/// `key=value` text: spaces may surround `=`; a value is `'quoted'` (with
/// backslash escapes) or runs to the next whitespace.
fn key_value_secret_ranges(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    for start in 0..bytes.len() {
        let at_boundary = start == 0
            || matches!(
                bytes[start - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'?' | b'(' | b',' | b'"' | b'\''
            );
        if !at_boundary || !(bytes[start].is_ascii_alphabetic() || bytes[start] == b'_') {
            continue;
        }
        let mut i = start;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if !text[start..i].to_ascii_lowercase().contains("pass") {
            continue;
        }
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        let value_start = i;
        if let Some(&quote @ (b'\'' | b'"')) = bytes.get(i) {
            i += 1;
            while i < bytes.len() && bytes[i] != quote {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = i.min(bytes.len());
        }
        ranges.push(value_start..i);
    }
    ranges
}

/// `text` with the (possibly overlapping) byte ranges replaced by [`MASK`].
fn replace_ranges(text: &str, mut ranges: Vec<Range<usize>>) -> String {
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for range in ranges {
        let range = floor_char_boundary(text, range.start)..ceil_char_boundary(text, range.end);
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for range in merged {
        out.push_str(&text[at..range.start]);
        out.push_str(MASK);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Why `url` (with its scheme already in lower case) must not reach
/// `dialect`'s driver: a driver would read a password other than the one
/// between `user:` and the last `@`, and could quote a piece of it in a
/// message. The reason never contains any part of the URL.
pub(crate) fn ambiguity(dialect: Dialect, url: &str) -> Option<&'static str> {
    let start = authority_start(url)?;
    let rest = &url[start..];
    if rest.chars().any(|c| c.is_ascii_control()) {
        return Some(
            "the URL contains a control character (a tab or a line break); percent-encode it",
        );
    }
    match dialect {
        Dialect::Sqlite => None,
        Dialect::Postgres => {
            // libpq: the user info ends at the first `@` before any `/`.
            if let Some(problem) = libpq_percent_problem(rest) {
                return Some(problem);
            }
            let after_userinfo = match rest.find(['@', '/']) {
                Some(at) if rest[at..].starts_with('@') => at + 1,
                _ => 0,
            };
            if rest[after_userinfo..].contains('@') {
                return Some(
                    "PostgreSQL would not read this URL's `@` as the end of the user name and password; \
                     percent-encode `@` as %40 and `/` as %2F in the user name, password, database name and parameters",
                );
            }
            // libpq refuses a parameter without `=`, quoting it: a piece of
            // a `password=` value that held a raw `&`.
            let query = rest[after_userinfo..]
                .split_once('?')
                .map_or("", |(_, query)| query);
            let mut pieces: Vec<&str> = query.split('&').collect();
            if pieces.last() == Some(&"") {
                pieces.pop();
            }
            (!query.is_empty() && pieces.iter().any(|piece| !piece.contains('='))).then_some(
                "a parameter of this URL has no `=`; percent-encode `&` as %26 in a `password=` value",
            )
        }
        Dialect::Mysql => {
            // The `url` crate: the authority ends at the first `/`, `?` or `#`.
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            rest[authority_end..].contains('@').then_some(
                "MySQL would not read this URL's last `@` as the end of the user name and password; \
                 percent-encode `/` as %2F, `?` as %3F and `#` as %23 in the user name and password (and `@` after the host as %40)",
            )
        }
    }
}

/// libpq refuses a `%` not followed by two hex digits, and `%00`, quoting
/// the whole piece (the password, say) in its message: refuse first.
fn libpq_percent_problem(rest: &str) -> Option<&'static str> {
    let bytes = rest.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'%' {
            continue;
        }
        match (bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(&hi), Some(&lo)) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                if hi == b'0' && lo == b'0' {
                    return Some("`%00` is not allowed in a PostgreSQL URL");
                }
            }
            _ => return Some(
                "a `%` in the URL is not followed by two hex digits; write a literal `%` as %25",
            ),
        }
    }
    None
}

/// The password found in a connection URL, in every spelling a driver might echo.
pub(crate) fn passwords_in(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    match authority_start(url) {
        Some(start) => {
            for range in url_secret_ranges(url, start) {
                found.push(url[range].to_string());
            }
            let rest = &url[start..];
            // libpq's reading: the user info ends at the first `@` before a `/`.
            if let Some(at) = rest
                .find(['@', '/'])
                .filter(|&at| rest[at..].starts_with('@'))
            {
                if let Some(colon) = rest[..at].find(':') {
                    found.push(rest[colon + 1..at].to_string());
                }
            }
            // The `url` crate's: the last `@` of the authority.
            let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
            if let Some(at) = authority.rfind('@') {
                if let Some(colon) = authority[..at].find(':') {
                    found.push(authority[colon + 1..at].to_string());
                }
            }
        }
        None => {
            for range in key_value_secret_ranges(url) {
                let value = &url[range];
                found.push(value.to_string());
                let unquoted = value.trim_matches(['\'', '"']);
                found.push(unquoted.to_string());
                found.push(
                    unquoted
                        .replace("\\\\", "\u{0}")
                        .replace('\\', "")
                        .replace('\u{0}', "\\"),
                );
            }
        }
    }
    // The pieces between the characters a driver splits at: were a driver
    // to read the URL otherwise, it would quote pieces (a host `ss@h`).
    // `ambiguity` keeps such URLs from the drivers; this is a second line,
    // for pieces long enough not to be ordinary words.
    let pieces: Vec<String> = found
        .iter()
        .flat_map(|p| p.split(['@', '/', '?', '#', ':', '&']))
        .filter(|piece| piece.chars().count() >= 6)
        .map(str::to_string)
        .collect();
    found.extend(pieces);
    let mut all = Vec::new();
    for p in found {
        let decoded = percent_decode(&p);
        if decoded != p {
            all.push(decoded);
        }
        all.push(p);
    }
    // Very short passwords would mask ordinary words; they are still never printed
    // by us (URLs are always redacted), only not searched for in driver text.
    all.retain(|p| p.chars().count() >= 3);
    all.sort_by_key(|p| std::cmp::Reverse(p.len()));
    all.dedup();
    all
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Removes known secrets from text before it reaches an error, a log or a table.
#[derive(Clone, Default)]
pub struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    /// A scrubber for the passwords in `url`.
    pub fn for_url(url: &str) -> Scrubber {
        Scrubber {
            secrets: passwords_in(url),
        }
    }

    /// `text` with every secret replaced by [`MASK`] and URLs redacted.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        if out.contains("://") || out.to_ascii_lowercase().contains("pass") {
            out = redact_url_like(&out);
        }
        out
    }
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} secrets)", self.secrets.len())
    }
}

/// Redacts every URL-looking word of a longer text, and `password=` values.
fn redact_url_like(text: &str) -> String {
    let words: String = text
        .split_inclusive(char::is_whitespace)
        .map(|word| match word.find("://") {
            Some(at) => {
                // The URL starts at its scheme, after any quote or bracket.
                let scheme_start = word[..at]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
                    .map_or(0, |i| i + 1);
                format!(
                    "{}{}",
                    &word[..scheme_start],
                    redact_url(&word[scheme_start..])
                )
            }
            None => word.to_string(),
        })
        .collect();
    replace_ranges(&words, key_value_secret_ranges(&words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_only() {
        assert_eq!(
            redact_url("postgres://app:s3cr%40t@db.example:5432/prod?sslmode=require"),
            "postgres://app:***@db.example:5432/prod?sslmode=require"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1:3306/test"),
            "mysql://root@127.0.0.1:3306/test"
        );
        assert_eq!(
            redact_url("postgres://h/db?user=a&password=xyz&sslmode=disable"),
            "postgres://h/db?user=a&password=***&sslmode=disable"
        );
        assert_eq!(
            redact_url("host=localhost password='a b' dbname=x"),
            "host=localhost password=*** dbname=x"
        );
        assert_eq!(
            redact_url("host=localhost password = a\\ b dbname=x"),
            "host=localhost password = *** dbname=x"
        );
        assert_eq!(redact_url("/tmp/app.db"), "/tmp/app.db");
        assert_eq!(redact_url("sqlite://app.db"), "sqlite://app.db");
        assert_eq!(
            redact_url("SQLite:///srv/a:b@c.db"),
            "SQLite:///srv/a:b@c.db"
        );
    }

    /// Passwords with every special character, raw: what libpq and the `url`
    /// crate read as the password, and what the user meant, are all masked.
    #[test]
    fn raw_special_characters_stay_inside_the_mask() {
        for (url, shown) in [
            ("postgres://u:Ka?Kb#Kc@h/db", "postgres://u:***@h/db"),
            ("mysql://u:Ka#Kb@h/db", "mysql://u:***@h/db"),
            ("postgres://u:Ka@Kb@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u:Ka/Kb@h/db", "postgres://u:***@h/db"),
            ("mariadb://u:Ka/Kb?Kc#Kd@h/db", "mariadb://u:***@h/db"),
            (
                "postgres://u:Ka:Kb Kc'Kd\"Ke\\Kfé@h/db",
                "postgres://u:***@h/db",
            ),
            ("postgres://u:Ka%Kb@h/db", "postgres://u:***@h/db"),
            (
                "postgres://u@h/db?pass%77ord=Ka#Kb Kc?Kd&sslmode=disable",
                "postgres://u@h/db?pass%77ord=***&sslmode=disable",
            ),
            (
                "postgres://h/db?sslpassword=Ka@Kb",
                "postgres://h/db?sslpassword=***",
            ),
            ("postgres://u:Ka@h/db?x=Kb@c", "postgres://u:***@c"),
        ] {
            let redacted = redact_url(url);
            assert_eq!(redacted, shown, "{url}");
            assert!(!redacted.contains('K'), "{url} -> {redacted}");
        }
    }

    #[test]
    fn ambiguous_urls_are_refused_per_driver() {
        let pg = |url: &str| ambiguity(Dialect::Postgres, url);
        let my = |url: &str| ambiguity(Dialect::Mysql, url);
        // libpq reads these as meant.
        assert_eq!(pg("postgres://u:a?b#c@h/db"), None);
        assert_eq!(pg("postgres://u:a:b c'd\"e\\fé@h/db"), None);
        assert_eq!(
            pg("postgres://u:p%40s%2Fs%25@h,h2:5433/db?sslmode=disable"),
            None
        );
        assert_eq!(pg("postgres://[::1]:5432/db"), None);
        assert_eq!(pg("postgres://u@/db?host=/tmp"), None);
        // libpq would take `p` as the password, or `u` as the host.
        assert!(pg("postgres://u:p@ss@h/db").is_some());
        assert!(pg("postgres://u:ab/cd@h/db").is_some());
        assert!(pg("postgres://h/db?password=a@b").is_some());
        assert!(pg("postgres://h/db?password=a&b&sslmode=disable").is_some());
        assert_eq!(pg("postgres://h/db?password=a%26b&sslmode=disable&"), None);
        assert!(pg("postgres://u:a%zz@h/db").is_some());
        assert!(pg("postgres://u:a%00@h/db").is_some());
        assert!(pg("postgres://u:a\tb@h/db").is_some());
        // The `url` crate takes the last `@` of the authority.
        assert_eq!(my("mysql://u:p@ss@h/db"), None);
        assert_eq!(my("mysql://u:a:b c'd\"e\\fé%zz@h:3306/db"), None);
        assert!(my("mysql://u:a#b@h/db").is_some());
        assert!(my("mysql://u:a?b@h/db").is_some());
        assert!(my("mysql://u:1/x@h").is_some());
        assert_eq!(ambiguity(Dialect::Sqlite, "sqlite://a@b/c@d.db"), None);
        for reason in [pg("postgres://u:Ka@Kb@h/db"), my("mysql://u:Ka#Kb@h/db")] {
            assert!(reason.is_some_and(|r| !r.contains("Ka") && !r.contains("Kb")));
        }
    }

    #[test]
    fn scrubber_removes_raw_and_decoded_passwords() {
        let s = Scrubber::for_url("postgres://app:MARK%2Fer@h/db");
        let text =
            s.scrub("auth failed for MARK/er and MARK%2Fer at postgres://app:MARK%2Fer@h/db");
        assert!(!text.contains("MARK"), "{text}");
        assert!(text.contains("h/db"));
    }

    #[test]
    fn scrubber_knows_every_reading_of_the_password() {
        // libpq's (`Ka`), the `url` crate's and the user's (`Ka@Kb`).
        let s = Scrubber::for_url("postgres://u:Kaaaaa@Kbbbbb@h/db");
        assert_eq!(
            s.scrub("host \"Kbbbbb@h\" for Kaaaaa"),
            "host \"***@h\" for ***"
        );
        let s = Scrubber::for_url("postgres://h/db?password=Kaa#Kbb");
        assert_eq!(s.scrub("got Kaa#Kbb"), "got ***");
        let s = Scrubber::for_url("host=h password='Kaa Kbb' dbname=d");
        assert_eq!(s.scrub("bad Kaa Kbb"), "bad ***");
        let s = Scrubber::default();
        assert_eq!(
            s.scrub("missing \"=\" after \"(postgres://u:Kaa@h/db)\""),
            "missing \"=\" after \"(postgres://u:***@h/db)\""
        );
    }
}
