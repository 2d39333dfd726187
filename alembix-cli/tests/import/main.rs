//! End-to-end tests of `cargo xtask import-alembic` and `cargo xtask import-diesel`:
//! the real binary on fixture projects, its output loaded back with alembix-core;
//! with a real Alembic (in a virtualenv kept under target/) for the SQL bodies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod alembic;
mod diesel;
mod offline_sql;
mod support;
mod venv;
