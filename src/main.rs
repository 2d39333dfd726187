//! The example service: a community chat bot that migrates its own database.
fn main() {}
