//! diesel_migrations compatibility, pure: the revision id a diesel migration
//! version becomes, and which revisions a database that diesel_migrations
//! migrated has applied (checked against the graph: a prefix, no gap).
//!
//! diesel records every migration it ran as one row of
//! [`DIESEL_TABLE`] (`version VARCHAR(50) PRIMARY KEY, run_on TIMESTAMP`). Two
//! kinds of version are understood:
//!
//! - a diesel-cli folder's version (`2024-01-01-120000_create_users` →
//!   `20240101120000`), which `cargo xtask import-diesel` turned into the
//!   revision [`revision_for_diesel_version`] names (`diesel_20240101120000`);
//! - a version written by this project's own `DieselSource` (diesel's harness
//!   running our migration set): `<5 digits>_<revision>`, which names the
//!   revision itself.
//!
//! Nothing here reads a database: the runtime passes the versions in.

use crate::file::MAX_REVISION_LEN;
use crate::graph::{Graph, RevIdx};
use std::fmt;

/// The table in which diesel_migrations records the versions it ran.
pub const DIESEL_TABLE: &str = "__diesel_schema_migrations";

/// The prefix of every revision id made from a diesel version.
pub const DIESEL_REVISION_PREFIX: &str = "diesel_";

/// The revision id of the diesel migration whose version (as diesel stores it in
/// `__diesel_schema_migrations.version`: the folder name up to the first `_`, `-`
/// removed) is `version`.
///
/// `diesel_<version>` when the version is 1 to 25 ASCII letters and digits (so the
/// id fits `version_num VARCHAR(32)`), which covers diesel-cli's 14-digit timestamps
/// (`diesel_20240101120000`) and `00000000000000`. Any other version maps to
/// `diesel__` and 16 hex digits of its FNV-1a hash: deterministic, and never equal
/// to a plain form (a version never holds `_`). Pure, so the import
/// (`cargo xtask import-diesel`) and the runtime's takeover map versions with the
/// very same rule.
///
/// ```
/// use alembix_core::diesel_compat::revision_for_diesel_version;
/// assert_eq!(revision_for_diesel_version("20240101120000"), "diesel_20240101120000");
/// assert!(revision_for_diesel_version("v1.2").starts_with("diesel__"));
/// ```
pub fn revision_for_diesel_version(version: &str) -> String {
    let fits = !version.is_empty()
        && version.len() <= MAX_REVISION_LEN - DIESEL_REVISION_PREFIX.len()
        && version.bytes().all(|b| b.is_ascii_alphanumeric());
    if fits {
        format!("{DIESEL_REVISION_PREFIX}{version}")
    } else {
        format!(
            "{DIESEL_REVISION_PREFIX}_{:016x}",
            fnv1a64(version.as_bytes())
        )
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The revision of `graph` that a diesel version stands for, or the id it
/// would have (`None` in the second field when the graph lacks it).
///
/// A `DieselSource` version (`00003_<revision>`) whose revision is in the graph
/// names that revision; anything else goes through
/// [`revision_for_diesel_version`].
pub fn revision_of_version(graph: &Graph, version: &str) -> (String, Option<RevIdx>) {
    if let Some((depth, revision)) = version.split_once('_') {
        if depth.len() == 5 && depth.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(idx) = graph.index_of(revision) {
                return (revision.to_string(), Some(idx));
            }
        }
    }
    let revision = revision_for_diesel_version(version);
    let idx = graph.index_of(&revision);
    (revision, idx)
}

/// What the versions diesel recorded amount to in the revision graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DieselApplied {
    /// The applied revisions, in load order, each with the diesel version it comes from.
    pub revisions: Vec<(RevIdx, String)>,
    /// The version-table rows a database with exactly these revisions has
    /// (the applied revisions nothing applied builds on or depends on), sorted.
    pub rows: Vec<String>,
}

/// Why diesel's versions cannot be mapped onto the graph. Nothing is written
/// when this is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DieselMappingError {
    /// Versions whose revision the history does not contain: `(version, revision)`.
    NotInHistory(Vec<(String, String)>),
    /// The applied versions are not a prefix of the history: `missing`
    /// revisions were never applied by diesel, yet applied ones build on them.
    Gap {
        /// Revisions diesel did not apply that applied ones build on: `(revision,
        /// the diesel version it maps from, when it is a diesel revision)`.
        missing: Vec<(String, Option<String>)>,
        /// Applied revisions that build on a missing one: `(version, revision)`.
        after: Vec<(String, String)>,
    },
}

impl fmt::Display for DieselMappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DieselMappingError::NotInHistory(unknown) => {
                let list: Vec<String> = unknown
                    .iter()
                    .map(|(v, r)| format!("{v} (revision {r})"))
                    .collect();
                write!(
                    f,
                    "{DIESEL_TABLE} records version(s) {} which this migration history does not contain. Import the diesel migrations folder this database was migrated with (`cargo xtask import-diesel PATH`) and rebuild, then adopt again; nothing was written",
                    list.join(", ")
                )
            }
            DieselMappingError::Gap { missing, after } => {
                let missing: Vec<String> = missing
                    .iter()
                    .map(|(r, v)| match v {
                        Some(v) => format!("{r} (diesel version {v})"),
                        None => r.clone(),
                    })
                    .collect();
                let after: Vec<String> = after
                    .iter()
                    .map(|(v, r)| format!("{v} (revision {r})"))
                    .collect();
                write!(
                    f,
                    "the versions diesel_migrations applied are not a prefix of this migration history: there is a gap at {}, which diesel never applied, although it applied {} that come(s) after it (diesel runs any pending version, so one merged with an older timestamp runs late). Apply the missing migration(s) with the diesel binary or `diesel migration run` first, or move them after the applied ones in the history, then adopt again; nothing was written",
                    missing.join(", "),
                    after.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for DieselMappingError {}

/// The diesel version a revision id was made from, when it is one of the plain
/// form (`diesel_<version>`).
fn version_of_revision(revision: &str) -> Option<String> {
    revision
        .strip_prefix(DIESEL_REVISION_PREFIX)
        .filter(|v| !v.starts_with('_') && !v.is_empty())
        .map(str::to_string)
}

/// Maps the versions diesel recorded onto `graph`: every version must name a
/// revision of the graph, and together they must be closed under ancestry
/// (`down_revision` and `depends_on`): a prefix of a linear chain.
///
/// An empty `versions` gives an empty [`DieselApplied`].
pub fn applied_from_diesel(
    graph: &Graph,
    versions: &[&str],
) -> Result<DieselApplied, DieselMappingError> {
    let mut unknown = Vec::new();
    let mut applied: Vec<Option<String>> = vec![None; graph.len()];
    for &version in versions {
        match revision_of_version(graph, version) {
            (_, Some(idx)) => applied[idx] = Some(version.to_string()),
            (revision, None) => unknown.push((version.to_string(), revision)),
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        return Err(DieselMappingError::NotInHistory(unknown));
    }
    let is_applied = |i: RevIdx| applied[i].is_some();
    // Tips: applied revisions that nothing applied builds on or depends on.
    let tips: Vec<RevIdx> = (0..graph.len())
        .filter(|&i| is_applied(i) && graph.followers(i).iter().all(|&c| !is_applied(c)))
        .collect();
    let closure = graph.ancestor_mask(&tips, true);
    let missing: Vec<RevIdx> = (0..graph.len())
        .filter(|&i| closure[i] && !is_applied(i))
        .collect();
    if !missing.is_empty() {
        let missing_mask = {
            let mut m = vec![false; graph.len()];
            for &i in &missing {
                m[i] = true;
            }
            m
        };
        let below = graph.descendant_mask(&missing, true);
        let after = (0..graph.len())
            .filter(|&i| below[i] && !missing_mask[i])
            .filter_map(|i| applied[i].clone().map(|v| (v, graph.rev(i).id.clone())))
            .collect();
        return Err(DieselMappingError::Gap {
            missing: missing
                .iter()
                .map(|&i| {
                    let id = graph.rev(i).id.clone();
                    let version = version_of_revision(&id);
                    (id, version)
                })
                .collect(),
            after,
        });
    }
    let mut rows = graph.ids(&tips);
    rows.sort();
    Ok(DieselApplied {
        revisions: (0..graph.len())
            .filter_map(|i| applied[i].clone().map(|v| (i, v)))
            .collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::check_revision_id;
    use crate::graph::{GraphOptions, HeadPolicy, RevisionSpec};

    #[test]
    fn revision_ids_are_valid_and_deterministic() {
        assert_eq!(
            revision_for_diesel_version("20240101120000"),
            "diesel_20240101120000"
        );
        assert_eq!(
            revision_for_diesel_version("00000000000000"),
            "diesel_00000000000000"
        );
        assert_eq!(revision_for_diesel_version("2"), "diesel_2");
        let long = "1".repeat(26);
        for odd in ["", "v1.2", long.as_str(), "ümlaut"] {
            let id = revision_for_diesel_version(odd);
            assert!(check_revision_id(&id).is_ok(), "{odd} -> {id}");
            assert!(id.starts_with("diesel__"), "{id}");
            assert_eq!(id, revision_for_diesel_version(odd));
        }
        assert_ne!(
            revision_for_diesel_version("v1.2"),
            revision_for_diesel_version("v1.3")
        );
        assert!(check_revision_id(&revision_for_diesel_version(&"9".repeat(25))).is_ok());
        assert_eq!(version_of_revision("diesel_2").as_deref(), Some("2"));
        assert_eq!(version_of_revision("diesel__00ff"), None);
        assert_eq!(version_of_revision("a1b2"), None);
    }

    fn graph(specs: &[(&str, &[&str], &[&str])]) -> Graph {
        let specs: Vec<RevisionSpec> = specs
            .iter()
            .map(|(id, down, deps)| RevisionSpec {
                revision: (*id).to_string(),
                down_revisions: down.iter().map(|s| (*s).to_string()).collect(),
                depends_on: deps.iter().map(|s| (*s).to_string()).collect(),
                ..RevisionSpec::default()
            })
            .collect();
        let options = GraphOptions {
            heads: HeadPolicy::Any,
        };
        match Graph::build(specs, &options) {
            Ok(g) => g,
            Err(p) => unreachable!("test graph is valid: {p}"),
        }
    }

    /// A diesel chain of four, then two revisions of our own.
    fn chain() -> Graph {
        graph(&[
            ("diesel_1", &[], &[]),
            ("diesel_2", &["diesel_1"], &[]),
            ("diesel_3", &["diesel_2"], &[]),
            ("diesel_4", &["diesel_3"], &[]),
            ("ours_5", &["diesel_4"], &[]),
            ("ours_6", &["ours_5"], &[]),
        ])
    }

    /// `Ok(rows)` or the error's text.
    fn adopt(g: &Graph, versions: &[&str]) -> Result<(Vec<String>, Vec<String>), String> {
        applied_from_diesel(g, versions)
            .map(|a| {
                (
                    a.revisions
                        .iter()
                        .map(|(i, v)| format!("{}={v}", g.rev(*i).id))
                        .collect(),
                    a.rows,
                )
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_prefix_maps_to_its_tip() {
        let g = chain();
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (&[], &[], &[]),
            (&["1"], &["diesel_1=1"], &["diesel_1"]),
            // diesel returns rows in any order.
            (
                &["3", "1", "2"],
                &["diesel_1=1", "diesel_2=2", "diesel_3=3"],
                &["diesel_3"],
            ),
            (
                &["1", "2", "3", "4"],
                &["diesel_1=1", "diesel_2=2", "diesel_3=3", "diesel_4=4"],
                &["diesel_4"],
            ),
            // The DieselSource form names our own revisions.
            (
                &["1", "2", "3", "4", "00004_ours_5"],
                &[
                    "diesel_1=1",
                    "diesel_2=2",
                    "diesel_3=3",
                    "diesel_4=4",
                    "ours_5=00004_ours_5",
                ],
                &["ours_5"],
            ),
        ];
        for (versions, revisions, rows) in cases {
            let (got_revisions, got_rows) = match adopt(&g, versions) {
                Ok(r) => r,
                Err(e) => unreachable!("{versions:?}: {e}"),
            };
            assert_eq!(got_revisions, *revisions, "{versions:?}");
            assert_eq!(got_rows, *rows, "{versions:?}");
        }
    }

    #[test]
    fn a_gap_or_an_unknown_version_is_refused_by_name() {
        let g = chain();
        let cases: &[(&[&str], &[&str])] = &[
            (
                &["1", "3"],
                &[
                    "gap at diesel_2 (diesel version 2)",
                    "although it applied 3 (revision diesel_3)",
                    "nothing was written",
                ],
            ),
            (
                &["2", "4"],
                &[
                    "gap at diesel_1 (diesel version 1), diesel_3 (diesel version 3)",
                    "2 (revision diesel_2), 4 (revision diesel_4)",
                ],
            ),
            (
                &["1", "2", "99", "2024-01-01"],
                &[
                    "records version(s) 2024-01-01 (revision diesel__",
                    "99 (revision diesel_99) which this migration history does not contain",
                    "cargo xtask import-diesel",
                ],
            ),
            (&["00009_nope"], &["00009_nope (revision diesel__"]),
        ];
        for (versions, expected) in cases {
            let Err(text) = adopt(&g, versions) else {
                unreachable!("{versions:?} must be refused")
            };
            for e in *expected {
                assert!(text.contains(e), "{versions:?}: `{e}` not in: {text}");
            }
        }
    }

    #[test]
    fn branches_and_dependencies_close_over_ancestry() {
        let g = graph(&[
            ("a", &[], &[]),
            ("b", &["a"], &[]),
            ("c", &["a"], &[]),
            ("m", &["b", "c"], &[]),
            ("x", &[], &[]),
            ("y", &["x"], &["b"]),
        ]);
        let applied = |v: &[&str]| {
            let versions: Vec<String> = v.iter().map(|r| format!("00000_{r}")).collect();
            let refs: Vec<&str> = versions.iter().map(String::as_str).collect();
            adopt(&g, &refs).map(|(_, rows)| rows)
        };
        assert_eq!(applied(&["a", "b", "c"]), Ok(vec!["b".into(), "c".into()]));
        assert_eq!(applied(&["a", "b", "c", "m"]), Ok(vec!["m".into()]));
        assert_eq!(applied(&["a", "b", "x", "y"]), Ok(vec!["y".into()]));
        let Err(text) = applied(&["x", "y", "a"]) else {
            unreachable!("y depends on b")
        };
        assert!(text.contains("gap at b"), "{text}");
    }
}
