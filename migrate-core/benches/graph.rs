//! Parse + validate + plan benchmarks (filled in with the planner).
#![allow(missing_docs)]
fn main() {}
