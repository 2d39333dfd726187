//! Header keys written with a space, or with a look-alike letter (a Cyrillic
//! `о` in `transaction`), are errors naming the key meant: ignored, they would
//! drop the label and the transaction mode without a word.
//! The static is used below: the placeholder keeps it from causing a second error.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/misspelled_header_key");

fn main() {
    println!("{}", MIGRATIONS.len());
}
