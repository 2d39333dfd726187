//! The application's own connection, lent for a launch: the migration runs
//! on it, and the application keeps using it afterwards, with its session
//! settings as they were.

use crate::support::{fixtures, Kind, TestDb};
use alembix_runtime::{Database, Migrations};
use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

fn migrations() -> Migrations {
    Migrations::folder(fixtures().join("linear"))
}

/// Launches on `conn` twice (apply, then the one-query relaunch), then uses
/// it as the application would.
fn launch_and_keep_using<C: SimpleConnection>(conn: &mut C)
where
    for<'c> Database<'c>: From<&'c mut C>,
{
    let report = migrations().launch_on(&mut *conn).unwrap();
    assert_eq!(report.rows_after, vec!["c3c3c3c3c3c3"]);
    assert_eq!(report.steps.len(), 3);
    let again = migrations().launch_on(&mut *conn).unwrap();
    assert!(again.is_empty());
    // Still open, outside any transaction.
    conn.batch_execute("INSERT INTO users (id, name) VALUES (2, 'after the launch')")
        .unwrap();
}

/// The one text column of a query's first row.
fn text<C: Connection>(conn: &mut C, query: &str) -> String
where
    Text: diesel::deserialize::QueryableByName<C::Backend>,
    diesel::query_builder::SqlQuery: for<'a> diesel::query_dsl::LoadQuery<'a, C, Text>,
{
    let rows: Vec<Text> = diesel::sql_query(query).load(conn).unwrap();
    rows.into_iter().next().unwrap().value
}

fn the_apps_connection_is_given_back_as_it_was(t: &TestDb) {
    match t.kind {
        Kind::Sqlite => {
            let path = t.sqlite_path().unwrap();
            let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
            conn.batch_execute("PRAGMA busy_timeout = 1234").unwrap();
            launch_and_keep_using(&mut conn);
            let setting = "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout";
            assert_eq!(text(&mut conn, setting), "1234");
        }
        #[cfg(feature = "postgres")]
        Kind::Postgres => {
            let mut conn = diesel::PgConnection::establish(&t.url).unwrap();
            conn.batch_execute("SET lock_timeout = '7s'").unwrap();
            launch_and_keep_using(&mut conn);
            let setting = "SELECT current_setting('lock_timeout') AS value";
            assert_eq!(text(&mut conn, setting), "7s");
        }
        #[cfg(feature = "mysql")]
        Kind::Mysql => {
            let mut conn = diesel::MysqlConnection::establish(&t.url).unwrap();
            conn.batch_execute(
                "SET SESSION lock_wait_timeout = 77, SESSION innodb_lock_wait_timeout = 78",
            )
            .unwrap();
            launch_and_keep_using(&mut conn);
            let setting = "SELECT CONCAT(@@SESSION.lock_wait_timeout, ',', @@SESSION.innodb_lock_wait_timeout) AS value";
            assert_eq!(text(&mut conn, setting), "77,78");
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!("a backend without its feature is skipped"),
    }
}

crate::on_all_backends!(the_apps_connection_is_given_back_as_it_was);

/// A MySQL `DATETIME` has no time zone: the history's times are written in
/// UTC, so a writer in one session time zone and a reader in another agree.
#[cfg(feature = "mysql")]
#[test]
fn mysql_history_times_do_not_follow_the_writers_time_zone() {
    crate::support::run(Kind::Mysql, "mysql_time_zone", |t| {
        let mut conn = diesel::MysqlConnection::establish(&t.url).unwrap();
        conn.batch_execute("SET time_zone = '+05:00'").unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64;
        migrations().launch_on(&mut conn).unwrap();
        let m = migrations().migrator().unwrap();
        let mut reader = t.connect(); // the server's own time zone
        for entry in m.applied_history(&mut reader).unwrap() {
            let off = (entry.started_at.unix_micros() - now).abs();
            assert!(
                off < 60_000_000,
                "{} is {off} µs from now",
                entry.started_at
            );
        }
    });
}
