//! The migration set `embed_migrations!` builds into the binary: `&'static` data.
