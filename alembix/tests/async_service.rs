//! An async (tokio) service that migrates before it serves, on a connection
//! of its own pool, through the `alembix` facade alone: the pattern the crate
//! docs show.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use alembix::{EmbeddedMigrations, Migrations};
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::{RunQueryDsl, SqliteConnection};

static MIGRATIONS: EmbeddedMigrations = alembix::embed_migrations!("tests/migrations");

fn migrations() -> Migrations {
    Migrations::embedded(&MIGRATIONS)
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrates_on_a_blocking_thread_then_serves_from_the_same_pool() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sqlite");
    let pool = Pool::builder()
        .max_size(1) // the launch's connection is the one the service then uses
        .build(ConnectionManager::<SqliteConnection>::new(
            path.to_string_lossy(),
        ))
        .unwrap();

    // Before serving: the launch runs on a blocking thread, on a pooled connection.
    let launch_pool = pool.clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut conn = launch_pool.get().unwrap();
        migrations().launch_on(&mut *conn)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.rows_after, vec!["9a8b7c6d5e4f"]);
    assert_eq!(report.steps.len(), 2);

    // Serving: requests use the pool's (same, still open) connection.
    let requests = (0..4).map(|i| {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            diesel::sql_query(
                "INSERT INTO users (id, name, email) VALUES (?, 'u', 'u@example.org')",
            )
            .bind::<diesel::sql_types::Integer, _>(i)
            .execute(&mut *conn)
            .unwrap();
        })
    });
    for request in requests {
        request.await.unwrap();
    }
    let mut conn = pool.get().unwrap();
    let count: Vec<Count> = diesel::sql_query("SELECT COUNT(*) AS n FROM users")
        .load(&mut *conn)
        .unwrap();
    assert_eq!(count[0].n, 4);

    // A second replica's launch: already at head, nothing runs.
    drop(conn);
    let again = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        migrations().launch_on(&mut *conn)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(again.is_empty());
}
