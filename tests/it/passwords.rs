//! Passwords with every special character (`#`, `?`, `@`, `/`, `%`, `:`,
//! space, quotes, backslash, `&`, non-ASCII), raw and percent-encoded, in the
//! user info and as a query parameter, through every database command of the
//! service binary, as text and `--json`, on success and on failure, on
//! PostgreSQL and MariaDB: no piece of the password is printed. The password
//! is made of markers found nowhere else, one between each two special
//! characters, so a fragment cut out by a driver would show.
//!
//! A string that is not a URL of a compiled-in scheme (a libpq `key=value`
//! string) is refused, with no file created and the password not echoed.

// The server sweeps need a server backend; the SQLite-only build keeps the
// non-URL test and compiles the rest unused.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_variables)
)]

use crate::support::{chatbot, scratch_dir, Kind, Run, TempDir, TestDb, HEAD};

/// The special characters, in the order they separate the markers.
const SPECIALS: [char; 12] = ['#', '?', '@', '/', '%', ':', ' ', '\'', '"', '\\', 'é', '&'];

/// The `i`-th marker: unique, and no marker is part of another.
fn marker(i: usize) -> String {
    format!("Zq{i}wK")
}

/// Every marker a password of this file may contain.
fn markers() -> Vec<String> {
    (0..=SPECIALS.len()).map(marker).collect()
}

/// The markers joined by `specials`.
fn password_of(specials: &[char]) -> String {
    let mut password = marker(0);
    for (i, c) in specials.iter().enumerate() {
        password.push(*c);
        password.push_str(&marker(i + 1));
    }
    password
}

/// Every byte but ASCII letters and digits as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What a URL must lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Connects; the commands run.
    Works,
    /// Refused before connecting (exit 2, error kind `url`).
    Refused,
    /// The driver cannot connect (exit 1, error kind `connect`).
    Fails,
}

/// One URL under test.
struct Case {
    label: String,
    url: String,
    /// The password the server must know for this case (MariaDB), if any.
    server_password: Option<String>,
    expect: Expect,
}

/// The database commands, in an order that works from any state.
fn commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["upgrade", "heads"],
        vec!["current", "-v", "--check-heads"],
        vec!["history", "-i"],
        vec!["show", "current"],
        vec!["check"],
        vec!["stamp", "heads"],
        vec!["downgrade", "-1"],
        vec!["upgrade", "heads"],
        vec!["repair", HEAD, "--completed", "--reason", "nothing failed"],
        vec!["adopt-diesel"],
        vec!["schema", "dump", "--live"],
        vec!["schema", "dump"],
        vec!["schema", "diff"],
        vec!["print-schema"],
        vec!["check", "--schema-drift"],
        vec!["upgrade", "heads", "--sql"],
    ]
}

/// `scheme://user:password@host:port/db?query` from the test database's URL.
fn url_with(
    db: &TestDb,
    scheme: Option<&str>,
    userinfo: &str,
    port: Option<u16>,
    database: Option<&str>,
    query: &str,
) -> String {
    let (own_scheme, rest) = db.url.split_once("://").expect("a server URL");
    let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let (hostport, _) = host_and_path.split_once('/').expect("a database path");
    let host = hostport.split(':').next().unwrap_or(hostport);
    let port = port.map_or_else(
        || hostport.split(':').nth(1).unwrap_or("").to_string(),
        |p| p.to_string(),
    );
    let scheme = scheme.unwrap_or(own_scheme);
    let database = database.unwrap_or(&db.name);
    format!("{scheme}://{userinfo}@{host}:{port}/{database}{query}")
}

fn cases(db: &TestDb, user: &str) -> Vec<Case> {
    let all = password_of(&SPECIALS);
    let encoded = percent_encode(&all);
    let mut cases = vec![
        Case {
            label: "percent-encoded".into(),
            url: url_with(db, None, &format!("{user}:{encoded}"), None, None, ""),
            server_password: Some(all.clone()),
            expect: Expect::Works,
        },
        Case {
            label: "percent-encoded, scheme in capitals".into(),
            url: url_with(
                db,
                Some(if db.kind == Kind::Postgres {
                    "PostgreSQL"
                } else {
                    "MariaDB"
                }),
                &format!("{user}:{encoded}"),
                None,
                None,
                "",
            ),
            server_password: Some(all.clone()),
            expect: Expect::Works,
        },
        Case {
            label: "raw, every special character".into(),
            url: url_with(db, None, &format!("{user}:{all}"), None, None, ""),
            server_password: Some(all.clone()),
            expect: Expect::Refused,
        },
        Case {
            label: "wrong port".into(),
            url: url_with(db, None, &format!("{user}:{encoded}"), Some(1), None, ""),
            server_password: Some(all.clone()),
            expect: Expect::Fails,
        },
        Case {
            label: "unknown database".into(),
            url: url_with(
                db,
                None,
                &format!("{user}:{encoded}"),
                None,
                Some("no_such_db_pw"),
                "",
            ),
            server_password: Some(all.clone()),
            expect: Expect::Fails,
        },
    ];
    for c in SPECIALS {
        let password = password_of(&[c]);
        // What each driver makes of a raw character in the user info.
        let expect = match (db.kind, c) {
            // libpq ends the user info at the first `@` before a `/`, and
            // refuses a `%` without two hex digits.
            (Kind::Postgres, '@' | '/' | '%') => Expect::Refused,
            // The `url` crate ends the authority at `/`, `?` or `#`.
            (Kind::Mysql, '/' | '?' | '#') => Expect::Refused,
            _ => Expect::Works,
        };
        cases.push(Case {
            label: format!("raw {c:?}"),
            url: url_with(db, None, &format!("{user}:{password}"), None, None, ""),
            server_password: Some(password),
            expect,
        });
    }
    match db.kind {
        Kind::Mysql => cases.push(Case {
            label: "wrong password".into(),
            url: url_with(db, None, &format!("{user}:{encoded}x"), None, None, ""),
            server_password: Some(all.clone()),
            expect: Expect::Fails,
        }),
        _ => {
            // libpq reads `password` in the query too, up to the next `&`.
            let raw_query = password_of(&['#', '?', ':', ' ', '\'', '"', '\\', 'é']);
            cases.extend([
                Case {
                    label: "query parameter, percent-encoded".into(),
                    url: url_with(db, None, user, None, None, &format!("?password={encoded}")),
                    server_password: None,
                    expect: Expect::Works,
                },
                Case {
                    label: "query parameter, raw".into(),
                    url: url_with(
                        db,
                        None,
                        user,
                        None,
                        None,
                        &format!("?sslmode=disable&password={raw_query}"),
                    ),
                    server_password: None,
                    expect: Expect::Works,
                },
                Case {
                    label: "query parameter, raw, every special character".into(),
                    url: url_with(db, None, user, None, None, &format!("?password={all}")),
                    server_password: None,
                    expect: Expect::Refused,
                },
                Case {
                    label: "query parameter, raw `&`".into(),
                    url: url_with(
                        db,
                        None,
                        user,
                        None,
                        None,
                        &format!("?password={}&sslmode=disable", password_of(&['&', '&'])),
                    ),
                    server_password: None,
                    expect: Expect::Refused,
                },
                Case {
                    label: "query parameter beside a bad option".into(),
                    url: url_with(
                        db,
                        None,
                        user,
                        None,
                        None,
                        &format!("?password={encoded}&sslmode=bogus"),
                    ),
                    server_password: None,
                    expect: Expect::Fails,
                },
            ]);
        }
    }
    cases
}

/// A MariaDB user for this test, dropped afterwards.
struct MysqlUser {
    name: String,
    db: String,
}

impl MysqlUser {
    const HOSTS: [&'static str; 3] = ["%", "localhost", "127.0.0.1"];

    fn create(db: &TestDb) -> MysqlUser {
        let user = MysqlUser {
            name: format!("pw_{}", std::process::id()),
            db: db.name.clone(),
        };
        let mut admin = db.oracle();
        for host in Self::HOSTS {
            admin.exec(&format!("DROP USER IF EXISTS '{}'@'{host}'", user.name));
            admin.exec(&format!(
                "CREATE USER '{}'@'{host}' IDENTIFIED BY 'unset'",
                user.name
            ));
            admin.exec(&format!(
                "GRANT ALL ON `{}`.* TO '{}'@'{host}'",
                user.db, user.name
            ));
        }
        user
    }

    /// Gives the user `password` (quotes and backslashes escaped for MariaDB).
    fn set_password(&self, db: &TestDb, password: &str) {
        let literal = password.replace('\\', "\\\\").replace('\'', "\\'");
        let mut admin = db.oracle();
        for host in Self::HOSTS {
            admin.exec(&format!(
                "ALTER USER '{}'@'{host}' IDENTIFIED BY '{literal}'",
                self.name
            ));
        }
    }
}

impl Drop for MysqlUser {
    fn drop(&mut self) {
        #[cfg(feature = "mysql")]
        {
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            if let Ok(mut c) =
                diesel::MysqlConnection::establish(&crate::support::mysql_admin_url())
            {
                for host in Self::HOSTS {
                    let _ =
                        c.batch_execute(&format!("DROP USER IF EXISTS '{}'@'{host}'", self.name));
                }
            }
        }
    }
}

/// Asserts that no marker is in `text`.
fn assert_no_marker(label: &str, what: &str, text: &str) {
    for m in markers() {
        assert!(
            !text.contains(&m),
            "{label}: a piece of the password ({m}) is in {what}:\n{text}"
        );
    }
}

fn error_kind(run: &Run) -> String {
    run.json()["error"]["kind"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Every command, text and `--json`, and the service's launch, with `case`'s URL.
fn sweep(db: &TestDb, case: &Case) -> usize {
    let label = format!("{:?} {}", db.kind, case.label);
    let mut runs = 0;
    for command in commands() {
        for json in [false, true] {
            let mut args = vec!["migrate"];
            args.extend(command.iter().copied());
            if json {
                args.push("--json");
            }
            args.extend(["--db", case.url.as_str()]);
            let run = db.chatbot(&args);
            runs += 1;
            let shown = format!("`{}`:\n{run:#?}", command.join(" "));
            assert_no_marker(&label, &shown, &run.all());
            let offline = command.contains(&"--sql");
            match (case.expect, offline) {
                (_, true) => assert_eq!(run.code, 0, "{label}: --sql connects to nothing: {shown}"),
                (Expect::Refused, false) => {
                    assert_eq!(run.code, 2, "{label}: refused: {shown}");
                    if json {
                        assert_eq!(error_kind(&run), "url", "{label}: {shown}");
                    }
                }
                (Expect::Fails, false) => {
                    assert_eq!(run.code, 1, "{label}: cannot connect: {shown}");
                    if json {
                        assert_eq!(error_kind(&run), "connect", "{label}: {shown}");
                        let message = run.json()["error"]["message"]
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        assert!(
                            message.contains("127.0.0.1"),
                            "{label}: the host is named: {message}"
                        );
                    }
                }
                (Expect::Works, false) => {
                    if json {
                        let doc = run.json();
                        if let Some(kind) = doc["error"]["kind"].as_str() {
                            assert!(
                                kind != "url" && kind != "connect",
                                "{label}: connects: {shown}"
                            );
                        }
                        if let Some(database) = doc["database"].as_str() {
                            assert!(database.contains("***"), "{label}: masked: {database}");
                            assert!(database.contains(&db.name), "{label}: {database}");
                        }
                    }
                    if command[0] == "current" || command == ["upgrade", "heads"] {
                        assert_eq!(run.code, 0, "{label}: {shown}");
                    }
                }
            }
        }
    }
    // The service itself: it prints the database it migrates.
    let launch = db.chatbot(&["--db", &case.url]);
    runs += 1;
    assert_no_marker(&label, &format!("the launch:\n{launch:#?}"), &launch.all());
    if case.expect == Expect::Works && !case.label.contains("capitals") {
        assert_eq!(launch.code, 0, "{label}: {launch:#?}");
        assert!(launch.stdout.contains("***"), "{label}: {launch:#?}");
    }
    runs
}

fn sweep_server(db: &TestDb) {
    let mysql_user = (db.kind == Kind::Mysql).then(|| MysqlUser::create(db));
    let user = mysql_user.as_ref().map_or("postgres", |u| u.name.as_str());
    let mut runs = 0;
    let mut outcomes = Vec::new();
    for case in cases(db, user) {
        if let (Some(u), Some(password)) = (&mysql_user, &case.server_password) {
            u.set_password(db, password);
        }
        runs += sweep(db, &case);
        outcomes.push(format!("{}: {:?}", case.label, case.expect));
    }
    let history = history_text(db);
    assert!(!history.is_empty(), "the runs were recorded");
    assert_no_marker(&format!("{:?}", db.kind), "the history table", &history);
    eprintln!(
        "[passwords] {:?}: {runs} runs, no piece of a password printed ({})",
        db.kind,
        outcomes.join("; ")
    );
}

/// Every text column of the history table, as one string.
fn history_text(db: &TestDb) -> String {
    #[derive(diesel::QueryableByName)]
    struct S {
        #[diesel(sql_type = diesel::sql_types::Text)]
        s: String,
    }
    let columns = [
        "revision",
        "down_revisions",
        "depends_on",
        "operation",
        "state",
        "checksum",
        "message",
        "detail",
        "tool",
        "applied_digest",
    ];
    let text = match db.kind {
        Kind::Mysql => format!(
            "SELECT CONCAT_WS('|', {}) AS s FROM alembic_version_history",
            columns.map(|c| format!("COALESCE({c}, '')")).join(", ")
        ),
        _ => format!(
            "SELECT {} AS s FROM alembic_version_history",
            columns
                .map(|c| format!("COALESCE({c}, '')"))
                .join(" || '|' || ")
        ),
    };
    let rows: Vec<S> = match db.kind {
        #[cfg(feature = "postgres")]
        Kind::Postgres => {
            use diesel::{Connection, RunQueryDsl};
            let mut c = diesel::PgConnection::establish(&db.url).expect("oracle");
            diesel::sql_query(text).load(&mut c).expect("history rows")
        }
        #[cfg(feature = "mysql")]
        Kind::Mysql => {
            use diesel::{Connection, RunQueryDsl};
            let mut c = diesel::MysqlConnection::establish(&db.url).expect("oracle");
            diesel::sql_query(text).load(&mut c).expect("history rows")
        }
        _ => Vec::new(),
    };
    rows.into_iter().map(|r| r.s).collect::<Vec<_>>().join("\n")
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_passwords_are_never_printed() {
    crate::support::on(
        Kind::Postgres,
        "postgres_passwords_are_never_printed",
        sweep_server,
    );
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_passwords_are_never_printed() {
    crate::support::on(
        Kind::Mysql,
        "mysql_passwords_are_never_printed",
        sweep_server,
    );
}

/// A libpq `key=value` string, and other strings of no compiled-in scheme:
/// refused (exit 2), nothing echoed, and no file created where the binary runs.
#[test]
fn strings_that_are_not_urls_are_refused_without_a_file() {
    let password = password_of(&['#', '?', '@', '/', ':', '\\', 'é']);
    let inputs = [
        format!("host=127.0.0.1 port=5432 user=postgres password='{password}' dbname=test"),
        format!("dbname = test password={}", percent_encode(&password)),
        format!("password={}", marker(0)),
        format!("Oracle://scott:{password}@127.0.0.1/db"),
        format!("postgres:scott:{password}@127.0.0.1/db"),
        format!("MySQL//scott:{password}@127.0.0.1/db"),
        format!(" postgres://scott:{password}@127.0.0.1/db"),
    ];
    for input in &inputs {
        let dir = TempDir(scratch_dir("chatbot-not-a-url"));
        for command in commands() {
            if command.contains(&"--sql") {
                continue;
            }
            for json in [false, true] {
                let mut args = vec!["migrate"];
                args.extend(command.iter().copied());
                if json {
                    args.push("--json");
                }
                args.extend(["--db", input.as_str()]);
                let run = chatbot(&dir.0, &args);
                assert_no_marker(input, &format!("{run:#?}"), &run.all());
                assert_eq!(run.code, 2, "{input}: {run:#?}");
                if json {
                    assert_eq!(error_kind(&run), "url", "{input}: {run:#?}");
                    let message = run.json()["error"]["message"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    assert!(
                        message.contains("sqlite://"),
                        "says which schemes: {message}"
                    );
                    // The schemes this binary accepts, not the ones a
                    // message may name to say what a URL looks like.
                    let accepted = message.split("accepts").nth(1).unwrap_or("");
                    assert!(
                        accepted.contains("postgres://") == cfg!(feature = "postgres"),
                        "{message}"
                    );
                    assert!(
                        accepted.contains("mysql://") == cfg!(feature = "mysql"),
                        "{message}"
                    );
                }
            }
        }
        let launch = chatbot(&dir.0, &["--db", input]);
        assert_no_marker(input, &format!("{launch:#?}"), &launch.all());
        assert_ne!(launch.code, 0, "{input}: {launch:#?}");
        let left: Vec<_> = std::fs::read_dir(&dir.0)
            .expect("the folder")
            .map(|e| e.map(|e| e.file_name()))
            .collect();
        assert!(left.is_empty(), "{input}: files created: {left:?}");
    }
    // Plain SQLite paths still work, in any scheme case.
    let dir = TempDir(scratch_dir("chatbot-plain-path"));
    for (url, file) in [
        ("plain.sqlite", "plain.sqlite"),
        ("./dotted.sqlite", "dotted.sqlite"),
        ("SQLite://upper.sqlite", "upper.sqlite"),
        ("sqlite:colon.sqlite", "colon.sqlite"),
    ] {
        let run = chatbot(&dir.0, &["migrate", "upgrade", "heads", "--db", url]);
        assert_eq!(run.code, 0, "{url}: {run:#?}");
        assert!(dir.0.join(file).is_file(), "{url}: {file} created");
    }
}
