//! Two independent branches, each under its own label, may both be heads (listed
//! in load order); the macro can be used in a `static`, a `const` and a `let`.

use alembix_runtime::EmbeddedMigrations;

static IN_STATIC: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/labelled_heads");
const IN_CONST: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/labelled_heads");

fn main() {
    let in_let = alembix_runtime::embed_migrations!("tests/ui/fixtures/labelled_heads",);
    for set in [IN_STATIC, IN_CONST, in_let] {
        assert_eq!(set.len(), 3);
        assert_eq!(set.heads(), ["b1b1b1b1b1b1", "a2a2a2a2a2a2"]);
    }
}
