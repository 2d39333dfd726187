//! Branches, a merge, labels and `depends_on` on every backend, through every
//! target form: `heads`, `head` (ambiguous here), `<label>@head`, `<rev>`,
//! `<label>@base`, `base`, and `stamp` with several targets.

use crate::support::{migrator, sorted, TestDb};
use alembix_runtime::core::plan::PlanErrorKind;
use alembix_runtime::{Config, Error, StampMode};

const R0: &str = "r0base000001";
const BILL1: &str = "r1bill000001";
const BILL2: &str = "r2bill000002";
const SRCH: &str = "r1srch000001";
const MERGE: &str = "r3merge00001";
const POST: &str = "r4post000001";
const AUD1: &str = "x1audit00001";
const AUD2: &str = "x2audit00002";

fn every_target_form_on_a_branched_history(t: &TestDb) {
    let m = migrator("branched", Config::default());
    let mut db = t.connect();
    let mut o = t.oracle();

    // `head` is ambiguous with two heads: Alembic's error, nothing applied.
    let err = m.upgrade(&mut db, "head").unwrap_err();
    assert!(
        matches!(&err, Error::Plan(p) if p.kind == PlanErrorKind::MultipleHeads),
        "{err}"
    );
    assert!(o.user_tables().is_empty());

    // `audit@head` pulls in its dependency (invoices) first.
    let report = m.upgrade(&mut db, "audit@head").unwrap();
    let ran = report.revisions();
    assert_eq!(ran.len(), 4, "{ran:?}");
    let pos = |r: &str| ran.iter().position(|x| *x == r).unwrap();
    assert!(pos(R0) < pos(BILL1) && pos(BILL1) < pos(AUD1) && pos(AUD1) < pos(AUD2));
    assert_eq!(o.rows("alembic_version"), vec![AUD2]);
    assert_eq!(
        o.user_tables(),
        sorted(&["audit_log", "core_t", "invoices"])
    );

    // `billing@head` runs the other branch and the merge.
    let report = m.upgrade(&mut db, "billing@head").unwrap();
    assert_eq!(report.revisions().len(), 4, "{:?}", report.revisions());
    assert_eq!(*report.revisions().last().unwrap(), POST);
    assert_eq!(o.rows("alembic_version"), sorted(&[POST, AUD2]));
    assert!(m.upgrade(&mut db, "heads").unwrap().is_empty());
    assert!(m.is_up_to_date(&mut db).unwrap());
    let current = m.current(&mut db).unwrap();
    assert_eq!(
        sorted(&current.rows.iter().map(String::as_str).collect::<Vec<_>>()),
        sorted(&[POST, AUD2])
    );

    // history: newest first, the merge point flagged, everything applied.
    let history = m.history(&mut db, None).unwrap();
    assert_eq!(history.len(), 8);
    assert!(history.iter().all(|h| h.applied));
    assert!(history
        .iter()
        .any(|h| h.revision == MERGE && h.is_merge_point));
    assert!(history
        .iter()
        .any(|h| h.revision == R0 && h.is_branch_point));
    assert_eq!(history.iter().filter(|h| h.current).count(), 2);

    // `audit@base` reverts the independent audit branch only.
    let report = m.downgrade(&mut db, "audit@base").unwrap();
    assert_eq!(report.revisions(), vec![AUD2, AUD1]);
    assert_eq!(o.rows("alembic_version"), vec![POST]);
    assert!(!o.user_tables().contains(&"audit_log".to_string()));
    assert!(o.user_tables().contains(&"search_index".to_string()));

    // To a revision: everything above it goes, dependents first.
    m.downgrade(&mut db, R0).unwrap();
    assert_eq!(o.rows("alembic_version"), vec![R0]);
    assert_eq!(o.user_tables(), vec!["core_t".to_string()]);

    // `heads` from there, then `base`.
    assert_eq!(m.upgrade(&mut db, "heads").unwrap().steps.len(), 7);
    assert_eq!(o.rows("alembic_version"), sorted(&[POST, AUD2]));
    let report = m.downgrade(&mut db, "base").unwrap();
    assert_eq!(report.steps.len(), 8);
    assert!(o.rows("alembic_version").is_empty());
    assert!(o.user_tables().is_empty());
    let states: Vec<String> = m
        .applied_history(&mut db)
        .unwrap()
        .into_iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(states.iter().filter(|s| *s == "applied").count(), 15);
    assert_eq!(states.iter().filter(|s| *s == "reverted").count(), 15);
}

fn stamp_several_targets_then_upgrade(t: &TestDb) {
    let m = migrator("branched", Config::default());
    let mut o = t.oracle();
    for ddl in [
        "CREATE TABLE core_t (id INTEGER PRIMARY KEY)",
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)",
        "CREATE TABLE invoice_lines (id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL)",
        "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, invoice_id INTEGER)",
    ] {
        o.exec(ddl);
    }
    let mut db = t.connect();
    m.stamp(&mut db, &[BILL2, AUD1], StampMode::Keep).unwrap();
    assert_eq!(o.rows("alembic_version"), sorted(&[BILL2, AUD1]));
    let report = m.upgrade(&mut db, "heads").unwrap();
    assert_eq!(
        sorted(&report.revisions()),
        sorted(&[SRCH, MERGE, POST, AUD2])
    );
    assert!(m.is_up_to_date(&mut db).unwrap());
    // Stamping base removes every row and runs nothing.
    m.stamp(&mut db, &["base"], StampMode::Keep).unwrap();
    assert!(o.rows("alembic_version").is_empty());
    assert!(o.user_tables().contains(&"after_merge".to_string()));
}

crate::on_all_backends!(
    every_target_form_on_a_branched_history,
    stamp_several_targets_then_upgrade,
);

/// A migrator built from a folder loads a history with two unmerged heads,
/// as Alembic does (the build refuses it unless `heads = "any"`).
#[test]
fn a_folder_with_two_heads_loads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/fixtures");
    let m = alembix_runtime::Migrator::from_folder(&root, "two_heads", Config::default())
        .expect("two heads load from a folder");
    assert_eq!(m.heads().unwrap().len(), 2);
}
