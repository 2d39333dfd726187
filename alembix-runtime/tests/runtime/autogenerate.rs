//! Autogenerate ([`alembix_runtime::schema::changes`]) proven on the real
//! servers: for random pairs of schemas (A, B), A's DDL is a migration, the
//! generated upgrade and downgrade a second one; the history replayed to its
//! head reads as B (read from B's own DDL in another scratch database), and
//! reverted to the first migration reads as A again. Then the changes teams
//! make every week, each as such a pair.
//!
//! Random pairs: `ALEMBIX_AUTOGEN_CASES` per backend (default 16), from
//! `ALEMBIX_AUTOGEN_SEED` (default: the clock; CI fixes it); a failure
//! prints the seed and the case's DDL.

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

use crate::support::{migration, migrator_of, Kind, TestDb};
use alembix_runtime::schema::{changes, verify, Difference, Rename, Schema, Scratch};
use alembix_runtime::Config;

/// The two migrations (A's DDL, then the generated change) replayed and
/// reverted on the test's server; `Err` says what differs.
fn round_trip(t: &TestDb, a_sql: &str, b_sql: &str, renames: &[Rename]) -> Result<String, String> {
    let m0 = migrator_of(
        &[migration("r1", "none", a_sql, "SELECT 1;")],
        Config::default(),
    );
    let mut sa = Scratch::on_server(&t.url).map_err(|e| e.to_string())?;
    let a = m0
        .replay_schema(&mut sa, "heads")
        .map_err(|e| format!("A's DDL: {e}"))?;
    drop(sa);
    let mut sb = Scratch::on_server(&t.url).map_err(|e| e.to_string())?;
    sb.run_script(b_sql, "B")
        .map_err(|e| format!("B's DDL: {e}"))?;
    let b = m0.read_scratch(&mut sb).map_err(|e| e.to_string())?;
    drop(sb);
    let c = changes(&a, &b, renames).map_err(|e| e.to_string())?;
    let shown = format!(
        "-- upgrade\n{}\n-- downgrade\n{}",
        c.upgrade_sql(),
        c.downgrade_sql()
    );
    if a == b {
        return if c.is_empty() {
            Ok(shown)
        } else {
            Err(format!("equal schemas gave statements:\n{shown}"))
        };
    }
    if c.is_empty() {
        return Err(format!(
            "different schemas gave no statement:\nA:\n{}\nB:\n{}",
            a.text(),
            b.text()
        ));
    }
    let m = migrator_of(
        &[
            migration("r1", "none", a_sql, "SELECT 1;"),
            migration("r2", "r1", &c.upgrade_sql(), &c.downgrade_sql()),
        ],
        Config::default(),
    );
    let mut s = Scratch::on_server(&t.url).map_err(|e| e.to_string())?;
    let up = m
        .replay_schema(&mut s, "heads")
        .map_err(|e| format!("the upgrade fails: {e}\n{shown}"))?;
    let ahead = verify(&b, &up);
    if !ahead.is_empty() {
        return Err(format!(
            "after the upgrade the schema is not B:\n{}\n{shown}",
            lines(&ahead)
        ));
    }
    let down = m
        .revert_schema(&mut s, "r1")
        .map_err(|e| format!("the downgrade fails: {e}\n{shown}"))?;
    let back = verify(&a, &down);
    if !back.is_empty() {
        return Err(format!(
            "after the downgrade the schema is not A:\n{}\n{shown}",
            lines(&back)
        ));
    }
    Ok(shown)
}

fn lines(d: &[Difference]) -> String {
    d.iter()
        .map(Difference::line)
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- random schemas ------------------------------------------------------

/// A small deterministic generator (xorshift64*), so a seed replays a case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Int,
    Big,
    Var(u32),
    Text,
}

#[derive(Debug, Clone)]
struct Col {
    name: String,
    ty: Ty,
    nullable: bool,
    default: Option<i64>,
}

#[derive(Debug, Clone)]
struct Tab {
    name: String,
    cols: Vec<Col>,
    /// A unique constraint over one or two columns.
    unique: Option<Vec<String>>,
    index: Option<Ix>,
    check: Option<String>,
    /// (column, referenced table, on delete cascade)
    fk: Option<(String, String, bool)>,
}

/// An index over one or two columns; where the backend has them, partial
/// (`WHERE first IS NOT NULL`) and on an expression (`lower(first)`).
#[derive(Debug, Clone, PartialEq)]
struct Ix {
    cols: Vec<String>,
    partial: bool,
    lower: bool,
}

#[derive(Debug, Clone)]
struct Spec {
    tables: Vec<Tab>,
    /// Views: (name, table, column) for `SELECT id, column FROM table`.
    views: Vec<(String, String, String)>,
}

impl Ty {
    fn sql(&self, kind: Kind) -> String {
        match (self, kind) {
            (Ty::Int, Kind::Mysql) => "int".to_string(),
            (Ty::Int, _) => "integer".to_string(),
            (Ty::Big, _) => "bigint".to_string(),
            (Ty::Var(n), _) => format!("varchar({n})"),
            (Ty::Text, _) => "text".to_string(),
        }
    }
    fn numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Big)
    }
    /// Whether MySQL can index it without a prefix length.
    fn indexable(&self) -> bool {
        !matches!(self, Ty::Text)
    }
}

fn random_type(rng: &mut Rng) -> Ty {
    match rng.below(4) {
        0 => Ty::Int,
        1 => Ty::Big,
        2 => Ty::Var([20, 50, 100][rng.below(3)]),
        _ => Ty::Text,
    }
}

fn random_col(rng: &mut Rng, name: String) -> Col {
    let ty = random_type(&mut *rng);
    let default = (ty.numeric() && rng.chance(40)).then(|| rng.below(100) as i64);
    Col {
        name,
        nullable: rng.chance(60),
        default,
        ty,
    }
}

fn random_table(rng: &mut Rng, name: String, others: &[String]) -> Tab {
    let mut cols = vec![Col {
        name: "id".to_string(),
        ty: Ty::Int,
        nullable: false,
        default: None,
    }];
    for i in 0..1 + rng.below(3) {
        cols.push(random_col(rng, format!("c{i}")));
    }
    let mut t = Tab {
        name,
        cols,
        unique: None,
        index: None,
        check: None,
        fk: None,
    };
    randomize_items(rng, &mut t, others);
    t
}

/// Columns other than `id` that `pick` accepts.
fn columns_where(t: &Tab, pick: impl Fn(&Col) -> bool) -> Vec<String> {
    t.cols
        .iter()
        .skip(1)
        .filter(|c| pick(c))
        .map(|c| c.name.clone())
        .collect()
}

fn randomize_items(rng: &mut Rng, t: &mut Tab, others: &[String]) {
    let indexable = columns_where(t, |c| c.ty.indexable());
    let strings = columns_where(t, |c| matches!(c.ty, Ty::Var(_)));
    let numeric = columns_where(t, |c| c.ty == Ty::Int);
    let choose = |rng: &mut Rng, from: &[String], percent: u64| {
        (!from.is_empty() && rng.chance(percent)).then(|| from[rng.below(from.len())].clone())
    };
    // One or two distinct columns.
    let columns = |rng: &mut Rng, first: String| {
        let mut cols = vec![first];
        let second = indexable[rng.below(indexable.len())].clone();
        if rng.chance(30) && !cols.contains(&second) {
            cols.push(second);
        }
        cols
    };
    t.unique = choose(rng, &indexable, 30).map(|c| columns(rng, c));
    t.index = choose(rng, &indexable, 40)
        .map(|c| {
            let lower = strings.contains(&c) && rng.chance(30);
            Ix {
                cols: columns(rng, c),
                partial: rng.chance(30),
                lower,
            }
        })
        .filter(|i| Some(&i.cols) != t.unique.as_ref());
    t.check = choose(rng, &numeric, 30);
    t.fk = choose(rng, &numeric, 40).and_then(|c| {
        (!others.is_empty()).then(|| (c, others[rng.below(others.len())].clone(), rng.chance(50)))
    });
}

fn random_spec(rng: &mut Rng) -> Spec {
    let mut tables: Vec<Tab> = Vec::new();
    for i in 0..1 + rng.below(3) {
        let others: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
        tables.push(random_table(rng, format!("t{i}"), &others));
    }
    let mut spec = Spec {
        tables,
        views: Vec::new(),
    };
    if rng.chance(40) {
        add_view(rng, &mut spec);
    }
    spec
}

/// A view over one column of a table, if a table has one besides `id`.
fn add_view(rng: &mut Rng, spec: &mut Spec) {
    let t = &spec.tables[rng.below(spec.tables.len())];
    if t.cols.len() < 2 {
        return;
    }
    let col = t.cols[1 + rng.below(t.cols.len() - 1)].name.clone();
    let name = format!("v{}", spec.views.len());
    if !spec.views.iter().any(|v| v.0 == name) {
        spec.views.push((name, t.name.clone(), col));
    }
}

/// B: A with one to four changes of the kinds teams make.
fn mutate(rng: &mut Rng, a: &Spec) -> Spec {
    let mut b = a.clone();
    for _ in 0..1 + rng.below(4) {
        let names: Vec<String> = b.tables.iter().map(|t| t.name.clone()).collect();
        match rng.below(10) {
            0 => {
                let name = (0..9)
                    .map(|i| format!("t{i}"))
                    .find(|n| !names.contains(n))
                    .unwrap_or_else(|| "t9".to_string());
                b.tables.push(random_table(rng, name, &names));
            }
            8 => {
                if b.views.is_empty() || rng.chance(50) {
                    add_view(rng, &mut b);
                } else {
                    b.views.remove(rng.below(b.views.len()));
                }
            }
            1 if b.tables.len() > 1 => {
                let gone = b.tables.remove(rng.below(b.tables.len())).name;
                b.views.retain(|v| v.1 != gone);
                for t in &mut b.tables {
                    if t.fk.as_ref().is_some_and(|f| f.1 == gone) {
                        t.fk = None;
                    }
                }
            }
            2 => {
                let t = &mut b.tables[rng.below(names.len())];
                let name = (0..9)
                    .map(|i| format!("c{i}"))
                    .find(|n| !t.cols.iter().any(|c| &c.name == n))
                    .unwrap_or_else(|| "c9".to_string());
                let mut col = random_col(rng, name);
                if !col.nullable && col.default.is_none() {
                    col.nullable = true; // a NOT NULL column needs a default on a table with rows
                }
                t.cols.push(col);
            }
            3 => {
                let t = &mut b.tables[rng.below(names.len())];
                if t.cols.len() > 2 {
                    let gone = t.cols.remove(1 + rng.below(t.cols.len() - 1)).name;
                    forget_column(t, &gone);
                    let table = t.name.clone();
                    b.views.retain(|v| !(v.1 == table && v.2 == gone));
                }
            }
            4 => {
                // A type change: wider, or int to bigint.
                let t = &mut b.tables[rng.below(names.len())];
                let i = 1 + rng.below(t.cols.len() - 1);
                let fk_col = t.fk.as_ref().map(|f| f.0.clone());
                let c = &mut t.cols[i];
                match c.ty {
                    Ty::Int if fk_col.as_deref() != Some(&c.name) => c.ty = Ty::Big,
                    Ty::Var(n) => c.ty = Ty::Var(n * 2),
                    _ => {}
                }
                if t.check.as_ref() == Some(&t.cols[i].name) && t.cols[i].ty != Ty::Int {
                    t.check = None;
                }
            }
            5 => {
                let t = &mut b.tables[rng.below(names.len())];
                let i = 1 + rng.below(t.cols.len() - 1);
                t.cols[i].nullable = !t.cols[i].nullable;
            }
            6 => {
                let t = &mut b.tables[rng.below(names.len())];
                let i = 1 + rng.below(t.cols.len() - 1);
                if t.cols[i].ty.numeric() {
                    t.cols[i].default = match t.cols[i].default {
                        Some(_) => None,
                        None => Some(rng.below(100) as i64),
                    };
                }
            }
            _ => {
                let i = rng.below(names.len());
                let others: Vec<String> = names[..i].to_vec();
                randomize_items(rng, &mut b.tables[i], &others);
            }
        }
    }
    b
}

fn forget_column(t: &mut Tab, gone: &str) {
    if t.check.as_deref() == Some(gone) {
        t.check = None;
    }
    if t.unique
        .as_ref()
        .is_some_and(|u| u.iter().any(|c| c == gone))
    {
        t.unique = None;
    }
    if t.index
        .as_ref()
        .is_some_and(|i| i.cols.iter().any(|c| c == gone))
    {
        t.index = None;
    }
    if t.fk.as_ref().is_some_and(|f| f.0 == gone) {
        t.fk = None;
    }
}

/// The spec as DDL of `kind`: tables, then indexes, then foreign keys
/// (inline on SQLite).
fn ddl(spec: &Spec, kind: Kind) -> String {
    let mut out = String::new();
    for t in &spec.tables {
        let mut items: Vec<String> = t
            .cols
            .iter()
            .map(|c| {
                let mut s = format!("{} {}", c.name, c.ty.sql(kind));
                if !c.nullable {
                    s.push_str(" NOT NULL");
                }
                if let Some(d) = c.default {
                    s.push_str(&format!(" DEFAULT {d}"));
                }
                s
            })
            .collect();
        items.push("PRIMARY KEY (id)".to_string());
        if let Some(u) = &t.unique {
            items.push(format!(
                "CONSTRAINT uq_{}_{} UNIQUE ({})",
                t.name,
                u.join("_"),
                u.join(", ")
            ));
        }
        if let Some(c) = &t.check {
            items.push(format!("CONSTRAINT ck_{}_{c} CHECK ({c} > 0)", t.name));
        }
        if kind == Kind::Sqlite {
            if let Some((c, to, cascade)) = &t.fk {
                items.push(fk_clause(&t.name, c, to, *cascade));
            }
        }
        out.push_str(&format!(
            "CREATE TABLE {} (\n  {}\n);\n",
            t.name,
            items.join(",\n  ")
        ));
        if let Some(ix) = &t.index {
            // MariaDB has neither partial nor expression indexes.
            let server_only = kind == Kind::Mysql;
            let mut parts = ix.cols.clone();
            if ix.lower && !server_only {
                parts[0] = format!("lower({})", parts[0]);
            }
            let mut sql = format!(
                "CREATE INDEX ix_{}_{} ON {} ({})",
                t.name,
                ix.cols.join("_"),
                t.name,
                parts.join(", ")
            );
            if ix.partial && !server_only {
                sql.push_str(&format!(" WHERE {} IS NOT NULL", ix.cols[0]));
            }
            out.push_str(&sql);
            out.push_str(";\n");
        }
    }
    if kind != Kind::Sqlite {
        for t in &spec.tables {
            if let Some((c, to, cascade)) = &t.fk {
                out.push_str(&format!(
                    "ALTER TABLE {} ADD {};\n",
                    t.name,
                    fk_clause(&t.name, c, to, *cascade)
                ));
            }
        }
    }
    for (name, table, col) in &spec.views {
        out.push_str(&format!(
            "CREATE VIEW {name} AS SELECT id, {col} FROM {table};\n"
        ));
    }
    out
}

fn fk_clause(table: &str, c: &str, to: &str, cascade: bool) -> String {
    format!(
        "CONSTRAINT fk_{table}_{c} FOREIGN KEY ({c}) REFERENCES {to} (id){}",
        if cascade { " ON DELETE CASCADE" } else { "" }
    )
}

fn seed() -> u64 {
    std::env::var("ALEMBIX_AUTOGEN_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

fn random_pairs_round_trip(t: &TestDb) {
    let cases: u64 = std::env::var("ALEMBIX_AUTOGEN_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let seed = seed();
    for case in 0..cases {
        let case_seed = seed.wrapping_add(case.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1;
        let mut rng = Rng(case_seed);
        let a = random_spec(&mut rng);
        let b = mutate(&mut rng, &a);
        let (a_sql, b_sql) = (ddl(&a, t.kind), ddl(&b, t.kind));
        if let Err(why) = round_trip(t, &a_sql, &b_sql, &[]) {
            panic!(
                "{:?}: case {case} fails; replay it with ALEMBIX_AUTOGEN_SEED={seed} ALEMBIX_AUTOGEN_CASES={}\n-- A\n{a_sql}\n-- B\n{b_sql}\n{why}",
                t.kind,
                case + 1
            );
        }
    }
}

// ---- the changes teams make every week -----------------------------------

/// A (before) and B (after) for `kind`.
struct Pair {
    a: String,
    b: String,
}

fn weekly(t: &TestDb, name: &str, pair: Pair, renames: &[Rename], expect: &[&str]) {
    match round_trip(t, &pair.a, &pair.b, renames) {
        Ok(shown) => {
            for part in expect {
                assert!(
                    shown.contains(part),
                    "{:?} {name}: the generated SQL lacks `{part}`:\n{shown}",
                    t.kind
                );
            }
        }
        Err(why) => panic!("{:?} {name}:\n{why}", t.kind),
    }
}

fn users(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => {
            "CREATE TABLE users (id integer NOT NULL PRIMARY KEY, name varchar(100) NOT NULL);\n"
        }
        Kind::Postgres => {
            "CREATE TABLE users (id integer NOT NULL PRIMARY KEY, name varchar(100) NOT NULL);\n"
        }
        Kind::Mysql => {
            "CREATE TABLE users (id int NOT NULL PRIMARY KEY, name varchar(100) NOT NULL);\n"
        }
    }
}

fn a_uuid_primary_key_with_a_server_default(t: &TestDb) {
    let table = match t.kind {
        Kind::Postgres => "CREATE TABLE api_keys (id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY, label text);",
        Kind::Mysql => "CREATE TABLE api_keys (id char(36) NOT NULL DEFAULT (uuid()) PRIMARY KEY, label text);",
        Kind::Sqlite => "CREATE TABLE api_keys (id text NOT NULL DEFAULT (lower(hex(randomblob(16)))) PRIMARY KEY, label text);",
    };
    let pair = Pair {
        a: users(t.kind).to_string(),
        b: format!("{}{table}\n", users(t.kind)),
    };
    weekly(
        t,
        "uuid primary key",
        pair,
        &[],
        &["CREATE TABLE api_keys", "DROP TABLE api_keys"],
    );
}

fn a_foreign_key_on_delete_cascade(t: &TestDb) {
    let int = if t.kind == Kind::Mysql {
        "int"
    } else {
        "integer"
    };
    let posts =
        format!("CREATE TABLE posts (id {int} NOT NULL PRIMARY KEY, user_id {int} NOT NULL);\n");
    let fk = match t.kind {
        Kind::Sqlite => format!("CREATE TABLE posts (id {int} NOT NULL PRIMARY KEY, user_id {int} NOT NULL, CONSTRAINT fk_posts_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE);\n"),
        _ => format!("{posts}ALTER TABLE posts ADD CONSTRAINT fk_posts_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;\n"),
    };
    let pair = Pair {
        a: format!("{}{posts}", users(t.kind)),
        b: format!("{}{fk}", users(t.kind)),
    };
    weekly(t, "on delete cascade", pair, &[], &["ON DELETE CASCADE"]);
}

fn a_column_type_change(t: &TestDb) {
    let b = users(t.kind).replace("varchar(100)", "varchar(200)");
    let pair = Pair {
        a: users(t.kind).to_string(),
        b,
    };
    // Longer is kept; shorter may cut (SQLite keeps any text: a rebuild).
    let expect: &[&str] = match t.kind {
        Kind::Sqlite => &["varchar(200)", "CREATE TABLE _alembix_new_users"],
        _ => &["(200)", "DESTRUCTIVE: changes users.name from"],
    };
    weekly(t, "type change", pair, &[], expect);
}

fn a_not_null_column_added_with_a_default(t: &TestDb) {
    let b = users(t.kind).replace(
        "NOT NULL);",
        "NOT NULL, active integer NOT NULL DEFAULT 1);",
    );
    let pair = Pair {
        a: users(t.kind).to_string(),
        b,
    };
    weekly(t, "not null with default", pair, &[], &["DEFAULT 1"]);
}

fn a_new_index(t: &TestDb) {
    let pair = Pair {
        a: users(t.kind).to_string(),
        b: format!(
            "{}CREATE INDEX ix_users_name ON users (name);\n",
            users(t.kind)
        ),
    };
    weekly(
        t,
        "new index",
        pair,
        &[],
        &[
            "CREATE INDEX ix_users_name ON users (name)",
            "DROP INDEX ix_users_name",
        ],
    );
}

fn a_stated_column_rename(t: &TestDb) {
    let pair = Pair {
        a: users(t.kind).to_string(),
        b: users(t.kind).replace("name varchar", "full_name varchar"),
    };
    let rename: Rename = "users.name=full_name".parse().unwrap();
    weekly(
        t,
        "rename",
        pair,
        &[rename],
        &[
            "RENAME COLUMN name TO full_name",
            "RENAME COLUMN full_name TO name",
        ],
    );
}

fn an_updated_at_trigger_and_its_function(t: &TestDb) {
    let with_column = users(t.kind).replace("NOT NULL);", "NOT NULL, updated_at timestamp NULL);");
    let trigger = match t.kind {
        Kind::Postgres => "CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;\nCREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_updated_at();\n",
        Kind::Mysql => "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW SET NEW.updated_at = NOW();\n",
        Kind::Sqlite => "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN UPDATE users SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;\n",
    };
    let pair = Pair {
        a: users(t.kind).to_string(),
        b: format!("{with_column}{trigger}"),
    };
    weekly(
        t,
        "updated_at trigger",
        pair,
        &[],
        &["CREATE TRIGGER", "DROP TRIGGER"],
    );
}

/// A table SQLite's ALTER TABLE cannot change is rebuilt, its rows kept.
fn sqlite_rebuilds_keep_rows(t: &TestDb) {
    if t.kind != Kind::Sqlite {
        return;
    }
    let a = "CREATE TABLE notes (id integer NOT NULL PRIMARY KEY, body text, rank integer);\nINSERT INTO notes (id, body, rank) VALUES (1, 'kept', 3);\n";
    let b =
        "CREATE TABLE notes (id integer NOT NULL PRIMARY KEY, body text NOT NULL, rank integer);\n";
    let shown = round_trip(t, a, b, &[]).unwrap();
    assert!(shown.contains("INSERT INTO _alembix_new_notes"), "{shown}");
    let m0 = migrator_of(
        &[migration("r1", "none", a, "SELECT 1;")],
        Config::default(),
    );
    let mut s = Scratch::in_memory().unwrap();
    let before = m0.replay_schema(&mut s, "heads").unwrap();
    let mut sb = Scratch::in_memory().unwrap();
    sb.run_script(b, "B").unwrap();
    let after = m0.read_scratch(&mut sb).unwrap();
    let c = changes(&before, &after, &[]).unwrap();
    let m = migrator_of(
        &[
            migration("r1", "none", a, "SELECT 1;"),
            migration("r2", "r1", &c.upgrade_sql(), &c.downgrade_sql()),
        ],
        Config::default(),
    );
    let mut db = t.connect();
    m.upgrade(&mut db, "heads").unwrap();
    let rows = t
        .oracle()
        .strings("SELECT id || '|' || body || '|' || rank AS s FROM notes");
    assert_eq!(rows, ["1|kept|3"]);
}

/// PostgreSQL's own objects: an enum type, a serial column (its sequence
/// owned by the column), an expression index with a condition; then a label
/// appended, and one removed (the type rebuilt).
fn postgres_enums_serials_and_expression_indexes(t: &TestDb) {
    if t.kind != Kind::Postgres {
        return;
    }
    let posts = |labels: &str| {
        format!(
            "{}CREATE TYPE mood AS ENUM ({labels});\nCREATE TABLE posts (id serial PRIMARY KEY, mood mood NOT NULL, body text);\nCREATE INDEX ix_posts_body ON posts (lower(body)) WHERE body IS NOT NULL;\n",
            users(t.kind)
        )
    };
    let pair = Pair {
        a: users(t.kind).to_string(),
        b: posts("'happy', 'sad'"),
    };
    weekly(
        t,
        "enum, serial, expression index",
        pair,
        &[],
        &[
            "CREATE TYPE mood AS ENUM ('happy', 'sad')",
            "CREATE SEQUENCE posts_id_seq",
            "OWNED BY posts.id",
            "WHERE body IS NOT NULL",
            "DROP TYPE mood",
        ],
    );
    let appended = Pair {
        a: posts("'happy', 'sad'"),
        b: posts("'happy', 'sad', 'meh'"),
    };
    weekly(
        t,
        "enum label appended",
        appended,
        &[],
        &[
            "ALTER TYPE mood ADD VALUE 'meh'",
            "ALTER TYPE mood RENAME TO mood_old",
        ],
    );
}

/// A stated table rename: the table, the foreign key that references it,
/// and on PostgreSQL its key's name and its serial's sequence follow it,
/// renamed rather than dropped and made again.
fn a_stated_table_rename(t: &TestDb) {
    let (int, serial) = match t.kind {
        Kind::Mysql => ("int", "int NOT NULL AUTO_INCREMENT"),
        Kind::Postgres => ("integer", "serial"),
        Kind::Sqlite => ("integer", "integer NOT NULL"),
    };
    let ddl = |name: &str| {
        let posts = match t.kind {
            Kind::Sqlite => format!("CREATE TABLE posts (id {int} NOT NULL PRIMARY KEY, author_id {int} NOT NULL, CONSTRAINT fk_posts_author FOREIGN KEY (author_id) REFERENCES {name} (id));\n"),
            _ => format!("CREATE TABLE posts (id {int} NOT NULL PRIMARY KEY, author_id {int} NOT NULL);\nALTER TABLE posts ADD CONSTRAINT fk_posts_author FOREIGN KEY (author_id) REFERENCES {name} (id);\n"),
        };
        format!(
            "CREATE TABLE {name} (id {serial} PRIMARY KEY, name varchar(100) NOT NULL);\nCREATE INDEX ix_{name}_name ON {name} (name);\n{posts}"
        )
    };
    let pair = Pair {
        a: ddl("users"),
        b: ddl("accounts"),
    };
    let rename: Rename = "users=accounts".parse().unwrap();
    let mut expect = vec![
        "ALTER TABLE users RENAME TO accounts",
        "ALTER TABLE accounts RENAME TO users",
    ];
    match t.kind {
        Kind::Postgres => expect.extend([
            "ALTER TABLE accounts RENAME CONSTRAINT users_pkey TO accounts_pkey",
            "ALTER SEQUENCE users_id_seq RENAME TO accounts_id_seq",
            "ALTER INDEX ix_users_name RENAME TO ix_accounts_name",
        ]),
        Kind::Mysql => {
            expect.push("ALTER TABLE accounts RENAME INDEX ix_users_name TO ix_accounts_name")
        }
        Kind::Sqlite => expect.push("CREATE INDEX ix_accounts_name"),
    }
    weekly(t, "table rename", pair, &[rename], &expect);
}

/// The index MySQL makes for a foreign key, in the three ways the random
/// pairs found it: another index takes over the key's, a unique key takes
/// over from a key that goes, an indexed column goes. Each runs on every
/// backend (for SQLite and PostgreSQL, ordinary changes).
fn foreign_key_indexes_change_hands(t: &TestDb) {
    let int = if t.kind == Kind::Mysql {
        "int"
    } else {
        "integer"
    };
    let parent = format!("CREATE TABLE p (id {int} NOT NULL PRIMARY KEY);\n");
    let child = |extra: &str, fk: bool| {
        let fk_sql = "CONSTRAINT fk_c_p FOREIGN KEY (p_id) REFERENCES p (id)";
        match (t.kind, fk) {
            (Kind::Sqlite, true) => format!("{parent}CREATE TABLE c (id {int} NOT NULL PRIMARY KEY, p_id {int} NOT NULL, note varchar(20){extra}, {fk_sql});\n"),
            (_, true) => format!("{parent}CREATE TABLE c (id {int} NOT NULL PRIMARY KEY, p_id {int} NOT NULL, note varchar(20){extra});\n"),
            (_, false) => format!("{parent}CREATE TABLE c (id {int} NOT NULL PRIMARY KEY, p_id {int} NOT NULL, note varchar(20){extra});\n"),
        }
    };
    let add_fk = || match t.kind {
        Kind::Sqlite => String::new(),
        _ => "ALTER TABLE c ADD CONSTRAINT fk_c_p FOREIGN KEY (p_id) REFERENCES p (id);\n"
            .to_string(),
    };
    let cases = [
        (
            "another index takes the key over",
            format!("{}{}", child("", true), add_fk()),
            format!(
                "{}CREATE INDEX ix_c_p ON c (p_id);\n{}",
                child("", true),
                add_fk()
            ),
        ),
        (
            "a unique key takes over from a key that goes",
            format!("{}{}", child("", true), add_fk()),
            child(", CONSTRAINT uq_c_p UNIQUE (p_id)", false),
        ),
        (
            "an indexed column goes",
            format!("{}CREATE INDEX ix_c_note ON c (note);\n", child("", false)),
            format!(
                "{parent}CREATE TABLE c (id {int} NOT NULL PRIMARY KEY, p_id {int} NOT NULL);\n"
            ),
        ),
    ];
    for (name, a, b) in cases {
        weekly(t, name, Pair { a, b }, &[], &[]);
    }
}

/// Nothing differs: nothing to write.
fn equal_schemas_need_nothing(t: &TestDb) {
    let shown = round_trip(t, users(t.kind), users(t.kind), &[]).unwrap();
    assert_eq!(shown, "-- upgrade\n\n-- downgrade\n");
}

/// The generator never reads a schema of another dialect as its own.
#[test]
fn schemas_of_two_dialects_are_refused() {
    let mut a = Schema::default();
    a.dialect = "sqlite".to_string();
    let mut b = Schema::default();
    b.dialect = "postgresql".to_string();
    let err = changes(&a, &b, &[]).unwrap_err().to_string();
    assert!(
        err.contains("a sqlite schema with a postgresql schema"),
        "{err}"
    );
}

crate::on_all_backends!(
    random_pairs_round_trip,
    a_uuid_primary_key_with_a_server_default,
    a_foreign_key_on_delete_cascade,
    a_column_type_change,
    a_not_null_column_added_with_a_default,
    a_new_index,
    a_stated_column_rename,
    an_updated_at_trigger_and_its_function,
    sqlite_rebuilds_keep_rows,
    equal_schemas_need_nothing,
    postgres_enums_serials_and_expression_indexes,
    a_stated_table_rename,
    foreign_key_indexes_change_hands,
);
