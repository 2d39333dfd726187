//! The runtime: applies migration plans to a database with diesel.
