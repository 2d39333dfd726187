//! End-to-end tests of `alembix import-alembic` and `alembix import-diesel`:
//! the real binary on fixture projects, its output loaded back with alembix-core;
//! with a real Alembic (in a virtualenv kept under target/) for the SQL bodies,
//! offline and online against a scratch database, for one dialect or several
//! (dialect variants); and the differential suite,
//! which runs random histories through that Alembic and through `Migrator` and
//! compares every answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod alembic;
mod dialects;
mod diesel;
mod differential;
mod driver;
mod offline_sql;
mod online;
mod support;
mod venv;
