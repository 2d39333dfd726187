//! `schema dump` / `schema diff` ([`Migrator::replay_schema`],
//! [`Migrator::inspect_schema`]): the `schema` fixture replayed into a
//! scratch database dumps to the exact text below on each backend, twice
//! the same; a database upgraded to the heads reads the same; an index
//! added by hand shows in the diff and makes `schema diff` and `check
//! --schema-drift` exit 7 (a database behind the heads is not compared); the
//! scratch database is gone afterwards; this tool's tables are never in a
//! dump.

// Built for SQLite alone, the server helpers are unused.
#![cfg_attr(
    not(all(feature = "postgres", feature = "mysql")),
    allow(
        dead_code,
        unused_imports,
        unused_variables,
        unused_mut,
        unreachable_code
    )
)]

use crate::support::{migrator, Kind, TestDb};
use alembix_runtime::cli::Exit;
use alembix_runtime::schema::{diff, Difference, Scratch};
use alembix_runtime::Config;

const SQLITE: &str = "table authors
  column id integer
  column email varchar(200) not null
  column name varchar(100) not null default 'anonymous'
  column active integer not null default 1
  primary key (id)
  unique (email)
  index ix_authors_active_name (name) where active = 1
table books
  column id integer
  column author_id integer not null
  column title varchar(200) not null
  column price integer not null default 0
  primary key (id)
  index ix_books_newest (title, id desc)
  index ix_books_title (title)
  foreign key (author_id) references authors (id) on delete cascade on update no action
  check ck_books_price (price >= 0)
view active_authors
  SELECT id, name FROM authors WHERE active = 1
trigger books.books_touch
  CREATE TRIGGER books_touch AFTER UPDATE ON books BEGIN UPDATE authors SET active = active WHERE id = NEW.author_id; END
";

const POSTGRES: &str = "table authors
  column id integer not null
  column email character varying(200) not null
  column name character varying(100) not null default 'anonymous'::character varying
  column active integer not null default 1
  column mood mood
  primary key authors_pkey (id)
  unique uq_authors_email (email)
  index ix_authors_active_name (name) where active = 1
table books
  column id integer not null
  column author_id integer not null
  column title character varying(200) not null
  column price integer not null default 0
  primary key books_pkey (id)
  index ix_books_newest (title, id desc)
  index ix_books_title (title)
  index ix_books_title_hash (title) using hash
  foreign key fk_books_author (author_id) references authors (id) on delete cascade on update no action
  check ck_books_price (price >= 0)
view active_authors
  SELECT authors.id, authors.name FROM authors WHERE authors.active = 1
enum mood
  labels ('happy', 'sad')
sequence invoice_numbers
  bigint start 1000 increment 1 min 1 max 9223372036854775807 cache 1
function touch_books()
  CREATE OR REPLACE FUNCTION touch_books() RETURNS trigger LANGUAGE plpgsql AS $function$ BEGIN NEW.price := NEW.price; RETURN NEW; END $function$
trigger books.books_touch
  CREATE TRIGGER books_touch BEFORE UPDATE ON books FOR EACH ROW EXECUTE FUNCTION touch_books()
";

/// MariaDB: unique constraints are unique indexes, a foreign key gets an
/// index of its name, `ON UPDATE` left out reads `restrict`.
const MYSQL: &str = "table authors
  column id int(11) not null
  column email varchar(200) not null
  column name varchar(100) not null default 'anonymous'
  column active int(11) not null default 1
  primary key (id)
  unique uq_authors_email (email)
table books
  column id int(11) not null
  column author_id int(11) not null
  column title varchar(200) not null
  column price int(11) not null default 0
  primary key (id)
  index fk_books_author (author_id)
  index ix_books_newest (title, id desc)
  index ix_books_title (title)
  foreign key fk_books_author (author_id) references authors (id) on delete cascade on update restrict
  check ck_books_price (`price` >= 0)
view active_authors
  select `authors`.`id` AS `id`,`authors`.`name` AS `name` from `authors` where `authors`.`active` = 1
trigger books.books_touch
  BEFORE UPDATE FOR EACH ROW SET NEW.price = NEW.price
";

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => SQLITE,
        Kind::Postgres => POSTGRES,
        Kind::Mysql => MYSQL,
    }
}

/// A scratch database on the test's server (SQLite: in memory).
fn scratch(t: &TestDb) -> Scratch {
    Scratch::on_server(&t.url).expect("scratch database")
}

/// Whether a database of that name exists on the test's server.
fn database_exists(t: &TestDb, name: &str) -> bool {
    let mut oracle = t.oracle();
    let query = match t.kind {
        Kind::Mysql => format!(
            "SELECT CAST(COUNT(*) AS SIGNED) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'"
        ),
        _ => format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_database WHERE datname = '{name}'"),
    };
    oracle.number(&query) > 0
}

/// Runs the command line `args` over the `schema` fixture.
fn cli(args: &[&str]) -> Exit {
    crate::support::run_command("schema", args)
}

fn the_replayed_history_dumps_to_the_same_exact_text(t: &TestDb) {
    let m = migrator("schema", Config::default());
    let mut s = scratch(t);
    let name = s.name().map(str::to_string);
    let first = m.replay_schema(&mut s, "heads").unwrap();
    assert_eq!(first.text(), expected(t.kind), "{}", first.text());
    s.remove().unwrap();
    if let Some(name) = name {
        assert!(name.starts_with("alembix_scratch_"), "{name}");
        assert!(!database_exists(t, &name), "{name} was left behind");
    }
    let mut again = scratch(t);
    let second = m.replay_schema(&mut again, "heads").unwrap();
    assert_eq!(second.text(), first.text());
    for own in [
        "alembic_version",
        "alembic_version_history",
        "alembic_version_lock",
    ] {
        assert!(second.table(own).is_none(), "{own} is in the dump");
        assert!(!second.text().contains(own), "{own} is in the dump");
    }
    // Up to the first revision: no view, no partial index, no trigger.
    let mut older = scratch(t);
    let first_only = m.replay_schema(&mut older, "f1f1f1f1f1f1").unwrap();
    assert!(first_only.views.is_empty());
    assert!(first_only.triggers.is_empty());
    assert!(first_only.table("authors").unwrap().indexes.is_empty());
}

fn a_database_at_the_heads_reads_as_the_replayed_history(t: &TestDb) {
    let m = migrator("schema", Config::default());
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();
    let live = m.inspect_schema(&mut db).unwrap();
    let replayed = m.replay_schema(&mut scratch(t), "heads").unwrap();
    assert_eq!(live.text(), replayed.text());
    assert!(diff(&replayed, &live).is_empty());
    assert!(live.table("alembic_version").is_none());
    assert!(live.table("alembic_version_history").is_none());
    // The live database has the tool's tables all the same.
    assert!(t.oracle().tables().contains(&"alembic_version".to_string()));
    assert_eq!(cli(&["schema", "diff", "--db", &t.url]), Exit::Success);
    assert_eq!(
        cli(&["schema", "dump", "--live", "--db", &t.url]),
        Exit::Success
    );
    // Down to the base: nothing left but the tool's own tables, which a
    // dump leaves out.
    m.downgrade(&mut db, "base").unwrap();
    assert_eq!(m.inspect_schema(&mut db).unwrap().text(), "");
}

fn an_index_added_by_hand_shows_in_the_diff(t: &TestDb) {
    let m = migrator("schema", Config::default());
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();
    t.oracle().exec("CREATE INDEX ix_by_hand ON books (price)");
    let live = m.inspect_schema(&mut db).unwrap();
    let replayed = m.replay_schema(&mut scratch(t), "heads").unwrap();
    let lines: Vec<String> = diff(&replayed, &live)
        .iter()
        .map(Difference::line)
        .collect();
    assert_eq!(lines, [" table books", "+  index ix_by_hand (price)"]);
    assert_eq!(cli(&["schema", "diff", "--db", &t.url]), Exit::SchemaDrift);
    assert_eq!(
        cli(&["schema", "diff", "--from", "live", "--to", "history", "--db", &t.url, "--json"]),
        Exit::SchemaDrift
    );
    assert_eq!(
        cli(&["check", "--schema-drift", "--db", &t.url]),
        Exit::SchemaDrift
    );
    assert_eq!(
        cli(&["check", "--schema-drift", "--db", &t.url, "--json"]),
        Exit::SchemaDrift
    );
    // Without the flag, `check` looks at the history only.
    assert_eq!(cli(&["check", "--db", &t.url]), Exit::Success);
}

fn the_cli_drops_its_scratch_database(t: &TestDb) {
    assert_eq!(cli(&["schema", "dump", "--db", &t.url]), Exit::Success);
    assert_eq!(
        cli(&["schema", "dump", "--db", &t.url, "--json"]),
        Exit::Success
    );
    // A revision that names nothing fails, and drops the scratch all the same.
    assert_eq!(
        cli(&["schema", "dump", "--db", &t.url, "--revision", "0000dead"]),
        Exit::Failure
    );
    // The same failure through the library: the scratch is dropped with it.
    let m = migrator("schema", Config::default());
    let mut s = scratch(t);
    let name = s.name().map(str::to_string);
    assert!(m.replay_schema(&mut s, "0000dead").is_err());
    drop(s);
    if let Some(name) = name {
        assert!(!database_exists(t, &name), "{name} was left behind");
    }
}

/// A tenant schema (PostgreSQL) or database (MySQL/MariaDB) of the test,
/// dropped afterwards.
struct Tenant<'a> {
    t: &'a TestDb,
    name: String,
}

impl Drop for Tenant<'_> {
    fn drop(&mut self) {
        if self.t.kind == Kind::Mysql {
            let _ = self
                .t
                .oracle()
                .try_exec(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

fn a_target_schema_reads_as_the_replayed_history(t: &TestDb) {
    if t.kind == Kind::Sqlite {
        return; // one file, one schema
    }
    let tenant = Tenant {
        t,
        name: match t.kind {
            Kind::Mysql => format!("{}_tenant", t.name),
            _ => "tenant_a".to_string(),
        },
    };
    let m = migrator(
        "schema",
        Config {
            target_schema: Some(tenant.name.clone()),
            ..Config::default()
        },
    );
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();
    let live = m.inspect_schema(&mut db).unwrap();
    let replayed = m.replay_schema(&mut scratch(t), "heads").unwrap();
    assert_eq!(live.text(), replayed.text());
    // The connection's own schema / database has none of it.
    let own = migrator("schema", Config::default())
        .inspect_schema(&mut t.connect())
        .unwrap();
    assert!(own.tables.is_empty(), "{}", own.text());
    assert_eq!(
        cli(&["schema", "diff", "--db", &t.url, "--schema", &tenant.name]),
        Exit::Success
    );
    assert_eq!(cli(&["schema", "diff", "--db", &t.url]), Exit::SchemaDrift);
}

crate::on_all_backends!(
    a_target_schema_reads_as_the_replayed_history,
    the_replayed_history_dumps_to_the_same_exact_text,
    a_database_at_the_heads_reads_as_the_replayed_history,
    an_index_added_by_hand_shows_in_the_diff,
    the_cli_drops_its_scratch_database,
);
