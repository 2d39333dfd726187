//! The exit codes of the command set: what a script or a deploy gate reads.

use std::process::{ExitCode, Termination};

/// The exit codes of every command; `check` uses all of them.
///
/// When several apply, the highest wins (an unfinished step outranks drift,
/// which outranks unknown revisions, which outrank pending migrations). Any
/// command that the runtime refuses for one of these reasons (e.g. `upgrade`
/// on a drifted database) exits with the same code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exit {
    /// `0`: done; for `check`: the database is at head, nothing to report.
    Success = 0,
    /// `1`: the command failed (connection, SQL error, target that names nothing, …).
    Failure = 1,
    /// `2`: the arguments do not go together (no database given, `--sql` with `--purge`, …).
    Usage = 2,
    /// `3`: migrations are pending (`upgrade heads` would apply them).
    Pending = 3,
    /// `4`: the database is at revisions this binary does not contain (ahead,
    /// diverged, or of unknown origin). With `AheadPolicy::Allow`, ahead is `0`.
    UnknownRevisions = 4,
    /// `5`: an applied migration's text changed since it ran (checksum drift).
    Drift = 5,
    /// `6`: a non-transactional step was left failed or in progress; `repair` it.
    Unfinished = 6,
    /// `7`: the schema differs from the one the history builds (`schema diff`;
    /// `check --schema-drift`, which compares only when it has nothing
    /// else to report, so this code never hides another).
    SchemaDrift = 7,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

impl Termination for Exit {
    fn report(self) -> ExitCode {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_documented_numbers() {
        let codes: Vec<u8> = [
            Exit::Success,
            Exit::Failure,
            Exit::Usage,
            Exit::Pending,
            Exit::UnknownRevisions,
            Exit::Drift,
            Exit::Unfinished,
            Exit::SchemaDrift,
        ]
        .iter()
        .map(|e| e.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7]);
    }
}
