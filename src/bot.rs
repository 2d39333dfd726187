//! The bot's own data, through diesel: the tables the migrations create, the
//! demo guild it registers, and the summary it prints.
//!
//! The queries are written once and run on whichever backend the URL names
//! (see [`Conn`]); only SQLite is compiled in unless the `postgres` / `mysql`
//! features are on.

use alembix::redact::Scrubber;
use diesel::prelude::*;
use std::fmt;

diesel::table! {
    guilds (id) {
        id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    users (guild_id, id) {
        id -> BigInt,
        guild_id -> BigInt,
        name -> Text,
        display_name -> Nullable<Text>,
    }
}

diesel::table! {
    github_config (guild_id) {
        guild_id -> BigInt,
        repository -> Text,
        announce_channel -> Nullable<BigInt>,
        announce_releases -> Bool,
    }
}

diesel::table! {
    forum_config (guild_id) {
        guild_id -> BigInt,
        forum_url -> Text,
        category -> Nullable<Text>,
    }
}

diesel::table! {
    permission_lists (guild_id, role_name, permission) {
        guild_id -> BigInt,
        role_name -> Text,
        permission -> Text,
    }
}

diesel::table! {
    permission_defaults (role_name, permission) {
        role_name -> Text,
        permission -> Text,
    }
}

/// The guild the bot registers on its first launch.
const DEMO_GUILD: (i64, &str) = (1001, "Rustaceans");

/// A guild and its settings, as the bot summarizes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guild {
    /// The platform's guild id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Display names of its users.
    pub users: Vec<String>,
    /// The GitHub repository it follows, and whether releases are announced.
    pub github: Option<(String, bool)>,
    /// The forum it mirrors.
    pub forum: Option<String>,
    /// (role, permission) pairs.
    pub permissions: Vec<(String, String)>,
}

impl fmt::Display for Guild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "guild {} {}: {} user(s) ({})",
            self.id,
            self.name,
            self.users.len(),
            self.users.join(", ")
        )?;
        if let Some((repository, releases)) = &self.github {
            let announce = if *releases {
                ", announces releases"
            } else {
                ""
            };
            writeln!(f, "  github: {repository}{announce}")?;
        }
        if let Some(forum) = &self.forum {
            writeln!(f, "  forum: {forum}")?;
        }
        let permissions: Vec<String> = self
            .permissions
            .iter()
            .map(|(role, permission)| format!("{role}:{permission}"))
            .collect();
        writeln!(f, "  permissions: {}", permissions.join(" "))
    }
}

/// A diesel connection to whichever backend the URL names.
pub enum Conn {
    /// SQLite (`sqlite://file`, or a plain path).
    Sqlite(SqliteConnection),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(PgConnection),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    Mysql(MysqlConnection),
}

/// Runs `$body` with `$c` bound to the connection of whichever backend is open.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:block) => {
        match $conn {
            Conn::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            Conn::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            Conn::Mysql($c) => $body,
        }
    };
}

impl Conn {
    /// Connects to `url` (the same URLs as `alembix::Database::connect`);
    /// errors never show its password.
    pub fn connect(url: &str) -> Result<Conn, String> {
        let scrubber = Scrubber::for_url(url);
        // The URL as the driver must get it (scheme lower-cased), after the
        // runtime's refusals; the launch already connected with the same.
        let url = &alembix::Database::driver_url(url).map_err(|e| e.to_string())?;
        let lower = url.to_ascii_lowercase();
        let conn = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Conn::postgres(url)
        } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            let rest = url.split_once("://").map_or("", |(_, rest)| rest);
            Conn::mysql(&format!("mysql://{rest}"))
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            SqliteConnection::establish(path)
                .map(Conn::Sqlite)
                .map_err(|e| e.to_string())
        };
        conn.map_err(|e| scrubber.scrub(&format!("cannot connect: {e}")))
    }

    #[cfg(feature = "postgres")]
    fn postgres(url: &str) -> Result<Conn, String> {
        PgConnection::establish(url)
            .map(Conn::Postgres)
            .map_err(|e| e.to_string())
    }

    #[cfg(not(feature = "postgres"))]
    fn postgres(_: &str) -> Result<Conn, String> {
        Err("PostgreSQL support is not compiled in; build with `--features postgres`".into())
    }

    #[cfg(feature = "mysql")]
    fn mysql(url: &str) -> Result<Conn, String> {
        MysqlConnection::establish(url)
            .map(Conn::Mysql)
            .map_err(|e| e.to_string())
    }

    #[cfg(not(feature = "mysql"))]
    fn mysql(_: &str) -> Result<Conn, String> {
        Err("MySQL/MariaDB support is not compiled in; build with `--features mysql`".into())
    }

    /// Registers the demo guild with two users, its integrations and the
    /// default permission list; `false` when it is already there.
    pub fn register_demo_guild(&mut self) -> QueryResult<bool> {
        let (id, name) = DEMO_GUILD;
        on_backend!(self, c => {
            c.transaction(|c| {
                let known: i64 = guilds::table.filter(guilds::id.eq(id)).count().get_result(c)?;
                if known > 0 {
                    return Ok(false);
                }
                diesel::insert_into(guilds::table)
                    .values((guilds::id.eq(id), guilds::name.eq(name)))
                    .execute(c)?;
                for (user_id, user, display) in [(1, "ferris", "Ferris"), (2, "corro", "Corro the Unsafe")] {
                    diesel::insert_into(users::table)
                        .values((
                            users::id.eq(user_id),
                            users::guild_id.eq(id),
                            users::name.eq(user),
                            users::display_name.eq(display),
                        ))
                        .execute(c)?;
                }
                diesel::insert_into(github_config::table)
                    .values((
                        github_config::guild_id.eq(id),
                        github_config::repository.eq("rust-lang/rust"),
                        github_config::announce_releases.eq(true),
                    ))
                    .execute(c)?;
                diesel::insert_into(forum_config::table)
                    .values((
                        forum_config::guild_id.eq(id),
                        forum_config::forum_url.eq("https://users.rust-lang.org"),
                        forum_config::category.eq("help"),
                    ))
                    .execute(c)?;
                // The defaults were seeded by a data migration.
                let defaults: Vec<(String, String)> = permission_defaults::table
                    .select((permission_defaults::role_name, permission_defaults::permission))
                    .load(c)?;
                for (role, permission) in defaults {
                    diesel::insert_into(permission_lists::table)
                        .values((
                            permission_lists::guild_id.eq(id),
                            permission_lists::role_name.eq(role),
                            permission_lists::permission.eq(permission),
                        ))
                        .execute(c)?;
                }
                Ok(true)
            })
        })
    }

    /// Every guild with its users, integrations and permissions, by id.
    pub fn guilds(&mut self) -> QueryResult<Vec<Guild>> {
        on_backend!(self, c => {
            let rows: Vec<(i64, String)> = guilds::table
                .select((guilds::id, guilds::name))
                .order(guilds::id)
                .load(c)?;
            let mut out = Vec::with_capacity(rows.len());
            for (id, name) in rows {
                let users: Vec<(String, Option<String>)> = users::table
                    .filter(users::guild_id.eq(id))
                    .select((users::name, users::display_name))
                    .order(users::id)
                    .load(c)?;
                let github = github_config::table
                    .find(id)
                    .select((github_config::repository, github_config::announce_releases))
                    .first(c)
                    .optional()?;
                let forum = forum_config::table
                    .find(id)
                    .select(forum_config::forum_url)
                    .first(c)
                    .optional()?;
                let permissions = permission_lists::table
                    .filter(permission_lists::guild_id.eq(id))
                    .select((permission_lists::role_name, permission_lists::permission))
                    .order((permission_lists::role_name, permission_lists::permission))
                    .load(c)?;
                out.push(Guild {
                    id,
                    name,
                    users: users.into_iter().map(|(n, d)| d.unwrap_or(n)).collect(),
                    github,
                    forum,
                    permissions,
                });
            }
            Ok(out)
        })
    }
}
