//! End-to-end tests of the example service and the command set, through the
//! real binaries (`chatbot`, `cargo xtask`) and real databases.
//!
//! - `offline`: commands that need no database, `--sql`, usage errors;
//! - `backends`: every database command on SQLite, PostgreSQL and MariaDB
//!   (the servers with `--features postgres,mysql`; see `support`);
//! - `passwords`: passwords with special characters never printed, in part
//!   or whole; strings that are no URL refused;
//! - `recovery`: the audited ways out of a refused launch (`repair --resume`,
//!   `repair --accept-edit`), and hints that name the binary's own commands;
//! - `service`: the service's own defaults;
//! - `xtask`: the command set mounted in `cargo xtask`, over a folder;
//! - `scaffold`: `new-migration` / `merge` and the next `cargo build`;
//! - `usage`: usage errors under `--json`, one JSON document.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../../alembix-runtime/tests/runtime/sql_client.rs"]
mod sql_client;
mod support;

mod backends;
mod new_project;
mod offline;
mod passwords;
mod recovery;
mod scaffold;
mod service;
mod usage;
mod xtask;
