//! Database URLs: parsing `sqlite:` and `postgres:` URLs into [`DatabaseUrl`].
//!
//! A URL's password must never reach the user's screen, a log or an error: the
//! [`fmt::Display`] and [`fmt::Debug`] forms of every type here redact it, and parse
//! errors never repeat the URL they could not read.

use schemasync_core::{Error, Result};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where the database is, as given by `--database-url`, the environment or the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file (`sqlite://relative/path.db`, `sqlite:///absolute/path.db`).
    Sqlite {
        /// The file, relative to the current folder unless absolute.
        path: PathBuf,
    },
    /// A fresh in-memory SQLite database (`sqlite::memory:`).
    SqliteMemory,
    /// A PostgreSQL server (`postgres://user:pass@host:port/db`, also `postgresql://`).
    Postgres(PostgresUrl),
}

/// The parts of a `postgres://` URL, kept as written (percent-encoding is not undone).
///
/// Its `Debug` form is its redacted `Display` form.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    /// `postgres` or `postgresql`, as written.
    pub scheme: String,
    /// User name, if given.
    pub user: Option<String>,
    /// Password, if given; never shown.
    pub password: Option<Secret>,
    /// Host (or comma-separated hosts), possibly empty for the local socket.
    pub host: String,
    /// Port, if given for a single host.
    pub port: Option<u16>,
    /// Database name, if given.
    pub database: Option<String>,
    /// Query parameters after `?`, as written.
    pub query: Option<String>,
}

/// A secret string whose `Debug` and `Display` forms are `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself, for handing to a driver; never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for DatabaseUrl {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self> {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            return parse_sqlite(rest);
        }
        for scheme in ["postgresql", "postgres"] {
            if let Some(rest) = url.strip_prefix(scheme).and_then(|r| r.strip_prefix("://")) {
                return parse_postgres(scheme, rest).map(DatabaseUrl::Postgres);
            }
        }
        // The URL itself is not repeated: it may hold a password.
        let scheme = url.split_once(':').map(|(scheme, _)| scheme).filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        Err(Error::Usage(match scheme {
            Some(scheme) => format!(
                "unsupported database URL scheme `{scheme}:`; use sqlite://path.db, sqlite::memory: or postgres://user@host/db"
            ),
            None => "the database URL has no scheme; use sqlite://path.db, sqlite::memory: or postgres://user@host/db".to_string(),
        }))
    }
}

fn parse_sqlite(rest: &str) -> Result<DatabaseUrl> {
    if rest == ":memory:" || rest == "//:memory:" {
        return Ok(DatabaseUrl::SqliteMemory);
    }
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path.is_empty() {
        return Err(Error::Usage(
            "the sqlite: URL names no file; use sqlite://relative/path.db or sqlite:///absolute/path.db".to_string(),
        ));
    }
    Ok(DatabaseUrl::Sqlite {
        path: PathBuf::from(path),
    })
}

fn parse_postgres(scheme: &str, rest: &str) -> Result<PostgresUrl> {
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query.to_string())),
        None => (rest, None),
    };
    let (userinfo, after_userinfo) = match before_query.rsplit_once('@') {
        Some((userinfo, after)) => (Some(userinfo), after),
        None => (None, before_query),
    };
    let (user, password) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((user, password)) => (Some(user.to_string()), Some(Secret::new(password))),
            None => (Some(info.to_string()), None),
        },
        None => (None, None),
    };
    let (authority, database) = match after_userinfo.split_once('/') {
        Some((authority, db)) if !db.is_empty() => (authority, Some(db.to_string())),
        Some((authority, _)) => (authority, None),
        None => (after_userinfo, None),
    };
    let (host, port) = split_host_port(authority)?;
    Ok(PostgresUrl {
        scheme: scheme.to_string(),
        user: user.filter(|u| !u.is_empty()),
        password,
        host,
        port,
        database,
        query,
    })
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>)> {
    if authority.contains(',') {
        return Ok((authority.to_string(), None));
    }
    let port_start = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => i,
        _ => return Ok((authority.to_string(), None)),
    };
    let port = &authority[port_start + 1..];
    let port = port.parse::<u16>().map_err(|_| {
        Error::Usage(format!(
            "the port `{port}` in the postgres URL is not a number from 0 to 65535"
        ))
    })?;
    Ok((authority[..port_start].to_string(), Some(port)))
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            DatabaseUrl::Postgres(url) => url.fmt(f),
        }
    }
}

impl PostgresUrl {
    /// The URL with its password, for handing to the driver; never print it.
    pub fn connection_string(&self) -> String {
        let mut url = String::new();
        // Writing to a String cannot fail.
        let _ = self.write(&mut url, true);
        url
    }

    /// Writes the URL; the password (and `password=` parameters) only when `reveal`.
    fn write(&self, f: &mut impl fmt::Write, reveal: bool) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        let password = |secret: &Secret| {
            if reveal {
                secret.expose().to_string()
            } else {
                secret.to_string()
            }
        };
        match (&self.user, &self.password) {
            (Some(user), Some(secret)) => write!(f, "{user}:{}@", password(secret))?,
            (Some(user), None) => write!(f, "{user}@")?,
            (None, Some(secret)) => write!(f, ":{}@", password(secret))?,
            (None, None) => {}
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        if let Some(database) = &self.database {
            write!(f, "/{database}")?;
        }
        if let Some(query) = &self.query {
            f.write_str("?")?;
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    f.write_str("&")?;
                }
                match pair.split_once('=') {
                    Some((key, _)) if !reveal && key.to_ascii_lowercase().contains("password") => {
                        write!(f, "{key}=***")?
                    }
                    _ => f.write_str(pair)?,
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({self})")
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(url: &str) -> DatabaseUrl {
        url.parse().unwrap()
    }

    #[test]
    fn sqlite_relative_path_is_kept_relative() {
        assert_eq!(
            parse("sqlite://data/app.db"),
            DatabaseUrl::Sqlite {
                path: PathBuf::from("data/app.db")
            }
        );
    }

    #[test]
    fn sqlite_triple_slash_is_an_absolute_path() {
        assert_eq!(
            parse("sqlite:///var/lib/app.db"),
            DatabaseUrl::Sqlite {
                path: PathBuf::from("/var/lib/app.db")
            }
        );
    }

    #[test]
    fn sqlite_memory_forms() {
        assert_eq!(parse("sqlite::memory:"), DatabaseUrl::SqliteMemory);
        assert_eq!(parse("sqlite://:memory:"), DatabaseUrl::SqliteMemory);
    }

    #[test]
    fn sqlite_without_slashes_is_a_relative_path() {
        assert_eq!(
            parse("sqlite:app.db"),
            DatabaseUrl::Sqlite {
                path: PathBuf::from("app.db")
            }
        );
    }

    #[test]
    fn sqlite_url_without_a_file_is_an_error() {
        let err = "sqlite://".parse::<DatabaseUrl>().unwrap_err();
        assert!(err.to_string().contains("names no file"), "{err}");
    }

    #[test]
    fn sqlite_display_round_trips() {
        for url in [
            "sqlite://data/app.db",
            "sqlite:///var/lib/app.db",
            "sqlite::memory:",
        ] {
            assert_eq!(parse(url).to_string(), url);
        }
    }

    #[test]
    fn postgres_url_is_split_into_its_parts() {
        let DatabaseUrl::Postgres(url) = parse("postgres://alice:s3cret@db.example.com:6432/app")
        else {
            panic!("not a postgres URL");
        };
        assert_eq!(url.scheme, "postgres");
        assert_eq!(url.user.as_deref(), Some("alice"));
        assert_eq!(url.password.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(url.host, "db.example.com");
        assert_eq!(url.port, Some(6432));
        assert_eq!(url.database.as_deref(), Some("app"));
        assert_eq!(url.query, None);
    }

    #[test]
    fn postgresql_scheme_and_ipv6_host() {
        let DatabaseUrl::Postgres(url) = parse("postgresql://[::1]:5432/test") else {
            panic!("not a postgres URL");
        };
        assert_eq!(url.scheme, "postgresql");
        assert_eq!(url.host, "[::1]");
        assert_eq!(url.port, Some(5432));
        assert_eq!(url.user, None);
    }

    #[test]
    fn password_with_at_sign_splits_at_the_last_one() {
        let DatabaseUrl::Postgres(url) = parse("postgres://bob:p@ss@localhost/db") else {
            panic!("not a postgres URL");
        };
        assert_eq!(url.password.as_ref().map(Secret::expose), Some("p@ss"));
        assert_eq!(url.host, "localhost");
    }

    #[test]
    fn password_is_never_displayed() {
        let url =
            parse("postgres://alice:s3cret@localhost:5432/app?sslmode=require&password=other");
        let shown = url.to_string();
        assert_eq!(
            shown,
            "postgres://alice:***@localhost:5432/app?sslmode=require&password=***"
        );
        let debugged = format!("{url:?}");
        assert!(!debugged.contains("s3cret"), "{debugged}");
        assert!(!debugged.contains("other"), "{debugged}");
    }

    #[test]
    fn bad_port_is_an_error_that_does_not_repeat_the_password() {
        let err = "postgres://alice:s3cret@localhost:54x/app"
            .parse::<DatabaseUrl>()
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("54x"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }

    #[test]
    fn unknown_scheme_is_an_error_that_does_not_repeat_the_url() {
        let err = "mysql://root:hunter2@localhost/db"
            .parse::<DatabaseUrl>()
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("`mysql:`"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let err = "app.db".parse::<DatabaseUrl>().unwrap_err();
        assert!(err.to_string().contains("no scheme"), "{err}");
    }
}
