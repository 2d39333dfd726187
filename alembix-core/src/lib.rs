//! The pure heart of the migration tool: the file format, the revision graph,
//! Alembic's target grammar, upgrade/downgrade/stamp plans and checksums.
//!
//! Everything here takes `(file name, text)` pairs and returns values or
//! [`Problems`]; only [`scan`] touches the filesystem, and nothing talks to a
//! database. The macro, the runtime and the xtask all call [`MigrationSet::from_sources`],
//! so the rules checked at build time and at launch are the same code.
//!
//! # The migration file format
//!
//! ```sql
//! -- revision: 3f2a9c1b7d4e
//! -- down_revision: 9b8c7d6e5f4a
//! -- branch_labels: billing
//! -- depends_on: 55aa66bb77cc
//! -- message: add invoices table
//! -- create_date: 2026-11-22 10:31:00
//! -- transaction: per-migration
//!
//! -- migrate:upgrade
//! CREATE TABLE invoices (id INTEGER PRIMARY KEY, total_cents INTEGER NOT NULL);
//!
//! -- migrate:downgrade
//! DROP TABLE invoices;
//! ```
//!
//! See [`mod@file`] for every rule.
//!
//! With the `sql-check` feature, the `sql_check` module also parses every statement
//! with sqlparser for the dialects a history declares (for the build side
//! only: the runtime does not enable it).

pub mod checksum;
pub mod diesel_compat;
pub mod digest;
pub mod draw;
pub mod file;
pub mod graph;
pub mod order;
pub mod plan;
pub mod problem;
pub mod resolve;
pub mod scan;
pub mod set;
pub mod settings;
pub mod sql;
#[cfg(feature = "sql-check")]
pub mod sql_check;
pub mod status;

pub use checksum::Checksum;
pub use file::{MigrationFile, Section, Timeouts, TransactionMode};
pub use graph::{Graph, GraphOptions, HeadPolicy, RevIdx, Revision, RevisionSpec};
pub use order::topological_sort;
pub use plan::{
    check_heads, current, current_head, history, iterate, new_revision_parents, plan_downgrade,
    plan_downgrade_offline, plan_stamp, plan_stamp_offline, plan_upgrade, plan_upgrade_offline,
    resolve_depends_on, Change, Direction, HeadMaintainer, IterateOptions, Plan, PlanError,
    PlanErrorKind, Step,
};
pub use problem::{Origin, Problem, ProblemKind, Problems};
pub use resolve::{parse_relative, resolve, resolve_many, RevArg};
#[cfg(feature = "sql-check")]
pub use set::SqlCheckKey;
pub use set::{MigrationSet, SourceFile};
pub use settings::{Dialects, Settings};
pub use sql::{SqlDialect, Statement};
#[cfg(feature = "sql-check")]
pub use sql_check::{check_section, UNCHECKED_MARKER};
pub use status::{assess, drift, Assessment, Drift};
