//! `import-alembic --dialect`: which dialects an import renders for, and how a
//! revision's renderings, one per dialect, become one file's sections.
//!
//! Each section's **default** is the rendering most dialects share (on a tie,
//! the first dialect's, in the order given), a placeholder only when every
//! dialect's is one; every dialect whose rendering differs gets a **variant**
//! (`-- migrate:upgrade postgresql`) holding its own, a placeholder included:
//! a revision only one dialect cannot render has its placeholder in that
//! variant alone. A dialect whose rendering is the default's gets no variant,
//! so a history whose `op.*` calls render alike everywhere imports without a
//! single variant.

use crate::import_output::{Downgrade, Upgrade};
use alembix_core::settings::Settings;
use alembix_core::sql::SqlDialect;
use std::path::Path;

/// The dialects to render for: those given with `--dialect` (each once), else
/// those the output folder's `alembix.toml` declares (`settings`, read from
/// `shown_file`), else none (the one dialect env.py configures).
pub(crate) fn chosen(
    given: &[SqlDialect],
    settings: &Settings,
    shown_file: &Path,
) -> Result<Vec<SqlDialect>, String> {
    for (i, dialect) in given.iter().enumerate() {
        if given[..i].contains(dialect) {
            return Err(format!(
                "--dialect {dialect} is given twice; give each dialect once"
            ));
        }
    }
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    if settings.dialects.is_declared() {
        println!(
            "note: rendering for the dialects {} declares ({}), as if given with --dialect",
            shown_file.display(),
            settings.dialects
        );
        return Ok(settings.dialects.allowed().collect());
    }
    Ok(Vec::new())
}

/// `postgresql, mysql`.
pub(crate) fn names(dialects: &[SqlDialect]) -> String {
    dialects
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The default of a section and its variants, from each dialect's part (in
/// the order the dialects were given; `None` when there is none). A part
/// that is `unfinished` (a placeholder) is the default only when all are.
pub(crate) fn default_and_variants<T: PartialEq + Clone>(
    parts: Vec<(SqlDialect, T)>,
    unfinished: impl Fn(&T) -> bool,
) -> Option<(T, Vec<(SqlDialect, T)>)> {
    let all_unfinished = parts.iter().all(|(_, part)| unfinished(part));
    let mut best: Option<(&T, usize)> = None;
    for (_, part) in parts
        .iter()
        .filter(|(_, part)| all_unfinished || !unfinished(part))
    {
        let count = parts.iter().filter(|(_, other)| other == part).count();
        if best.is_none_or(|(_, most)| count > most) {
            best = Some((part, count));
        }
    }
    let default = best?.0.clone();
    let variants = parts
        .into_iter()
        .filter(|(_, part)| *part != default)
        .collect();
    Some((default, variants))
}

/// The downgrade's default and variants. `-- migrate:irreversible` is one
/// marker for every dialect: a downgrade that raises on some dialects only
/// (never the case for a `downgrade()` that only raises, which raises on all)
/// becomes, on those, a placeholder saying so.
pub(crate) fn downgrades(
    parts: Vec<(SqlDialect, Downgrade)>,
) -> Option<(Downgrade, Vec<(SqlDialect, Downgrade)>)> {
    let irreversible = |d: &Downgrade| matches!(d, Downgrade::Irreversible(_));
    let mixed =
        parts.iter().any(|(_, d)| irreversible(d)) && !parts.iter().all(|(_, d)| irreversible(d));
    let parts = if mixed {
        parts
            .into_iter()
            .map(|(dialect, d)| match d {
                Downgrade::Irreversible(why) => (
                    dialect,
                    Downgrade::Placeholder(format!(
                        "{why}\nOn {dialect} only: a migration is irreversible on every database or on none.\nWrite the SQL that reverts it on {dialect}."
                    )),
                ),
                other => (dialect, other),
            })
            .collect()
    } else {
        parts
    };
    default_and_variants(parts, |d| matches!(d, Downgrade::Placeholder(_)))
}

/// The upgrade's default and variants.
pub(crate) fn upgrades(
    parts: Vec<(SqlDialect, Upgrade)>,
) -> Option<(Upgrade, Vec<(SqlDialect, Upgrade)>)> {
    default_and_variants(parts, |u| matches!(u, Upgrade::Placeholder(_)))
}

/// The lines a variant's placeholder adds when the default holds SQL: the
/// Alembic printout it points to is for the dialect env.py configures.
pub(crate) fn variant_placeholder_note(dialect: SqlDialect) -> String {
    format!(
        "This is the {dialect} variant: the default section holds what the other dialects rendered.\nTo print {dialect}'s with Alembic, configure it for a {dialect} database (the URL env.py reads)."
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use SqlDialect::{Mysql, Postgres, Sqlite};

    #[test]
    fn the_most_common_rendering_is_the_default_and_ties_go_to_the_first() {
        type Parts<'a> = &'a [(SqlDialect, &'a str)];
        let cases: [(Parts<'_>, &str, Parts<'_>); 5] = [
            (&[(Postgres, "a")], "a", &[]),
            (&[(Postgres, "a"), (Mysql, "a")], "a", &[]),
            (&[(Postgres, "a"), (Mysql, "b")], "a", &[(Mysql, "b")]),
            (
                &[(Sqlite, "s"), (Postgres, "a"), (Mysql, "a")],
                "a",
                &[(Sqlite, "s")],
            ),
            (
                &[(Mysql, "m"), (Sqlite, "s"), (Postgres, "p")],
                "m",
                &[(Sqlite, "s"), (Postgres, "p")],
            ),
        ];
        for (parts, default, variants) in cases {
            let (d, v) = default_and_variants(parts.to_vec(), |_| false).unwrap();
            assert_eq!(d, default, "{parts:?}");
            assert_eq!(v, variants, "{parts:?}");
        }
        assert!(default_and_variants::<&str>(Vec::new(), |_| false).is_none());
    }

    #[test]
    fn a_placeholder_is_the_default_only_when_every_dialect_has_one() {
        let todo = |why: &str| Upgrade::Placeholder(why.into());
        let sql = || Upgrade::Sql("SELECT 1;".into());
        let (d, v) = upgrades(vec![(Sqlite, todo("x")), (Postgres, sql())]).unwrap();
        assert_eq!(d, sql());
        assert_eq!(v, [(Sqlite, todo("x"))]);
        let (d, v) = upgrades(vec![
            (Sqlite, todo("x")),
            (Postgres, sql()),
            (Mysql, todo("x")),
        ])
        .unwrap();
        assert_eq!(d, sql());
        assert_eq!(v, [(Sqlite, todo("x")), (Mysql, todo("x"))]);
        let (d, v) = upgrades(vec![(Sqlite, todo("x")), (Postgres, todo("y"))]).unwrap();
        assert_eq!(d, todo("x"));
        assert_eq!(v, [(Postgres, todo("y"))]);
    }

    #[test]
    fn irreversible_is_all_or_nothing() {
        let gone = || Downgrade::Irreversible("raises".into());
        let (d, v) = downgrades(vec![(Postgres, gone()), (Mysql, gone())]).unwrap();
        assert_eq!(d, gone());
        assert!(v.is_empty());
        let (d, v) = downgrades(vec![
            (Postgres, Downgrade::Sql("DROP TABLE t;".into())),
            (Mysql, gone()),
        ])
        .unwrap();
        assert_eq!(d, Downgrade::Sql("DROP TABLE t;".into()));
        match v.as_slice() {
            [(Mysql, Downgrade::Placeholder(why))] => {
                assert!(why.starts_with("raises\nOn mysql only"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dialects_come_from_the_flag_else_the_folder() {
        let file = Path::new("out/alembix.toml");
        let none = Settings::default();
        assert_eq!(chosen(&[], &none, file).unwrap(), []);
        assert_eq!(
            chosen(&[Mysql, Postgres], &none, file).unwrap(),
            [Mysql, Postgres]
        );
        let err = chosen(&[Mysql, Mysql], &none, file).unwrap_err();
        assert!(err.contains("--dialect mysql is given twice"), "{err}");
        let declared =
            Settings::with_dialects(alembix_core::settings::Dialects::of(&[Mysql, Sqlite]));
        assert_eq!(chosen(&[], &declared, file).unwrap(), [Sqlite, Mysql]);
    }
}
