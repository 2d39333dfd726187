//! `Config::target_schema` / `--schema`: the migrations run in the schema
//! (PostgreSQL) or database (MySQL/MariaDB) named, created by a run when
//! missing and never by a read; a lent connection gets its own search path /
//! database back; `--sql` scripts start there; SQLite refuses it. And the
//! silent rebuild it exists to prevent: an Alembic database whose version
//! table is in another schema, run without the setting, is refused with
//! nothing written, and taken over where it is with the setting.

// Most of this file is about the servers: built for SQLite alone, its server
// helpers and their imports are unused.
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

use crate::support::{fixtures, migrator, Kind, Oracle, TestDb};
use alembix_runtime::cli::Exit;
use alembix_runtime::{Config, Dialect, Error, Migrations, OfflineCommand, Standing};
use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";

fn config(target: &str) -> Config {
    Config {
        target_schema: Some(target.to_string()),
        ..Config::default()
    }
}

/// A target schema for a test: on PostgreSQL a schema of the test's own
/// database; on MySQL/MariaDB a database of the server, dropped with this.
struct Target {
    name: String,
    url: String,
    kind: Kind,
}

impl Target {
    fn new(t: &TestDb, suffix: &str) -> Target {
        let name = match t.kind {
            Kind::Mysql => format!("{}_{suffix}", t.name),
            _ => suffix.to_string(),
        };
        Target {
            name,
            url: t.url.clone(),
            kind: t.kind,
        }
    }

    /// Whether it exists.
    fn exists(&self, oracle: &mut Oracle) -> bool {
        let query = match self.kind {
            Kind::Mysql => format!(
                "SELECT CAST(COUNT(*) AS SIGNED) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{}'",
                self.name
            ),
            _ => format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_namespace WHERE nspname = '{}'",
                self.name
            ),
        };
        oracle.number(&query) > 0
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if self.kind == Kind::Mysql {
            let mut oracle = Oracle::connect(self.kind, &self.url);
            let _ = oracle.try_exec(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

/// The tables of one schema (PostgreSQL) or database (MySQL), sorted.
fn tables_in(oracle: &mut Oracle, schema: &str) -> Vec<String> {
    let cast = match oracle.kind() {
        Kind::Mysql => "CHAR",
        _ => "TEXT",
    };
    let mut tables = oracle.strings(&format!(
        "SELECT CAST(table_name AS {cast}) AS s FROM information_schema.tables WHERE table_schema = '{schema}'"
    ));
    tables.sort();
    tables
}

/// The rows of the target's version table.
fn version_rows(oracle: &mut Oracle, target: &Target) -> Vec<String> {
    oracle.strings(&format!(
        "SELECT version_num AS s FROM {}.alembic_version",
        target.name
    ))
}

/// The connection's default schema / database.
fn default_schema(oracle: &mut Oracle) -> String {
    let query = match oracle.kind() {
        Kind::Mysql => "SELECT CAST(DATABASE() AS CHAR) AS s",
        _ => "SELECT CAST(current_schema() AS TEXT) AS s",
    };
    oracle.strings(query).remove(0)
}

const ALL_TABLES: [&str; 4] = [
    "alembic_version",
    "alembic_version_history",
    "posts",
    "users",
];

fn upgrade_runs_in_the_target_schema_created_if_missing(t: &TestDb) {
    let mut db = t.connect();
    if t.kind == Kind::Sqlite {
        let refused = migrator("linear", config("tenant_a")).upgrade(&mut db, "heads");
        assert!(
            matches!(&refused, Err(Error::Unsupported(m)) if m.contains("SQLite has neither")),
            "{refused:?}"
        );
        let refused = migrator("linear", config("tenant_a")).current(&mut db);
        assert!(matches!(refused, Err(Error::Unsupported(_))), "{refused:?}");
        assert!(t.oracle().tables().is_empty(), "nothing was created");
        return;
    }
    let target = Target::new(t, "tenant_a");
    let mut oracle = t.oracle();
    let home = default_schema(&mut oracle);
    assert!(!target.exists(&mut oracle));

    // Reading a missing schema creates nothing: no version table.
    let reader = migrator("linear", config(&target.name));
    let current = reader.current(&mut db).unwrap();
    assert!(current.rows.is_empty(), "{current:?}");
    assert_eq!(reader.pending(&mut db).unwrap(), vec![A, B, C]);
    let check = reader.check(&mut db).unwrap();
    assert!(!check.version_table_exists, "{check:?}");
    assert!(
        matches!(check.standing, Standing::Behind { .. }),
        "{check:?}"
    );
    assert!(!target.exists(&mut oracle), "a read created the schema");

    // A run creates it, and everything lands there.
    let report = reader.upgrade(&mut db, "heads").unwrap();
    assert_eq!(report.steps.len(), 3);
    assert!(target.exists(&mut oracle));
    assert_eq!(tables_in(&mut oracle, &target.name), ALL_TABLES);
    assert!(
        tables_in(&mut oracle, &home).is_empty(),
        "{home} got tables"
    );
    assert_eq!(version_rows(&mut oracle, &target), [C]);

    // A new connection: launch at the heads, current, check.
    let mut again = t.connect();
    assert!(reader.launch(&mut again).unwrap().is_empty());
    assert_eq!(reader.current(&mut again).unwrap().rows, vec![C]);
    let check = reader.check(&mut again).unwrap();
    assert!(matches!(check.standing, Standing::UpToDate), "{check:?}");
    // Downgrade runs there too.
    let report = reader.downgrade(&mut again, "base").unwrap();
    assert_eq!(report.steps.len(), 3);
    assert_eq!(
        tables_in(&mut oracle, &target.name),
        ["alembic_version", "alembic_version_history"]
    );
}

fn a_lent_connection_gets_its_own_schema_back(t: &TestDb) {
    if t.kind == Kind::Sqlite {
        return;
    }
    let target = Target::new(t, "tenant_lent");
    let migrations = Migrations::folder(fixtures().join("linear")).config(config(&target.name));
    let mut oracle = t.oracle();
    match t.kind {
        #[cfg(feature = "postgres")]
        Kind::Postgres => {
            let mut conn = diesel::PgConnection::establish(&t.url).unwrap();
            conn.batch_execute("SET search_path TO \"$user\", public, pg_temp")
                .unwrap();
            let report = migrations.launch_on(&mut conn).unwrap();
            assert_eq!(report.steps.len(), 3);
            assert_eq!(
                text(&mut conn, "SELECT current_setting('search_path') AS s"),
                "\"$user\", public, pg_temp"
            );
            // The application's unqualified names are its own schema's again.
            conn.batch_execute("CREATE TABLE app_own (id INTEGER)")
                .unwrap();
        }
        #[cfg(feature = "mysql")]
        Kind::Mysql => {
            let mut conn = diesel::MysqlConnection::establish(&t.url).unwrap();
            let report = migrations.launch_on(&mut conn).unwrap();
            assert_eq!(report.steps.len(), 3);
            assert_eq!(
                text(&mut conn, "SELECT CAST(DATABASE() AS CHAR) AS s"),
                t.name
            );
            conn.batch_execute("CREATE TABLE app_own (id INTEGER)")
                .unwrap();
        }
        _ => unreachable!(),
    }
    let home = default_schema(&mut oracle);
    assert_eq!(tables_in(&mut oracle, &home), ["app_own"]);
    assert_eq!(tables_in(&mut oracle, &target.name), ALL_TABLES);

    // One `Database` used with a target, then without: the second operation
    // is back in the connection's own schema (where nothing is).
    let mut db = t.connect();
    let with = migrator("linear", config(&target.name));
    assert_eq!(with.current(&mut db).unwrap().rows, vec![C]);
    let without = migrator("linear", Config::default());
    let mut seen = Vec::new();
    match without.current(&mut db) {
        // PostgreSQL: the version table is only in the target schema.
        Err(Error::VersionTableElsewhere { found_in, .. }) => seen = found_in,
        Ok(current) => assert!(current.rows.is_empty(), "{current:?}"),
        Err(e) => panic!("{e}"),
    }
    if t.kind == Kind::Postgres {
        assert_eq!(seen, vec![target.name.clone()]);
    }
}

#[derive(diesel::QueryableByName)]
struct S {
    #[diesel(sql_type = diesel::sql_types::Text)]
    s: String,
}

fn text<C: Connection>(conn: &mut C, query: &str) -> String
where
    S: diesel::deserialize::QueryableByName<C::Backend>,
    diesel::query_builder::SqlQuery: for<'a> diesel::query_dsl::LoadQuery<'a, C, S>,
{
    let rows: Vec<S> = diesel::sql_query(query).load(conn).unwrap();
    rows.into_iter().next().unwrap().s
}

crate::on_all_backends!(
    upgrade_runs_in_the_target_schema_created_if_missing,
    a_lent_connection_gets_its_own_schema_back,
    the_schema_flag_runs_the_command_set_there,
    the_offline_script_through_its_client_lands_in_the_target_schema,
    replicas_starting_together_create_the_schema_once,
);

/// Several processes launching at once into a missing schema: each creates
/// it if missing before the run lock (a concurrent `CREATE SCHEMA IF NOT
/// EXISTS` may fail on PostgreSQL's catalog key; the loser finds it made),
/// then the lock lets one of them migrate.
fn replicas_starting_together_create_the_schema_once(t: &TestDb) {
    if t.kind == Kind::Sqlite {
        return;
    }
    let target = Target::new(t, "tenant_race");
    let barrier = std::sync::Barrier::new(6);
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    let m = migrator("linear", config(&target.name));
                    let mut db = t.connect();
                    barrier.wait();
                    m.launch(&mut db)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let steps: usize = reports
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")).steps.len())
        .sum();
    assert_eq!(steps, 3);
    assert_eq!(tables_in(&mut t.oracle(), &target.name), ALL_TABLES);
}

/// The `--sql` script, run by the dialect's own client (`psql`, `mariadb`),
/// creates the schema and builds everything there; the next online launch
/// with the same setting has nothing to do.
fn the_offline_script_through_its_client_lands_in_the_target_schema(t: &TestDb) {
    if t.kind == Kind::Sqlite {
        return;
    }
    let target = Target::new(t, "tenant_sql");
    let m = migrator("linear", config(&target.name));
    let dialect = match t.kind {
        Kind::Mysql => Dialect::Mysql,
        _ => Dialect::Postgres,
    };
    let script = m
        .offline_sql(dialect, OfflineCommand::Upgrade("heads"))
        .unwrap();
    if crate::sql_client::run_script(&t.url, &script).is_none() {
        return;
    }
    let mut oracle = t.oracle();
    let home = default_schema(&mut oracle);
    assert_eq!(tables_in(&mut oracle, &target.name), ALL_TABLES, "{script}");
    assert!(tables_in(&mut oracle, &home).is_empty(), "{script}");
    assert_eq!(version_rows(&mut oracle, &target), [C]);
    let mut db = t.connect();
    assert!(m.launch(&mut db).unwrap().is_empty());
}

#[test]
fn offline_scripts_start_in_the_target_schema() {
    let m = migrator("linear", config("tenant_a"));
    let pg = m
        .offline_sql(Dialect::Postgres, OfflineCommand::Upgrade("heads"))
        .unwrap();
    assert!(
        pg.starts_with("SET client_encoding = 'UTF8';\n\nCREATE SCHEMA IF NOT EXISTS \"tenant_a\";\n\nSET search_path TO \"tenant_a\";\n\nCREATE TABLE \"tenant_a\".\"alembic_version\""),
        "{pg}"
    );
    let my = m
        .offline_sql(
            Dialect::Mysql,
            OfflineCommand::Downgrade(&format!("{C}:{B}")),
        )
        .unwrap();
    assert!(
        my.starts_with("SET NAMES utf8mb4;\n\nCREATE DATABASE IF NOT EXISTS `tenant_a`;\n\nUSE `tenant_a`;\n\n"),
        "{my}"
    );
    let refused = m.offline_sql(Dialect::Sqlite, OfflineCommand::Upgrade("heads"));
    assert!(matches!(refused, Err(Error::Unsupported(_))), "{refused:?}");
    // A version table placed apart stays apart; the migrations still run in the target.
    let apart = migrator(
        "linear",
        Config {
            version_table_schema: Some("ops".into()),
            ..config("tenant_a")
        },
    );
    let pg = apart
        .offline_sql(Dialect::Postgres, OfflineCommand::Upgrade("heads"))
        .unwrap();
    assert!(
        pg.contains("SET search_path TO \"tenant_a\";\n\nCREATE TABLE \"ops\".\"alembic_version\""),
        "{pg}"
    );
}

#[test]
fn a_target_schema_is_validated_as_an_identifier() {
    for bad in ["", "a;b", "tenant-a", "sqlite_x"] {
        let set =
            alembix_runtime::core::MigrationSet::from_sources(&[], &Default::default()).unwrap();
        let refused = alembix_runtime::Migrator::new(set, config(bad));
        assert!(
            matches!(&refused, Err(Error::InvalidIdentifier { setting, .. }) if setting == "target_schema"),
            "{bad:?}: {refused:?}"
        );
    }
}

/// Alembic's own table and what the linear fixture's first two revisions
/// created, in schema `tenant_a` (Alembic run with `search_path=tenant_a`).
fn alembic_database_in(oracle: &mut Oracle, schema: &str) {
    oracle.exec(&format!(
        "CREATE SCHEMA {schema};
         CREATE TABLE {schema}.alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
         INSERT INTO {schema}.alembic_version (version_num) VALUES ('{B}');
         CREATE TABLE {schema}.users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100));
         INSERT INTO {schema}.users (id, name, email) VALUES (1, 'ada', 'ada@example.org');"
    ));
}

/// The silent rebuild: without the setting, an upgrade of an Alembic
/// database whose version table is in `tenant_a` built the whole schema again
/// in `public`. Now it is refused, naming the schema, with nothing written;
/// with the setting it is taken over where it is.
#[cfg(feature = "postgres")]
#[test]
fn an_alembic_database_in_another_schema_is_refused_without_the_setting() {
    let Some(t) = TestDb::create(Kind::Postgres, "alembic_in_another_schema") else {
        return;
    };
    let mut oracle = t.oracle();
    alembic_database_in(&mut oracle, "tenant_a");
    let m = migrator("linear", Config::default());
    let mut db = t.connect();
    for refused in [
        m.upgrade(&mut db, "heads").map(|_| ()),
        m.launch(&mut db).map(|_| ()),
        m.stamp(&mut db, &["heads"], Default::default()).map(|_| ()),
        m.current(&mut db).map(|_| ()),
        m.check(&mut db).map(|_| ()),
    ] {
        match refused {
            Err(e @ Error::VersionTableElsewhere { .. }) => {
                let text = e.to_string();
                assert!(text.contains("schema tenant_a has one"), "{text}");
                assert!(
                    text.contains("target_schema: Some(\"tenant_a\".into())"),
                    "{text}"
                );
                assert!(text.contains("schema public"), "{text}");
                assert!(text.contains("Nothing was run"), "{text}");
            }
            other => panic!("not refused: {other:?}"),
        }
    }
    assert!(
        tables_in(&mut oracle, "public").is_empty(),
        "public got tables"
    );
    // Named as a command line, the fix is the flag.
    let e = m.upgrade(&mut db, "heads").unwrap_err();
    let text = e.message(&alembix_runtime::Naming::binary("myapp migrate", None));
    assert!(
        text.contains("run again with `--schema tenant_a`"),
        "{text}"
    );

    // With the setting: taken over where it is, the rest applied there.
    let there = migrator("linear", config("tenant_a"));
    let report = there.upgrade(&mut db, "heads").unwrap();
    assert_eq!(report.adopted, vec![A, B]);
    let applied: Vec<_> = report
        .steps
        .iter()
        .filter_map(|s| s.revision.clone())
        .collect();
    assert_eq!(applied, vec![C]);
    assert_eq!(tables_in(&mut oracle, "tenant_a"), ALL_TABLES);
    assert!(
        tables_in(&mut oracle, "public").is_empty(),
        "public got tables"
    );
    assert_eq!(
        oracle.number("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM tenant_a.users"),
        1
    );

    // Naming the default schema on purpose starts a new history there.
    let public = migrator("linear", config("public"));
    assert_eq!(public.upgrade(&mut db, "heads").unwrap().steps.len(), 3);
    assert_eq!(tables_in(&mut oracle, "public"), ALL_TABLES);
}

fn run(args: &[&str]) -> Exit {
    crate::support::run_command("linear", args)
}

/// `--schema` through the command set: it overrides the program's (default)
/// configuration for `upgrade`, `current`, `check` and `downgrade`.
fn the_schema_flag_runs_the_command_set_there(t: &TestDb) {
    if t.kind == Kind::Sqlite {
        assert_eq!(
            run(&["upgrade", "heads", "--db", &t.url, "--schema", "tenant_a"]),
            Exit::Failure
        );
        assert!(t.oracle().tables().is_empty());
        return;
    }
    let target = Target::new(t, "tenant_cli");
    let mut oracle = t.oracle();
    let home = default_schema(&mut oracle);
    let on = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--db", &t.url, "--schema", &target.name]);
        run(&all)
    };
    assert_eq!(on(&["check"]), Exit::Pending);
    assert!(!target.exists(&mut oracle), "check created the schema");
    assert_eq!(on(&["upgrade", "heads"]), Exit::Success);
    assert_eq!(tables_in(&mut oracle, &target.name), ALL_TABLES);
    assert!(tables_in(&mut oracle, &home).is_empty());
    assert_eq!(on(&["check"]), Exit::Success);
    assert_eq!(on(&["current"]), Exit::Success);
    assert_eq!(on(&["downgrade", "-1"]), Exit::Success);
    assert_eq!(version_rows(&mut oracle, &target), [B]);
}
