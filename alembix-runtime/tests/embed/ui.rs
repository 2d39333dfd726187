//! The trybuild driver: compile-fail cases in `tests/ui/fail` (and `tests/ui/unix`)
//! with their reviewed `.stderr`, pass cases in `tests/ui/pass`.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p
//! alembix-runtime --test embed ui`, then review the diff.

use crate::TestResult;
use std::fs;
use std::path::Path;

/// The variable that points the macro at this crate while trybuild compiles the
/// cases in its own scratch crate (see `alembix-macros/src/read.rs`).
const MANIFEST_DIR_OVERRIDE: &str = "ALEMBIX_MANIFEST_DIR_OVERRIDE";

#[test]
fn ui() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    write_generated_fixtures(root)?;
    // Only this test reads the variable; the rebuild tests remove it from the
    // cargo they run.
    std::env::set_var(MANIFEST_DIR_OVERRIDE, root);
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    #[cfg(unix)]
    cases.compile_fail("tests/ui/unix/*.rs");
    cases.pass("tests/ui/pass/*.rs");
    Ok(())
}

/// Fixtures git cannot carry everywhere, written under the ignored
/// `tests/ui/generated/`: a file that is not UTF-8, and (on Unix) a symlink that
/// leaves the folder.
fn write_generated_fixtures(root: &Path) -> TestResult {
    let generated = root.join("tests/ui/generated");
    let non_utf8 = generated.join("non_utf8");
    fs::create_dir_all(&non_utf8)?;
    let mut text = b"-- revision: 0123456789ab\n-- down_revision: none\n-- message: caf".to_vec();
    text.push(0xe9); // Latin-1 'é'
    text.extend_from_slice(
        b"\n\n-- migrate:upgrade\nCREATE TABLE t (id INTEGER);\n\n-- migrate:downgrade\nDROP TABLE t;\n",
    );
    fs::write(non_utf8.join("2026-01-01_create_t_0123456789ab.sql"), text)?;

    #[cfg(unix)]
    {
        let symlinked = generated.join("symlink_leaves");
        fs::create_dir_all(&symlinked)?;
        let link = symlinked.join("2026-01-01_create_users_1a2b3c4d5e6f.sql");
        if fs::symlink_metadata(&link).is_ok() {
            fs::remove_file(&link)?;
        }
        std::os::unix::fs::symlink(
            "../../fixtures/merged/2026-01-01_create_users_1a2b3c4d5e6f.sql",
            &link,
        )?;
    }
    Ok(())
}
