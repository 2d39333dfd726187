//! Fan-out ([`Migrator::fleet`], the commands' `--targets`/`--schemas`):
//! every target brought to the heads with its own version table; the first
//! failure stops the run (targets after it not run) unless `--keep-going`;
//! a failing canary stops everything; a rerun after the fix redoes nothing
//! already done; `check` and `current --check-heads` summarise in one exit
//! code. Targets are SQLite files, PostgreSQL schemas of the test's
//! database, or MySQL/MariaDB databases of the server.

// Built for SQLite alone, the server helpers are unused.
#![cfg_attr(
    not(all(feature = "postgres", feature = "mysql")),
    allow(
        dead_code,
        unused_imports,
        unused_variables,
        unused_mut,
        unreachable_code
    )
)]

use crate::support::{migrator, Kind, Oracle, TestDb};
use alembix_runtime::cli::Exit;
use alembix_runtime::{
    list_schemas, Config, Error, FleetCommand, FleetOptions, RepairAction, SchemaSelector,
    Standing, Target, TargetOutcome,
};
use std::path::PathBuf;

const C: &str = "c3c3c3c3c3c3";

/// `n` targets of one backend, removed with this.
struct Fleet {
    targets: Vec<Target>,
    /// The names of the schemas / databases (the files' stems on SQLite).
    names: Vec<String>,
    kind: Kind,
    url: String,
    dir: Option<PathBuf>,
}

impl Fleet {
    fn new(t: &TestDb, n: usize) -> Fleet {
        let mut fleet = Fleet {
            targets: Vec::new(),
            names: Vec::new(),
            kind: t.kind,
            url: t.url.clone(),
            dir: None,
        };
        for i in 0..n {
            let name = match t.kind {
                Kind::Mysql => format!("{}_t{i}", t.name),
                _ => format!("tenant_{i}"),
            };
            let target = match t.kind {
                Kind::Sqlite => {
                    let dir = t.sqlite_path().unwrap().with_file_name("fleet");
                    std::fs::create_dir_all(&dir).unwrap();
                    fleet.dir = Some(dir.clone());
                    Target::url(format!("sqlite://{}", dir.join(&name).display()))
                }
                _ => Target::schema(&t.url, &name),
            };
            fleet.names.push(name);
            fleet.targets.push(target);
        }
        fleet
    }

    /// A direct connection to target `i`, pointed at its schema.
    fn oracle(&self, i: usize) -> Oracle {
        match self.kind {
            Kind::Sqlite => Oracle::connect(self.kind, &self.targets[i].url),
            _ => Oracle::connect(self.kind, &self.url),
        }
    }

    /// `table` qualified for target `i`.
    fn table(&self, i: usize, table: &str) -> String {
        match self.kind {
            Kind::Sqlite => table.to_string(),
            Kind::Mysql => format!("`{}`.{table}", self.names[i]),
            _ => format!("{}.{table}", self.names[i]),
        }
    }

    fn version_rows(&self, i: usize) -> Vec<String> {
        let table = self.table(i, "alembic_version");
        self.oracle(i)
            .strings(&format!("SELECT version_num AS s FROM {table}"))
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        match self.kind {
            Kind::Mysql => {
                let mut oracle = Oracle::connect(self.kind, &self.url);
                for name in &self.names {
                    let _ = oracle.try_exec(&format!("DROP DATABASE IF EXISTS `{name}`"));
                }
            }
            Kind::Sqlite => {
                if let Some(dir) = &self.dir {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            _ => {}
        }
    }
}

fn outcomes(report: &alembix_runtime::FleetReport) -> Vec<&'static str> {
    report.results.iter().map(|r| r.outcome.word()).collect()
}

fn steps(report: &alembix_runtime::FleetReport) -> Vec<usize> {
    report
        .results
        .iter()
        .map(|r| match &r.outcome {
            TargetOutcome::Ran(report) => report.steps.len(),
            _ => usize::MAX,
        })
        .collect()
}

fn a_fleet_stops_at_its_first_failure_and_a_rerun_redoes_nothing(t: &TestDb) {
    let fleet = Fleet::new(t, 6);
    let m = migrator("linear", Config::default());
    // Target 2 cannot take the history: a `posts` table is in the way.
    if t.kind != Kind::Sqlite {
        m.for_schema(Some(&fleet.names[2]))
            .unwrap()
            .upgrade(&mut t.connect(), "b2b2b2b2b2b2")
            .unwrap();
    } else {
        m.upgrade(
            &mut alembix_runtime::Database::connect(&fleet.targets[2].url).unwrap(),
            "b2b2b2b2b2b2",
        )
        .unwrap();
    }
    let blocker = fleet.table(2, "posts");
    fleet
        .oracle(2)
        .exec(&format!("CREATE TABLE {blocker} (id INTEGER)"));

    let upgrade = FleetCommand::Upgrade("heads");
    let one_at_a_time = FleetOptions {
        jobs: 1,
        ..FleetOptions::default()
    };
    let report = m.fleet(&fleet.targets, &upgrade, &one_at_a_time, &|_| {});
    assert_eq!(
        outcomes(&report),
        ["ok", "ok", "failed", "not-run", "not-run", "not-run"]
    );
    // The step rolled back (on MySQL, whose DDL cannot, it is recorded
    // failed with nothing of it run, for a person to look at).
    let failed = &report.results[2].outcome;
    assert!(
        matches!(failed, TargetOutcome::Failed(Error::Migration { .. })),
        "{failed:?}"
    );
    assert_eq!(fleet.version_rows(0), [C]);
    assert_eq!(
        fleet.version_rows(2),
        ["b2b2b2b2b2b2"],
        "nothing half applied"
    );

    // The fix, then the same run with every job: nothing is redone.
    fleet.oracle(2).exec(&format!("DROP TABLE {blocker}"));
    if t.kind == Kind::Mysql {
        let reason = "the blocking table is gone; nothing of c3 ran";
        m.for_schema(Some(&fleet.names[2]))
            .unwrap()
            .repair(&mut t.connect(), C, RepairAction::RolledBack, reason)
            .unwrap();
    }
    let parallel = FleetOptions {
        jobs: 3,
        ..FleetOptions::default()
    };
    let seen = std::sync::Mutex::new(Vec::new());
    let report = m.fleet(&fleet.targets, &upgrade, &parallel, &|r| {
        seen.lock().unwrap().push(r.index);
    });
    assert_eq!(outcomes(&report), ["ok"; 6], "{report:?}");
    assert_eq!(steps(&report), [0, 0, 1, 3, 3, 3]);
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(seen, [0, 1, 2, 3, 4, 5], "every target reported once");
    for i in 0..6 {
        assert_eq!(fleet.version_rows(i), [C], "target {i}");
    }

    // `check` over the fleet: all at head.
    let report = m.fleet(&fleet.targets, &FleetCommand::Check, &parallel, &|_| {});
    for r in &report.results {
        let TargetOutcome::Checked(check) = &r.outcome else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!(check.standing, Standing::UpToDate);
    }
}

fn a_failing_canary_stops_the_fleet_and_keep_going_tries_every_target(t: &TestDb) {
    let fleet = Fleet::new(t, 4);
    let m = migrator("linear", Config::default());
    let mut targets = fleet.targets.clone();
    // The canary cannot be reached.
    targets[0] = match t.kind {
        Kind::Sqlite => Target::url("sqlite:///nonexistent-folder/x.db"),
        Kind::Postgres => Target::url("postgres://postgres:s3cret@127.0.0.1:1/nowhere"),
        Kind::Mysql => Target::url("mysql://root:s3cret@127.0.0.1:1/nowhere"),
    };
    let canary = FleetOptions {
        jobs: 4,
        canary: 1,
        keep_going: true,
    };
    let report = m.fleet(&targets, &FleetCommand::Upgrade("heads"), &canary, &|_| {});
    assert_eq!(
        outcomes(&report),
        ["failed", "not-run", "not-run", "not-run"]
    );
    let TargetOutcome::Failed(e) = &report.results[0].outcome else {
        unreachable!()
    };
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    assert!(!e.to_string().contains("s3cret"), "{e}");
    assert_eq!(report.failed(), 1);
    assert_eq!(report.not_run(), 3);

    // Without the canary, keep-going tries every target.
    let keep_going = FleetOptions {
        jobs: 2,
        canary: 0,
        keep_going: true,
    };
    let report = m.fleet(
        &targets,
        &FleetCommand::Upgrade("heads"),
        &keep_going,
        &|_| {},
    );
    assert_eq!(outcomes(&report), ["failed", "ok", "ok", "ok"]);
    assert_eq!(report.succeeded(), 3);
    for i in 1..4 {
        assert_eq!(fleet.version_rows(i), [C], "target {i}");
    }
}

fn run(args: &[&str]) -> Exit {
    crate::support::run_command("linear", args)
}

/// The command set over a server's schemas: `--schemas PATTERN`,
/// `--schemas-query SQL`, and over a targets file; one exit code each.
fn the_commands_run_over_the_schemas_of_a_server(t: &TestDb) {
    let fleet = Fleet::new(t, 3);
    let prefix = match t.kind {
        Kind::Mysql => format!("{}\\_t%", t.name),
        _ => "tenant\\_%".to_string(),
    };
    if t.kind == Kind::Sqlite {
        // A SQLite file has no schemas to list.
        assert_eq!(
            run(&["check", "--db", &t.url, "--schemas", "x%"]),
            Exit::Failure
        );
        let list = fleet.dir.as_ref().unwrap().join("targets.txt");
        let lines: Vec<&str> = fleet.targets.iter().map(|t| t.url.as_str()).collect();
        std::fs::write(&list, format!("# tenants\n{}\n", lines.join("\n"))).unwrap();
        let list = list.to_str().unwrap();
        assert_eq!(run(&["upgrade", "heads", "--targets", list]), Exit::Success);
        assert_eq!(run(&["check", "--targets", list]), Exit::Success);
        assert_eq!(
            run(&["downgrade", "-1", "--targets", list, "--jobs", "2"]),
            Exit::Success
        );
        assert_eq!(
            run(&["current", "--check-heads", "--targets", list]),
            Exit::Pending
        );
        assert_eq!(fleet.version_rows(1), ["b2b2b2b2b2b2"]);
        return;
    }
    // The schemas exist before the run lists them.
    let mut oracle = t.oracle();
    for name in &fleet.names {
        let create = match t.kind {
            Kind::Mysql => format!("CREATE DATABASE `{name}`"),
            _ => format!("CREATE SCHEMA {name}"),
        };
        oracle.exec(&create);
    }
    let mut db = t.connect();
    let listed = list_schemas(&mut db, &SchemaSelector::Like(&prefix)).unwrap();
    assert_eq!(listed, fleet.names);
    let schemas = ["--db", &t.url, "--schemas", &prefix];
    let with = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(schemas);
        run(&all)
    };
    assert_eq!(with(&["check"]), Exit::Pending);
    assert_eq!(with(&["upgrade", "heads", "--canary", "1"]), Exit::Success);
    for i in 0..3 {
        assert_eq!(fleet.version_rows(i), [C], "schema {i}");
    }
    assert_eq!(with(&["check", "--json"]), Exit::Success);
    assert_eq!(with(&["stamp", "b2b2b2b2b2b2"]), Exit::Success);
    assert_eq!(with(&["current", "--check-heads"]), Exit::Pending);
    // The stamp lied (`posts` exists): the first target fails, the run stops there.
    assert_eq!(
        with(&["upgrade", "heads", "--json", "--jobs", "1"]),
        Exit::Failure
    );
    // One schema by a query.
    let query = match t.kind {
        Kind::Mysql => format!(
            "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{}'",
            fleet.names[1]
        ),
        _ => format!(
            "SELECT nspname AS name FROM pg_namespace WHERE nspname = '{}'",
            fleet.names[1]
        ),
    };
    assert_eq!(
        run(&[
            "downgrade",
            "base",
            "--db",
            &t.url,
            "--schemas-query",
            &query
        ]),
        Exit::Success
    );
    assert!(fleet.version_rows(1).is_empty());
    assert_eq!(fleet.version_rows(0), ["b2b2b2b2b2b2"]);
    // Fleet options without a fleet, and a fleet with --sql, are usage errors.
    assert_eq!(
        run(&["upgrade", "heads", "--db", &t.url, "--jobs", "2"]),
        Exit::Usage
    );
    assert_eq!(
        run(&[
            "upgrade",
            "heads",
            "--sql",
            "--dialect",
            "postgresql",
            "--schemas",
            "x"
        ]),
        Exit::Usage
    );
}

crate::on_all_backends!(
    a_fleet_stops_at_its_first_failure_and_a_rerun_redoes_nothing,
    a_failing_canary_stops_the_fleet_and_keep_going_tries_every_target,
    the_commands_run_over_the_schemas_of_a_server,
);
