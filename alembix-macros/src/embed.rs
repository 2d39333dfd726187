//! The pipeline: read → validate → expand, or report every problem found.

use crate::read::{read, FolderArg};
use crate::validate::validate;
use crate::{expand, report};
use proc_macro2::TokenStream;

/// Expands `embed_migrations!(folder)`: the embedded set, or one compile error per
/// problem followed by an empty placeholder set.
pub(crate) fn embed(folder: &FolderArg) -> TokenStream {
    match read(folder)
        .and_then(validate)
        .and_then(|v| expand::expand(&v, &folder.runtime))
    {
        Ok(tokens) => tokens,
        Err(problems) => report::report(&problems, folder.span, &folder.runtime),
    }
}
