//! Tests of `embed_migrations!`, in one test binary:
//!
//! - `ui`: trybuild compile-fail cases (one per category of problem) and pass cases;
//! - `embedded`: the API of the embedded set on valid fixtures;
//! - `differential`: the embedded set equals the set the runtime scans from the
//!   same folder at run time;
//! - `launch`: a launch at the heads uses the build-time heads and digest (no
//!   graph, no lock);
//! - `rebuild`: editing, adding and deleting a migration re-embeds on the next
//!   `cargo build` of a scratch crate.

#[path = "embed/differential.rs"]
mod differential;
#[path = "embed/embedded.rs"]
mod embedded;
#[path = "embed/launch.rs"]
mod launch;
#[path = "embed/rebuild.rs"]
mod rebuild;
#[path = "embed/ui.rs"]
mod ui;

/// The error type of the tests: they return `Err` instead of panicking.
type TestResult = Result<(), Box<dyn std::error::Error>>;
