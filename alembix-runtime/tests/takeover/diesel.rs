//! diesel_migrations' own harness (`MigrationHarness::run_pending_migrations`
//! over a diesel-cli folder) brings a database to a version; our runtime, over
//! the chain `cargo xtask import-diesel` made from the whole folder, adopts it
//! (explicitly, or on its first launch) and runs only what comes after.
//!
//! The fixture's five migrations, `20240101000001` … `20240105000005`; "the old
//! service" has the first three (a copy of those folders).

use crate::support::{Kind, TestDb};
use crate::tools::{
    events, fixture, history, import_diesel, migrate_command, version_rows, Scratch,
};
use alembix_runtime::{Config, DieselTakeover, Error, Migrator};
use diesel::Connection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use std::path::{Path, PathBuf};

const V: [&str; 5] = [
    "20240101000001",
    "20240102000002",
    "20240103000003",
    "20240104000004",
    "20240105000005",
];

fn rev(version: &str) -> String {
    format!("diesel_{version}")
}

fn revs(versions: &[&str]) -> Vec<String> {
    versions.iter().map(|v| rev(v)).collect()
}

/// The fixture's migration folders whose version is in `versions`, copied
/// into `dir/migrations` (what an older service shipped).
fn old_service(dir: &Path, versions: &[&str]) -> PathBuf {
    let from = fixture("diesel_project/migrations");
    let to = dir.join("old").join("migrations");
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let version = name.split('_').next().unwrap().replace('-', "");
        if !versions.contains(&version.as_str()) {
            continue;
        }
        let target = to.join(&name);
        std::fs::create_dir_all(&target).unwrap();
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), target.join(file.file_name())).unwrap();
        }
    }
    to
}

/// Runs `$body` with `$c` bound to a diesel connection of `$t`'s backend.
macro_rules! with_diesel {
    ($t:expr, $c:ident => $body:expr) => {
        match $t.kind {
            Kind::Sqlite => {
                let mut $c =
                    diesel::SqliteConnection::establish($t.url.trim_start_matches("sqlite://"))
                        .unwrap();
                $body
            }
            #[cfg(feature = "postgres")]
            Kind::Postgres => {
                let mut $c = diesel::PgConnection::establish(&$t.url).unwrap();
                $body
            }
            #[cfg(feature = "mysql")]
            Kind::Mysql => {
                let mut $c = diesel::MysqlConnection::establish(&$t.url).unwrap();
                $body
            }
            #[allow(unreachable_patterns)]
            other => panic!("{other:?} is not compiled in"),
        }
    };
}

/// diesel_migrations runs the pending migrations of `folder`; returns their versions.
fn diesel_runs(t: &TestDb, folder: &Path) -> Vec<String> {
    with_diesel!(t, c => {
        let source = FileBasedMigrations::from_path(folder).unwrap();
        c.run_pending_migrations(source)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    })
}

/// Our migrator over the chain imported from the whole fixture folder.
fn imported(scratch: &Scratch, config: Config) -> Migrator {
    let printed = import_diesel(
        &fixture("diesel_project/migrations"),
        &scratch.path().join("migrations"),
    );
    assert!(
        printed.contains("imported 5 diesel migration(s)"),
        "{printed}"
    );
    Migrator::from_folder(scratch.path(), "migrations", config).expect("the import loads")
}

fn diesel_table(t: &TestDb) -> Vec<String> {
    let mut v = t
        .oracle()
        .strings("SELECT version AS s FROM __diesel_schema_migrations");
    v.sort();
    v
}

fn adopted_explicitly_then_launched(t: &TestDb) {
    let scratch = Scratch::new();
    let old = old_service(scratch.path(), &V[..3]);
    assert_eq!(diesel_runs(t, &old).len(), 3);
    assert_eq!(events(t), V[..3]);
    let m = imported(&scratch, Config::default());
    let mut db = t.connect();

    // By default, a launch refuses instead of running the history again.
    let err = m.launch(&mut db).unwrap_err();
    assert!(matches!(err, Error::DieselNotAdopted { .. }), "{err:?}");
    let text = err.to_string();
    for expected in [
        "migrated by diesel_migrations",
        "3 version(s), the newest 20240103000003",
        "Migrator::adopt_diesel",
        "DieselTakeover::OnUpgrade",
        "nothing was run",
    ] {
        assert!(text.contains(expected), "`{expected}` in: {text}");
    }
    assert_eq!(events(t), V[..3]);
    assert!(version_rows(t).is_empty());

    // Adoption: stamped to the matching revision, nothing run.
    let adoption = m.adopt_diesel(&mut db).unwrap();
    assert_eq!(adoption.diesel_versions, V[..3]);
    assert_eq!(adoption.adopted, revs(&V[..3]));
    assert_eq!(adoption.rows, [rev(V[2])]);
    assert_eq!(version_rows(t), [rev(V[2])]);
    assert_eq!(
        history(t),
        V[..3]
            .iter()
            .map(|v| format!("{} adopt adopted", rev(v)))
            .collect::<Vec<_>>()
    );
    assert_eq!(events(t), V[..3]);
    // Idempotent.
    let again = m.adopt_diesel(&mut db).unwrap();
    assert!(again.adopted.is_empty());
    assert_eq!(again.rows, [rev(V[2])]);

    // The launch runs only what the old service did not have.
    assert_eq!(m.pending(&mut db).unwrap(), revs(&V[3..]));
    assert_eq!(m.launch(&mut db).unwrap().revisions(), revs(&V[3..]));
    assert_eq!(events(t), V);
    assert_eq!(version_rows(t), [rev(V[4])]);
    assert!(m.check(&mut db).unwrap().drift.is_empty());
    assert!(m.launch(&mut db).unwrap().is_empty());
    // diesel's table is left as it was.
    assert_eq!(diesel_table(t), V[..3]);
    // Adopting again after the launch changes nothing.
    assert!(m.adopt_diesel(&mut db).unwrap().adopted.is_empty());
    // Downgrades use the imported down.sql, adopted revisions included.
    let down = m.downgrade(&mut db, &rev(V[1])).unwrap();
    assert_eq!(down.revisions(), revs(&[V[4], V[3], V[2]]));
    assert_eq!(events(t), V[..2]);
}

/// The deploy-step form: `app migrate adopt-diesel`, then `upgrade heads`.
fn adopted_by_the_command(t: &TestDb) {
    let scratch = Scratch::new();
    let old = old_service(scratch.path(), &V[..3]);
    diesel_runs(t, &old);
    let m = imported(&scratch, Config::default());
    let folder = scratch.path().join("migrations");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--db", t.url.as_str()]);
        let ran = migrate_command(&folder, &all);
        assert_eq!(
            ran.code,
            Some(0),
            "{args:?}:\n{}\n{}",
            ran.stdout,
            ran.stderr
        );
        ran.stdout
    };

    // Refused by `upgrade` as by a launch, naming the command that adopts.
    let refused = migrate_command(&folder, &["upgrade", "heads", "--db", t.url.as_str()]);
    assert_eq!(refused.code, Some(1), "{}", refused.stdout);
    for expected in [
        "migrated by diesel_migrations",
        &format!("run `app migrate adopt-diesel --db {}`", t.url),
    ] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}: {}",
            refused.stderr
        );
    }
    assert_eq!(events(t), V[..3]);

    let text = run(&["adopt-diesel"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            format!("Adopting {}", rev(V[0])),
            format!("Adopting {}", rev(V[1])),
            format!("Adopting {}", rev(V[2])),
            format!(
                "adopted 3 diesel version(s): the version table now holds {}; no migration ran",
                rev(V[2])
            ),
            format!(
                "  next: `app migrate upgrade heads --db {}` applies what comes after",
                t.url
            ),
        ],
        "{text}"
    );
    assert_eq!(version_rows(t), [rev(V[2])]);
    assert_eq!(events(t), V[..3]);

    // Again: nothing written; in JSON, every list.
    let again = run(&["adopt-diesel", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&again).expect(&again);
    assert_eq!(doc["command"], "adopt-diesel", "{doc}");
    assert_eq!(doc["diesel_versions"], serde_json::json!(V[..3]), "{doc}");
    assert_eq!(doc["adopted"], serde_json::json!([]), "{doc}");
    assert_eq!(doc["rows"], serde_json::json!([rev(V[2])]), "{doc}");
    assert_eq!(history(t).len(), 3);
    let text = run(&["adopt-diesel"]);
    assert_eq!(
        text,
        format!("already adopted: the version table holds {}, which includes the 3 version(s) diesel_migrations applied; nothing was written", rev(V[2]))
    );

    run(&["upgrade", "heads"]);
    assert_eq!(events(t), V);
    assert!(m.is_up_to_date(&mut t.connect()).unwrap());
}

fn adopted_on_first_launch(t: &TestDb) {
    let scratch = Scratch::new();
    let old = old_service(scratch.path(), &V[..3]);
    diesel_runs(t, &old);
    let m = imported(
        &scratch,
        Config {
            diesel: DieselTakeover::OnUpgrade,
            ..Config::default()
        },
    );
    let mut db = t.connect();
    let report = m.launch(&mut db).unwrap();
    assert_eq!(report.revisions(), revs(&V[3..]));
    assert_eq!(events(t), V);
    assert_eq!(
        history(t),
        [
            format!("{} adopt adopted", rev(V[0])),
            format!("{} adopt adopted", rev(V[1])),
            format!("{} adopt adopted", rev(V[2])),
            format!("{} upgrade applied", rev(V[3])),
            format!("{} upgrade applied", rev(V[4])),
        ]
    );
    assert!(m.launch(&mut db).unwrap().is_empty());
    assert!(m.is_up_to_date(&mut db).unwrap());
}

fn a_gap_is_refused_by_name(t: &TestDb) {
    let scratch = Scratch::new();
    // The old service never had 20240102000002 (say, merged late).
    let old = old_service(scratch.path(), &[V[0], V[2]]);
    assert_eq!(diesel_runs(t, &old).len(), 2);
    for config in [
        Config::default(),
        Config {
            diesel: DieselTakeover::OnUpgrade,
            ..Config::default()
        },
    ] {
        let on_launch = config.diesel == DieselTakeover::OnUpgrade;
        let m = imported(&Scratch::new(), config);
        let mut db = t.connect();
        let err = if on_launch {
            m.launch(&mut db).unwrap_err()
        } else {
            m.adopt_diesel(&mut db).unwrap_err()
        };
        let text = err.to_string();
        for expected in [
            "not a prefix",
            "gap at diesel_20240102000002 (diesel version 20240102000002)",
            "although it applied 20240103000003 (revision diesel_20240103000003)",
            "nothing was written",
        ] {
            assert!(text.contains(expected), "`{expected}` in: {text}");
        }
        assert!(version_rows(t).is_empty());
        assert!(history(t).is_empty());
        assert_eq!(events(t), [V[0], V[2]]);
    }
}

fn an_unknown_version_is_refused_by_name(t: &TestDb) {
    let scratch = Scratch::new();
    let old = old_service(scratch.path(), &V[..2]);
    // A hotfix the imported folder does not have.
    let hotfix = old.join("2024-01-02-120000_hotfix");
    std::fs::create_dir_all(&hotfix).unwrap();
    std::fs::write(hotfix.join("up.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(hotfix.join("down.sql"), "SELECT 1;\n").unwrap();
    assert_eq!(diesel_runs(t, &old).len(), 3);
    let m = imported(&scratch, Config::default());
    let mut db = t.connect();
    let text = m.adopt_diesel(&mut db).unwrap_err().to_string();
    for expected in [
        "records version(s) 20240102120000 (revision diesel_20240102120000) which this migration history does not contain",
        "cargo xtask import-diesel",
    ] {
        assert!(text.contains(expected), "`{expected}` in: {text}");
    }
    assert!(version_rows(t).is_empty());
}

fn a_database_diesel_ran_our_set_on_is_adopted(t: &TestDb) {
    // A team that ran our set through diesel's harness (`Migrator::diesel_source`).
    let scratch = Scratch::new();
    let m = imported(&scratch, Config::default());
    let applied: usize =
        with_diesel!(t, c => c.run_pending_migrations(m.diesel_source().unwrap()).unwrap().len());
    assert_eq!(applied, 5);
    let mut db = t.connect();
    let adoption = m.adopt_diesel(&mut db).unwrap();
    assert_eq!(adoption.adopted, revs(&V));
    assert_eq!(adoption.rows, [rev(V[4])]);
    assert!(m.launch(&mut db).unwrap().is_empty());
    assert_eq!(events(t), V);
}

fn a_fresh_database_is_not_affected(t: &TestDb) {
    let scratch = Scratch::new();
    let m = imported(&scratch, Config::default());
    let mut db = t.connect();
    let adoption = m.adopt_diesel(&mut db).unwrap();
    assert!(adoption.diesel_versions.is_empty() && adoption.adopted.is_empty());
    let told = migrate_command(
        &scratch.path().join("migrations"),
        &["adopt-diesel", "--db", t.url.as_str()],
    );
    assert_eq!(told.code, Some(0), "{}", told.stderr);
    assert_eq!(
        told.stdout,
        "nothing to adopt: diesel_migrations' table is absent or empty; the version table holds <base>"
    );
    assert_eq!(m.launch(&mut db).unwrap().revisions(), revs(&V));
    assert_eq!(events(t), V);
}

crate::on_all_backends!(
    adopted_explicitly_then_launched,
    adopted_on_first_launch,
    adopted_by_the_command,
    a_gap_is_refused_by_name,
    an_unknown_version_is_refused_by_name,
    a_database_diesel_ran_our_set_on_is_adopted,
    a_fresh_database_is_not_affected,
);
