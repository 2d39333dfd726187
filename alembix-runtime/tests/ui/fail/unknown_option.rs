//! The macro has one option, `heads = "any"`; anything else is refused with
//! what it accepts.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/two_heads", heads = "many");

fn main() {
    println!("{}", MIGRATIONS.len());
}
