//! Taking over a database that another tool migrated, end to end against the
//! real tools and servers:
//!
//! - [`alembic`]: a real Alembic (pip-installed into a virtualenv kept under
//!   `target/`, see [`tools`]) and our runtime take turns on one SQLite or
//!   PostgreSQL database, over the history `cargo xtask import-alembic` made
//!   from the fixture project (a branch and a merge);
//! - [`diesel`]: diesel_migrations' own harness brings a database to a
//!   version, and our runtime, over the chain `cargo xtask import-diesel` made,
//!   adopts it and continues (SQLite, PostgreSQL, MariaDB);
//! - [`foreign`]: the same adoption rule as for Alembic, with the other tool's
//!   rows written by hand: on every backend, and without Python.
//!
//! Every judgement is read straight from the database (version rows, history
//! rows, and an `events` table each migration writes one row to: a revision
//! that ran twice would show twice). Servers, and the CI rule (an unreachable
//! server, or a failed pip install, fails the test when `CI=true` and is
//! skipped with a printed line otherwise), as in `tests/runtime/support.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../runtime/support.rs"]
mod support;

mod alembic;
mod diesel;
mod foreign;
mod tools;

/// Generates one `#[test]` per backend Alembic is tested on (SQLite and
/// PostgreSQL) for each named function `fn(&TestDb)`.
#[macro_export]
macro_rules! on_alembic_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    $crate::support::run($crate::support::Kind::Sqlite, stringify!($name), super::$name)
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::support::run($crate::support::Kind::Postgres, stringify!($name), super::$name)
                }
            )*
        }
    };
}
