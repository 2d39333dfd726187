//! MySQL/MariaDB: connecting, and the `GET_LOCK` named lock held for a whole run.
//!
//! The lock name is `migrate:<database>.<version table>` (hashed when longer
//! than MySQL's 64 characters), since `GET_LOCK` names are server-wide. The
//! lock belongs to the connection: `RELEASE_LOCK` frees it, and so does the
//! server when the connection closes.
//!
//! DDL commits implicitly on MySQL/MariaDB, so a migration cannot be rolled
//! back: the runtime records progress in the history table before and after
//! each statement instead (see [`crate::Migrator::repair`]).

use diesel::{Connection, ConnectionResult, MysqlConnection};

/// Opens a connection; `mariadb://` is accepted as a spelling of `mysql://`.
pub(crate) fn connect(url: &str) -> ConnectionResult<MysqlConnection> {
    let url = match url.get(..10) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mariadb://") => {
            format!("mysql://{}", &url[10..])
        }
        _ => url.to_string(),
    };
    MysqlConnection::establish(&url)
}
