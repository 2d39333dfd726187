//! The applied-set digest: one short value that vouches for the checksums of
//! every migration a database has applied.
//!
//! Each revision contributes `sha256("<revision> <checksum>")`; the digest of a
//! set of revisions is `setx:` followed by the hex of the XOR of those hashes.
//! XOR makes it independent of order, so the runtime can compute it from any
//! walk of the graph and the macro can compute the digest of a database at the
//! heads at build time (every revision is applied there), which lets a binary's
//! launch check compare two short strings instead of building the graph.
//!
//! The runtime writes the digest of the applied set into every history row it
//! completes, after checking inside its lock that no applied migration drifted;
//! the value is stored in users' databases, so its definition never changes.

use crate::checksum::Checksum;
use sha2::{Digest, Sha256};

/// The tag in front of every digest.
pub const TAG: &str = "setx:";

/// One revision's contribution: `sha256("<revision> <checksum>")`.
pub fn revision_hash(revision: &str, checksum: &Checksum) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(revision.as_bytes());
    hasher.update(b" ");
    hasher.update(checksum.as_str().as_bytes());
    hasher.finalize().into()
}

/// The digest of a set of revisions, built up one [`revision_hash`] at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetDigest([u8; 32]);

impl SetDigest {
    /// The digest of the empty set.
    pub const fn new() -> Self {
        SetDigest([0; 32])
    }

    /// Adds one revision (adding the same revision twice removes it again).
    pub fn add(&mut self, hash: &[u8; 32]) {
        for (acc, byte) in self.0.iter_mut().zip(hash) {
            *acc ^= byte;
        }
    }

    /// The stored form: `setx:` + 64 hex digits.
    pub fn to_text(&self) -> String {
        let mut text = String::with_capacity(TAG.len() + 64);
        text.push_str(TAG);
        crate::checksum::push_hex(&mut text, &self.0);
        text
    }
}

/// The digest of every revision of `set`: what a database of `dialect` at
/// the heads carries (the checksums are those of the SQL that dialect runs).
pub fn of_whole_set(set: &crate::MigrationSet, dialect: crate::SqlDialect) -> String {
    let mut digest = SetDigest::new();
    for file in set.files() {
        digest.add(&revision_hash(&file.revision, file.checksum(dialect)));
    }
    digest.to_text()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_and_a_second_add_removes() {
        let a = revision_hash("aaa", &Checksum::of_sql("CREATE TABLE a (x int);"));
        let b = revision_hash("bbb", &Checksum::of_sql("CREATE TABLE b (x int);"));
        let mut ab = SetDigest::new();
        ab.add(&a);
        ab.add(&b);
        let mut ba = SetDigest::new();
        ba.add(&b);
        ba.add(&a);
        assert_eq!(ab, ba);
        ab.add(&b);
        let mut only_a = SetDigest::new();
        only_a.add(&a);
        assert_eq!(ab, only_a);
        assert_ne!(only_a, SetDigest::new());
    }

    #[test]
    fn text_is_the_stored_format() {
        // The value users' databases hold for one revision; it must never change.
        let mut digest = SetDigest::new();
        digest.add(&revision_hash(
            "0123456789ab",
            &Checksum::from_stored("sha256:00"),
        ));
        let text = digest.to_text();
        assert!(text.starts_with("setx:"));
        assert_eq!(text.len(), 5 + 64);
        let mut hasher = Sha256::new();
        hasher.update(b"0123456789ab sha256:00");
        let expected: [u8; 32] = hasher.finalize().into();
        let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(text, format!("setx:{hex}"));
        assert_eq!(
            SetDigest::new().to_text(),
            format!("setx:{}", "0".repeat(64))
        );
    }
}
