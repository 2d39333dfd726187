//! `embed_migrations!`: reads a migrations folder at build time, validates it with
//! `migrate-core`, and embeds it in the binary.
