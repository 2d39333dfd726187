//! `embed_migrations!`: reads a migrations folder at build time, validates it with
//! `alembix-core`, and embeds it in the binary.
//!
//! Users depend on `alembix` (or `alembix-runtime`), whose `embed_migrations!`
//! calls this one with the runtime's path (`$crate`) in front of the folder; the
//! generated code only names that path's `__private` module.
//!
//! The pipeline, one file per stage: `read` finds the folder and scans it with the
//! core, `validate` parses and validates it with the core, `layout` lays the
//! history out as the runtime's two constants and `expand` writes the code around
//! them; `report` turns the problems of any stage into compile errors.

mod embed;
mod expand;
mod layout;
mod read;
mod report;
mod validate;

/// Embeds the migrations folder at `path` (relative to the calling crate's
/// `Cargo.toml`) as the runtime's `EmbeddedMigrations`, or fails the build
/// with one error per problem in the history. Called as
/// `embed_migrations!(<runtime path>; "folder")` by the runtime's wrapper, or as
/// `embed_migrations!("folder")` for `::alembix_runtime`.
///
/// ```text
/// static MIGRATIONS: alembix::EmbeddedMigrations = alembix::embed_migrations!("migrations");
/// ```
#[proc_macro]
pub fn embed_migrations(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let folder = syn::parse_macro_input!(input as read::FolderArg);
    embed::embed(&folder).into()
}
