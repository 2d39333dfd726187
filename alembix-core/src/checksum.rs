//! Checksums of migration text, stable across line endings and byte-order marks.

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;

/// The algorithm tag written in front of every checksum we store.
pub const ALGORITHM: &str = "sha256";

/// A tagged checksum such as `sha256:9f86d0…`.
///
/// It covers the *upgrade* section of a migration (the text that was applied),
/// after [`normalize`]: editing the header's message or fixing a downgrade does not
/// count as drift, re-saving the file with CRLF line endings or a BOM does not
/// either, but any change to the applied SQL does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum(String);

impl Checksum {
    /// The checksum of `sql` after [`normalize`].
    pub fn of_sql(sql: &str) -> Self {
        let normalized = normalize(sql);
        // `normalize` borrows when there is nothing to change.
        Checksum::from_sha256(&Sha256::digest(normalized.trim().as_bytes()).into())
    }

    /// The tagged checksum of a SHA-256 digest (e.g. one computed at build time).
    pub fn from_sha256(digest: &[u8; 32]) -> Self {
        let mut text = String::with_capacity(ALGORITHM.len() + 1 + 64);
        text.push_str(ALGORITHM);
        text.push(':');
        push_hex(&mut text, digest);
        Checksum(text)
    }

    /// Wraps a stored checksum read back from a database or an embedded set.
    pub fn from_stored(text: impl Into<String>) -> Self {
        Checksum(text.into())
    }

    /// The tagged text, e.g. `sha256:…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The lower-case hex digits every stored checksum and digest uses.
pub const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` to `text` as lower-case hex.
pub fn push_hex(text: &mut String, bytes: &[u8]) {
    for byte in bytes {
        text.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(HEX_DIGITS[usize::from(byte & 0xf)]));
    }
}

/// Strips a leading byte-order mark and turns CRLF (and lone CR) into LF.
pub fn normalize(text: &str) -> Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_bom_and_outer_whitespace_do_not_change_the_checksum() {
        let lf = Checksum::of_sql("CREATE TABLE t (id int);\nDROP TABLE u;\n");
        let crlf = Checksum::of_sql("\u{feff}CREATE TABLE t (id int);\r\nDROP TABLE u;\r\n\r\n");
        assert_eq!(lf, crlf);
        assert!(lf.as_str().starts_with("sha256:"));
        assert_eq!(lf.as_str().len(), "sha256:".len() + 64);
    }

    #[test]
    fn any_edit_of_the_sql_changes_the_checksum() {
        let a = Checksum::of_sql("CREATE TABLE t (id int);");
        let b = Checksum::of_sql("CREATE TABLE t (id bigint);");
        assert_ne!(a, b);
    }

    #[test]
    fn known_vector() {
        // sha256("abc")
        assert_eq!(
            Checksum::of_sql("abc").as_str(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
