//! `alembix_core::file::parse` on an arbitrary file name and text: it never
//! panics, refuses only with problems, accepts only valid ids, and reads a
//! CRLF checkout exactly as the LF one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use alembix_core::file;

fuzz_target!(|data: &[u8]| {
    // The first byte says how long the name is; the rest is the text.
    let (name, text) = match data.split_first() {
        Some((&n, rest)) => rest.split_at(usize::from(n).min(rest.len())),
        None => (&data[..0], data),
    };
    let name = String::from_utf8_lossy(name);
    let text = String::from_utf8_lossy(text);
    let parsed = file::parse(&name, &text);
    match &parsed {
        Ok(f) => {
            assert!(
                file::check_revision_id(&f.revision).is_ok(),
                "{:?}",
                f.revision
            );
            for d in f.down_revisions.iter().chain(&f.depends_on) {
                assert!(!d.is_empty());
            }
        }
        Err(problems) => assert!(!problems.is_empty(), "refused without a problem"),
    }
    if !text.contains('\r') {
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(
            file::parse(&name, &crlf),
            parsed,
            "a CRLF checkout reads differently"
        );
    }
});
