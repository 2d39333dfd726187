//! Integration tests of the runtime against real databases: SQLite always,
//! PostgreSQL and MariaDB/MySQL with the `postgres` / `mysql` features (see
//! `support` for the servers and the skip rules).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod capture;
mod support;

mod autogenerate;
mod branched;
#[cfg(all(feature = "cli", feature = "sqlite"))]
mod broken_pipe;
mod compound;
mod dialects;
mod diesel_harness;
#[cfg(feature = "cli")]
mod fleet;
mod hostile;
mod lent;
mod linear;
mod offline;
mod print_schema;
mod recovery;
mod safety;
#[cfg(feature = "cli")]
mod schema_dump;
mod sql_client;
mod state_tables;
#[cfg(feature = "cli")]
mod target_schema;
mod timeouts;
