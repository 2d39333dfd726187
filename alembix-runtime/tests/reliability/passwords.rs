//! Passwords with special characters, through the library's entry point
//! (`Database::connect`) and what follows it: no piece of the password in an
//! error, a `Debug` output, a `tracing` event or a history row, whether the
//! URL connects, is refused, or fails in the driver. The password is made of
//! markers found nowhere else, one between each two special characters, so
//! a fragment cut out by a driver (libpq quoting a "host" `ss@h`) would show.
//!
//! Strings that are not URLs of a compiled-in scheme (a libpq `key=value`
//! string, an unknown scheme) are refused with [`Error::Url`], and SQLite
//! creates no file for them.

use crate::capture::Capture;
use alembix_runtime::{Database, Error};

/// The special characters, in the order they separate the markers.
const SPECIALS: [char; 12] = ['#', '?', '@', '/', '%', ':', ' ', '\'', '"', '\\', 'é', '&'];

fn marker(i: usize) -> String {
    format!("Yv{i}jQ")
}

fn password_of(specials: &[char]) -> String {
    let mut password = marker(0);
    for (i, c) in specials.iter().enumerate() {
        password.push(*c);
        password.push_str(&marker(i + 1));
    }
    password
}

fn assert_no_marker(label: &str, text: &str) {
    for i in 0..=SPECIALS.len() {
        let m = marker(i);
        assert!(
            !text.contains(&m),
            "{label}: a piece of the password ({m}) leaked:\n{text}"
        );
    }
}

/// Strings of no compiled-in scheme: refused, nothing echoed, no file.
#[test]
fn strings_that_are_not_urls_are_refused() {
    let password = password_of(&['#', '?', '@', '/', ':', '\\', 'é']);
    let inputs = [
        format!("host=127.0.0.1 user=postgres password='{password}' dbname=test"),
        format!("user = me password = {}", marker(0)),
        format!("password={}", marker(0)),
        format!("Oracle://scott:{password}@127.0.0.1/db"),
        format!("mysql:scott:{password}@127.0.0.1/db"),
        format!("postgres//scott:{password}@127.0.0.1/db"),
        format!("\tpostgres://scott:{password}@127.0.0.1/db"),
    ];
    let capture = Capture::default();
    capture.during(|| {
        for input in &inputs {
            let refused = Database::driver_url(input).unwrap_err();
            assert!(matches!(refused, Error::Url { .. }), "{input}: {refused}");
            assert_no_marker(input, &format!("{refused}\n{refused:?}"));
            let err = Database::connect(input).unwrap_err();
            let text = format!("{err}\n{err:?}");
            assert!(matches!(err, Error::Url { .. }), "{input}: {text}");
            assert_no_marker(input, &text);
            assert!(text.contains("sqlite://"), "names the schemes: {text}");
            assert!(
                !std::path::Path::new(input).exists(),
                "{input}: a file was created"
            );
        }
    });
    assert_no_marker("logs", &capture.text());
    // What the drivers get: the scheme in lower case (libpq and SQLite read
    // theirs case-sensitively).
    assert_eq!(
        Database::driver_url("SQLite://App.db").ok().as_deref(),
        Some("sqlite://App.db")
    );
    #[cfg(feature = "postgres")]
    assert_eq!(
        Database::driver_url("PostgreSQL://u:p%40ss@h/db")
            .ok()
            .as_deref(),
        Some("postgresql://u:p%40ss@h/db")
    );
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod servers {
    use super::*;
    use crate::support::{Kind, TestDb};
    use std::fmt::Write as _;

    /// What a URL must lead to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Expect {
        Connects,
        Refused,
        Fails,
    }

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

    fn url_with(t: &TestDb, userinfo: &str, port: Option<u16>, query: &str) -> String {
        let (scheme, rest) = t.url.split_once("://").expect("a server URL");
        let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        let (hostport, _) = host_and_path.split_once('/').expect("a path");
        let host = hostport.split(':').next().unwrap_or(hostport);
        let port = port.map_or_else(
            || hostport.split(':').nth(1).unwrap_or("").to_string(),
            |p| p.to_string(),
        );
        format!("{scheme}://{userinfo}@{host}:{port}/{}{query}", t.name)
    }

    fn sweep(kind: Kind) {
        let label = format!("{kind:?} passwords");
        let Some(t) = TestDb::create(kind, &label) else {
            return;
        };
        let mut o = t.oracle();
        let user = match kind {
            Kind::Mysql => format!("pwlib_{}", std::process::id()),
            _ => "postgres".to_string(),
        };
        let hosts = ["%", "localhost", "127.0.0.1"];
        let set_password = |o: &mut crate::support::Oracle, password: &str| {
            if kind == Kind::Mysql {
                let literal = password.replace('\\', "\\\\").replace('\'', "\\'");
                for host in hosts {
                    o.exec(&format!(
                        "ALTER USER '{user}'@'{host}' IDENTIFIED BY '{literal}'"
                    ));
                }
            }
        };
        if kind == Kind::Mysql {
            for host in hosts {
                let _ = o.try_exec(&format!("DROP USER IF EXISTS '{user}'@'{host}'"));
                o.exec(&format!(
                    "CREATE USER '{user}'@'{host}' IDENTIFIED BY 'unset'"
                ));
                o.exec(&format!("GRANT ALL ON `{}`.* TO '{user}'@'{host}'", t.name));
            }
        }
        let all = password_of(&SPECIALS);
        let encoded = percent_encode(&all);
        let mut cases: Vec<(String, String, Option<String>, Expect)> = vec![
            (
                "percent-encoded".into(),
                url_with(&t, &format!("{user}:{encoded}"), None, ""),
                Some(all.clone()),
                Expect::Connects,
            ),
            (
                "raw, every special character".into(),
                url_with(&t, &format!("{user}:{all}"), None, ""),
                Some(all.clone()),
                Expect::Refused,
            ),
            (
                "wrong port".into(),
                url_with(&t, &format!("{user}:{encoded}"), Some(1), ""),
                Some(all.clone()),
                Expect::Fails,
            ),
        ];
        for c in SPECIALS {
            let password = password_of(&[c]);
            let expect = match (kind, c) {
                (Kind::Postgres, '@' | '/' | '%') => Expect::Refused,
                (Kind::Mysql, '/' | '?' | '#') => Expect::Refused,
                _ => Expect::Connects,
            };
            cases.push((
                format!("raw {c:?}"),
                url_with(&t, &format!("{user}:{password}"), None, ""),
                Some(password),
                expect,
            ));
        }
        if kind == Kind::Mysql {
            cases.push((
                "wrong password".into(),
                url_with(&t, &format!("{user}:{encoded}x"), None, ""),
                Some(all.clone()),
                Expect::Fails,
            ));
        } else {
            let raw_query = password_of(&['#', '?', ':', ' ', '\'', '"', '\\', 'é']);
            cases.push((
                "query parameter, raw".into(),
                url_with(&t, &user, None, &format!("?password={raw_query}")),
                None,
                Expect::Connects,
            ));
            cases.push((
                "query parameter beside a bad option".into(),
                url_with(
                    &t,
                    &user,
                    None,
                    &format!("?password={encoded}&sslmode=bogus"),
                ),
                None,
                Expect::Fails,
            ));
        }
        let broken = crate::fixtures::migrator(kind, "broken");
        let capture = Capture::default();
        let mut seen = String::new();
        capture.during(|| {
            for (case, url, server_password, expect) in &cases {
                if let Some(password) = server_password {
                    set_password(&mut o, password);
                }
                match Database::connect(url) {
                    Ok(mut db) => {
                        assert_eq!(*expect, Expect::Connects, "{label}: {case}: {db:?}");
                        let shown = db.redacted_url().to_string();
                        assert!(shown.contains("***"), "{label}: {case}: {shown}");
                        assert!(shown.contains(&t.name), "{label}: {case}: {shown}");
                        let _ = writeln!(seen, "{case}: {db:?} {shown}");
                        // SQL errors after connecting: a failing migration.
                        let err = broken.upgrade(&mut db, "heads").unwrap_err();
                        let _ = writeln!(seen, "{case}: {err}\n{err:?}");
                        match broken.current(&mut db) {
                            Ok(current) => {
                                let _ = writeln!(seen, "{case}: {current:?}");
                            }
                            Err(err) => {
                                let _ = writeln!(seen, "{case}: {err}\n{err:?}");
                            }
                        }
                    }
                    Err(err) => {
                        let text = format!("{err}\n{err:?}");
                        match expect {
                            Expect::Refused => {
                                assert!(matches!(err, Error::Url { .. }), "{label}: {case}: {text}")
                            }
                            Expect::Fails => assert!(
                                matches!(err, Error::Connect { .. }),
                                "{label}: {case}: {text}"
                            ),
                            Expect::Connects => panic!("{label}: {case}: {text}"),
                        }
                        assert!(text.contains("127.0.0.1"), "{label}: {case}: {text}");
                        let _ = writeln!(seen, "{case}: {text}");
                    }
                }
            }
        });
        if std::env::var_os("SHOW_ERRORS").is_some() {
            eprintln!("{seen}");
        }
        assert_no_marker(&label, &seen);
        let logs = capture.text();
        assert!(
            logs.contains("sql="),
            "{label}: the capture sees statements"
        );
        assert_no_marker(&format!("{label}: logs"), &logs);
        let text_columns = match kind {
            Kind::Mysql => "CONCAT_WS('|', revision, operation, state, checksum, COALESCE(message, ''), COALESCE(detail, ''), tool)",
            _ => "revision || operation || state || checksum || COALESCE(message, '') || COALESCE(detail, '') || tool",
        };
        let rows = o.strings(&format!(
            "SELECT {text_columns} AS s FROM alembic_version_history"
        ));
        assert!(!rows.is_empty(), "{label}: the failures were recorded");
        assert_no_marker(&format!("{label}: history"), &rows.join("\n"));
        if kind == Kind::Mysql {
            for host in hosts {
                let _ = o.try_exec(&format!("DROP USER IF EXISTS '{user}'@'{host}'"));
            }
        }
        crate::tally(&format!(
            "{label}: {} URLs, no piece of a password in an error, Debug, log line or history row",
            cases.len()
        ));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_passwords_never_leak() {
        sweep(Kind::Postgres);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_passwords_never_leak() {
        sweep(Kind::Mysql);
    }
}
