//! Running an offline `--sql` script through the real client of its database
//! (`sqlite3`, `psql`, `mariadb`/`mysql`), as a DBA would. Shared by the
//! runtime's tests and the example service's (`#[path]`).

use std::process::{Command, Stdio};

/// Runs `script` through the client for `url`'s scheme, asserting it
/// succeeds; `None` (with a message) when the client is not installed,
/// outside CI (in CI that fails).
pub fn run_script(url: &str, script: &str) -> Option<()> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("sqlite", url));
    let mut command = match scheme {
        "sqlite" => {
            let mut c = Command::new("sqlite3");
            c.arg("-bail").arg(rest);
            c
        }
        "postgres" | "postgresql" => {
            let mut c = Command::new("psql");
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]);
            c
        }
        _ => {
            let (user, password, host, port, database) = mysql_parts(rest);
            let mut c = Command::new(mysql_client()?);
            // `--comments`: keep the comments inside trigger bodies as the
            // online run stores them (the client strips them otherwise).
            c.args([
                "--comments",
                "-h",
                &host,
                "-P",
                &port,
                "-u",
                &user,
                &database,
            ]);
            if !password.is_empty() {
                c.env("MYSQL_PWD", password);
            }
            c
        }
    };
    let spawned = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return skip_client(&format!("{command:?}"), &e.to_string()),
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(script.as_bytes()).expect("script written");
    }
    let output = child.wait_with_output().expect("client ran");
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}\n--- script:\n{script}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Some(())
}

fn mysql_client() -> Option<&'static str> {
    ["mariadb", "mysql"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .or_else(|| skip_client("mariadb", "neither `mariadb` nor `mysql` is installed").and(None))
}

fn skip_client(client: &str, why: &str) -> Option<()> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{client} cannot run in CI: {why}");
    }
    eprintln!("skipping: {client} cannot run: {why}");
    None
}

/// `(user, password, host, port, database)` of what follows `mysql://`.
fn mysql_parts(rest: &str) -> (String, String, String, String, String) {
    let rest = rest.split('?').next().unwrap_or_default();
    let (auth, rest) = rest.rsplit_once('@').unwrap_or(("root", rest));
    let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
    let (host_port, database) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "3306"));
    let decode = |s: &str| s.replace("%40", "@").replace("%3A", ":");
    (
        decode(user),
        decode(password),
        host.to_string(),
        port.to_string(),
        database.to_string(),
    )
}
