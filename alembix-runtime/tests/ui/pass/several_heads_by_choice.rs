//! `heads = "any"`: a team that keeps several unmerged heads in its binary, as
//! Alembic allows, says so in the macro call; the set loads with both heads.

use alembix_runtime::EmbeddedMigrations;

static MIGRATIONS: EmbeddedMigrations =
    alembix_runtime::embed_migrations!("tests/ui/fixtures/two_heads", heads = "any");

fn main() {
    assert_eq!(MIGRATIONS.len(), 3);
    assert_eq!(MIGRATIONS.heads().len(), 2);
    let migrator = alembix_runtime::Migrator::from_embedded(&MIGRATIONS, Default::default())
        .expect("the history loads with its two heads");
    assert_eq!(migrator.heads().expect("heads").len(), 2);
}
