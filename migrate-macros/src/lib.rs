//! `embed_migrations!`: reads a migrations folder at build time, validates it with
//! `migrate-core`, and embeds it in the binary.
//!
//! Users depend on `migrate-runtime`, which re-exports the macro and documents it;
//! the generated code only names `::migrate_runtime::__private`.
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
/// `Cargo.toml`) as a `::migrate_runtime::EmbeddedMigrations`, or fails the build
/// with one error per problem in the history.
///
/// ```text
/// static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
///     migrate_runtime::embed_migrations!("migrations");
/// ```
#[proc_macro]
pub fn embed_migrations(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let folder = syn::parse_macro_input!(input as read::FolderArg);
    embed::embed(&folder).into()
}
