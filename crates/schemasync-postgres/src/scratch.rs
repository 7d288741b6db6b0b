//! Scratch databases for normalising desired schemas: created on the server of a URL,
//! used by one piece of work, and always dropped afterwards (`WITH (FORCE)`), on success
//! and on error alike.
//!
//! This module never touches the database the URL names (it only connects to its server
//! to create and drop the scratch database) and never decides what runs inside.

use crate::driver::pg_error;
use crate::quote::quote_ident;
use postgres::{Client, Config, NoTls};
use schemasync_core::sqltext::{lex_spanned, Token};
use schemasync_core::Result;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinguishes databases created by one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database name unique on the server: `<prefix>_<pid>_<counter>_<nanos>`.
pub(crate) fn unique_database_name(prefix: &str) -> String {
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{counter}_{nanos}", std::process::id())
}

/// `url` with its database replaced by `database`: the path of a `postgres://` URL, or
/// a `dbname=` appended to a key/value connection string (the last one wins).
pub(crate) fn url_with_database(url: &str, database: &str) -> String {
    let url = url.trim();
    let scheme_end = ["postgres://", "postgresql://"]
        .iter()
        .find(|scheme| url.starts_with(*scheme))
        .map(|scheme| scheme.len());
    let Some(authority_start) = scheme_end else {
        let escaped = database.replace('\\', "\\\\").replace('\'', "\\'");
        return format!("{url} dbname='{escaped}'");
    };
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    let query = after.find('?').map_or("", |q| &after[q..]);
    format!(
        "{}{authority}/{}{query}",
        &url[..authority_start],
        percent_encode(database)
    )
}

/// Percent-encodes everything but unreserved URL characters.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A database created for one use, dropped (`WITH (FORCE)`) when the guard is dropped.
pub(crate) struct ScratchGuard {
    admin: Config,
    name: String,
}

impl ScratchGuard {
    /// Creates a uniquely named database on the server at `url`.
    pub(crate) fn create(url: &str) -> Result<ScratchGuard> {
        let admin = Config::from_str(url).map_err(|e| pg_error("invalid PostgreSQL URL", &e))?;
        let name = unique_database_name("schemasync_scratch");
        admin
            .connect(NoTls)
            .map_err(|e| pg_error("cannot connect to the PostgreSQL server", &e))?
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name)))
            .map_err(|e| pg_error(format!("cannot create the scratch database {name}"), &e))?;
        Ok(ScratchGuard { admin, name })
    }

    /// The scratch database's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now, reporting failure (dropping the guard ignores it).
    fn drop_now(mut self) -> Result<()> {
        let result = self.drop_database();
        self.name.clear();
        result
    }

    fn drop_database(&self) -> Result<()> {
        let mut admin = self
            .admin
            .connect(NoTls)
            .map_err(|e| pg_error("cannot connect to the PostgreSQL server", &e))?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.name)
            ))
            .map_err(|e| {
                pg_error(
                    format!("cannot drop the scratch database {}", self.name),
                    &e,
                )
            })
    }
}

impl Drop for ScratchGuard {
    fn drop(&mut self) {
        if !self.name.is_empty() {
            // Best effort: a failure here has no one to report to.
            let _ = self.drop_database();
        }
    }
}

/// Creates a scratch database on the server at `url`, runs `work` connected to it (with
/// `search_path = public`, so unqualified names mean what the canonical form means), and
/// drops it afterwards, on success and on error alike.
pub(crate) fn with_scratch_database<T>(
    url: &str,
    work: impl FnOnce(&mut Client) -> Result<T>,
) -> Result<T> {
    let config = Config::from_str(url).map_err(|e| pg_error("invalid PostgreSQL URL", &e))?;
    let guard = ScratchGuard::create(url)?;
    let result = run_in(&config, guard.name(), work);
    let dropped = guard.drop_now();
    match (result, dropped) {
        (Err(error), _) => Err(error),
        (Ok(_), Err(error)) => Err(error),
        (Ok(value), Ok(())) => Ok(value),
    }
}

/// Connects to database `name` with the credentials of `config` and runs `work`; the
/// connection is closed before returning.
fn run_in<T>(
    config: &Config,
    name: &str,
    work: impl FnOnce(&mut Client) -> Result<T>,
) -> Result<T> {
    let mut config = config.clone();
    config.dbname(name);
    let mut client = config
        .connect(NoTls)
        .map_err(|e| pg_error(format!("cannot connect to the scratch database {name}"), &e))?;
    client
        .batch_execute("SET search_path = public")
        .map_err(|e| pg_error("cannot set search_path in the scratch database", &e))?;
    let result = work(&mut client);
    drop(client);
    result
}

/// `sql` without the `CONCURRENTLY` of `CREATE INDEX` / `DROP INDEX`: a desired schema
/// runs in the scratch database as one multi-statement query, where a concurrent build
/// is refused and means nothing anyway (how indexes are built is the planner's choice).
pub(crate) fn without_concurrently(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut previous_word: Option<&str> = None;
    for (token, span) in lex_spanned(sql) {
        match token {
            Token::Word(word) => {
                if word.eq_ignore_ascii_case("concurrently")
                    && previous_word.is_some_and(|p| p.eq_ignore_ascii_case("index"))
                {
                    out.push_str(&sql[copied..span.start]);
                    copied = span.end;
                }
                previous_word = Some(word);
            }
            Token::Space | Token::Comment(_) => {}
            _ => previous_word = None,
        }
    }
    out.push_str(&sql[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            url_with_database("postgres://u:p@h:5432/db?sslmode=disable", "x_1"),
            "postgres://u:p@h:5432/x_1?sslmode=disable"
        );
        assert_eq!(
            url_with_database("postgresql://h", "a b"),
            "postgresql://h/a%20b"
        );
        assert_eq!(
            url_with_database("host=h user=u", "x"),
            "host=h user=u dbname='x'"
        );
    }

    #[test]
    fn database_names_are_unique() {
        assert_ne!(unique_database_name("p"), unique_database_name("p"));
    }

    #[test]
    fn concurrently_is_dropped_from_index_statements_only() {
        assert_eq!(
            without_concurrently(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n\
                 drop index /* x */ concurrently j; SELECT 'index concurrently'"
            ),
            "CREATE UNIQUE INDEX  IF NOT EXISTS i ON t (a);\n\
             drop index /* x */  j; SELECT 'index concurrently'"
        );
    }
}
