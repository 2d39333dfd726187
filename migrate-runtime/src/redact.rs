//! Keeping database passwords out of errors, `Debug` output, logs and the history table.
//!
//! [`redact_url`] replaces the password of a URL (`scheme://user:secret@host`),
//! a `password=` query parameter and a `password=` key of a libpq key/value
//! string with `***`, keeping the host and database name for diagnosis.
//! [`Scrubber`] removes the password (raw and percent-decoded) from any text a
//! driver hands back, in case a driver quotes the URL in an error message.

/// What replaces a password.
pub const MASK: &str = "***";

/// `url` with every password replaced by [`MASK`]; host, port, user and database stay.
pub fn redact_url(url: &str) -> String {
    let mut out = match url.find("://") {
        Some(scheme_end) => {
            let (scheme, rest) = url.split_at(scheme_end + 3);
            // The authority ends at the first `/`, `?` or `#` after the userinfo.
            let query_start = rest.find(['?', '#']).unwrap_or(rest.len());
            match rest[..query_start].rfind('@') {
                Some(at) => {
                    let userinfo = &rest[..at];
                    let user = match userinfo.find(':') {
                        Some(colon) => format!("{}:{MASK}", &userinfo[..colon]),
                        None => userinfo.to_string(),
                    };
                    format!("{scheme}{user}{}", &rest[at..])
                }
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    };
    out = redact_key_values(&out);
    out
}

/// Masks the value of every `password=` (and `pass=`) key in query strings and
/// libpq key/value connection strings.
fn redact_key_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let hit = ["password=", "passwd=", "pass="].iter().find_map(|key| {
            let at_boundary = i == 0
                || matches!(
                    text.as_bytes()[i - 1],
                    b'?' | b'&' | b' ' | b'\t' | b';' | b'\n'
                );
            (at_boundary && lower[i..].starts_with(key)).then_some(key.len())
        });
        match hit {
            Some(len) => {
                out.push_str(&text[i..i + len]);
                out.push_str(MASK);
                let value = &text[i + len..];
                let end = if value.starts_with('\'') {
                    // libpq quoted value: up to the closing quote (backslash escapes).
                    let mut j = 1;
                    let bytes = value.as_bytes();
                    while j < bytes.len() && bytes[j] != b'\'' {
                        j += if bytes[j] == b'\\' { 2 } else { 1 };
                    }
                    (j + 1).min(value.len())
                } else {
                    value
                        .find(['&', ' ', '\t', ';', '#', '\n'])
                        .unwrap_or(value.len())
                };
                i += len + end;
            }
            None => {
                let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + ch_len]);
                i += ch_len;
            }
        }
    }
    out
}

/// The password found in a connection URL, in every spelling a driver might echo.
pub(crate) fn passwords_in(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let query_start = rest.find(['?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..query_start].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                found.push(rest[colon + 1..at].to_string());
            }
        }
    }
    let lower = url.to_ascii_lowercase();
    for key in ["password=", "passwd=", "pass="] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(key) {
            let start = from + pos + key.len();
            let value = &url[start..];
            let end = value
                .find(['&', ' ', '\t', ';', '#', '\n'])
                .unwrap_or(value.len());
            found.push(value[..end].trim_matches('\'').to_string());
            from = start;
        }
    }
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

/// Redacts every URL-looking word of a longer text.
fn redact_url_like(text: &str) -> String {
    let words: String = text
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains("://") {
                redact_url(word)
            } else {
                word.to_string()
            }
        })
        .collect();
    redact_key_values(&words)
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
        assert_eq!(redact_url("/tmp/app.db"), "/tmp/app.db");
    }

    #[test]
    fn scrubber_removes_raw_and_decoded_passwords() {
        let s = Scrubber::for_url("postgres://app:MARK%2Fer@h/db");
        let text =
            s.scrub("auth failed for MARK/er and MARK%2Fer at postgres://app:MARK%2Fer@h/db");
        assert!(!text.contains("MARK"), "{text}");
        assert!(text.contains("h/db"));
    }
}
