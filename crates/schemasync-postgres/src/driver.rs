//! `PgDriver`: one connection, its options, and the [`Driver`] implementation that ties
//! the modules of this crate together.

use crate::scratch::{url_with_database, ScratchGuard};
use crate::{apply, backup, ddl, introspect, planner, scratch};
use postgres::{Client, NoTls};
use schemasync_core::sqltext::{lex, Token};
use schemasync_core::{
    ApplyOptions, ApplyReport, Dialect, DiffOptions, Driver, Error, Plan, Result, Schema, Status,
    TableStatus,
};
use std::path::Path;
use std::time::Duration;

/// How the driver plans and applies.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `lock_timeout` for every step (SPEC §6; default 100 ms).
    pub lock_timeout: Duration,
    /// How many times a step that hit the lock timeout is retried, with backoff.
    pub lock_retries: u32,
    /// `statement_timeout` for every step; zero (the default) means none. Set explicitly
    /// so a role's or server's default cannot cancel a `CREATE INDEX CONCURRENTLY`
    /// half way (which leaves an invalid index behind).
    pub statement_timeout: Duration,
    /// Plain DDL without the lock-safe forms (for empty databases).
    pub unsafe_plain_ddl: bool,
    /// Server for scratch databases (`--dev-url`); the target server when `None`.
    pub dev_url: Option<String>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            lock_timeout: Duration::from_millis(100),
            lock_retries: 5,
            statement_timeout: Duration::ZERO,
            unsafe_plain_ddl: false,
            dev_url: None,
        }
    }
}

impl PgOptions {
    /// The `SET` statements every apply, migration and printed script starts with.
    /// Function bodies are not checked at creation (as in `pg_dump` output): the desired
    /// schema already ran in a scratch database, and a SQL function may read a table
    /// created after it.
    pub(crate) fn session_settings(&self) -> String {
        format!(
            "SET lock_timeout = '{}ms';\nSET statement_timeout = '{}ms';\nSET check_function_bodies = false;\n",
            self.lock_timeout.as_millis(),
            self.statement_timeout.as_millis()
        )
    }
}

/// A PostgreSQL database opened for schemasync.
pub struct PgDriver {
    pub(crate) client: Client,
    /// The connection URL (never printed: it may hold a password).
    pub(crate) url: String,
    pub(crate) options: PgOptions,
    /// For a driver on a scratch database: the guard that drops it (after the client).
    scratch: Option<ScratchGuard>,
}

/// Runs a desired schema's SQL in an empty database and introspects the result.
fn normalize_sql_in(client: &mut Client, sql: &str) -> Result<Schema> {
    client
        .batch_execute(&scratch::without_concurrently(sql))
        .map_err(|e| {
            let missing_role = e
                .as_db_error()
                .filter(|db| db.code() == &postgres::error::SqlState::UNDEFINED_OBJECT)
                .and_then(|db| {
                    db.message()
                        .strip_prefix("role \"")?
                        .strip_suffix("\" does not exist")
                })
                .and_then(|role| policy_naming(sql, role))
                .map(|policy| {
                    format!(
                        " (named by {policy}; schemasync does not manage roles: create it first)"
                    )
                })
                .unwrap_or_default();
            Error::InvalidSchema(format!(
                "the SQL fails in PostgreSQL: {}{missing_role}",
                pg_message(&e)
            ))
        })?;
    introspect::introspect(client)
}

/// The first `CREATE POLICY` or `ALTER POLICY` statement of `sql` that names `role`, as
/// `policy p on t`, so an error about a missing role can say where it comes from.
fn policy_naming(sql: &str, role: &str) -> Option<String> {
    let tokens: Vec<Token<'_>> = lex(sql)
        .into_iter()
        .filter(|t| !matches!(t, Token::Space | Token::Comment(_)))
        .collect();
    let word = |token: Option<&Token<'_>>, wanted: &str| matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(wanted));
    let name = |token: Option<&Token<'_>>| match token {
        Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
        Some(Token::QuotedIdent(ident)) => Some(ident.clone()),
        _ => None,
    };
    (0..tokens.len()).find_map(|i| {
        let starts = (word(tokens.get(i), "create") || word(tokens.get(i), "alter"))
            && word(tokens.get(i + 1), "policy")
            && word(tokens.get(i + 3), "on");
        if !starts {
            return None;
        }
        let end = (i..tokens.len())
            .find(|&j| tokens[j] == Token::Other(";"))
            .unwrap_or(tokens.len());
        let names_role = (i + 4..end).any(|j| name(tokens.get(j)).as_deref() == Some(role));
        let mut table = vec![name(tokens.get(i + 4)).unwrap_or_default()];
        let mut at = i + 4;
        while tokens.get(at + 1) == Some(&Token::Other(".")) {
            table.extend(name(tokens.get(at + 2)));
            at += 2;
        }
        names_role.then(|| {
            format!(
                "policy {} on {}",
                name(tokens.get(i + 2)).unwrap_or_default(),
                table.join(".")
            )
        })
    })
}

/// Wraps a `postgres` error as a schemasync error saying what we were doing, with the
/// server's own message and SQLSTATE.
pub(crate) fn pg_error(context: impl Into<String>, err: &postgres::Error) -> Error {
    Error::database(Dialect::Postgres, context, pg_message(err))
}

/// The server's own words for an error: `message, SQLSTATE code`.
pub(crate) fn pg_message(err: &postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}, SQLSTATE {}", db.message(), db.code().code()),
        None => err.to_string(),
    }
}

impl PgDriver {
    /// Connects to `url` (`postgres://user:pass@host:port/db`).
    pub fn connect(url: &str, options: PgOptions) -> Result<Self> {
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            Error::Usage(format!("the PostgreSQL URL is not valid: {e}"))
        })?;
        if config.get_application_name().is_none() {
            // Lets an operator see (and tell apart) a schemasync session in pg_stat_activity.
            config.application_name("schemasync");
        }
        let client = config
            .connect(NoTls)
            .map_err(|e| pg_error("cannot connect to the PostgreSQL server", &e))?;
        Ok(PgDriver {
            client,
            url: url.to_string(),
            options,
            scratch: None,
        })
    }

    /// Connects to a new, empty scratch database on the server `server_url` names; the
    /// database is dropped when the driver is (autogenerate and `verify` run revisions there).
    pub fn connect_scratch(server_url: &str, options: PgOptions) -> Result<Self> {
        let guard = ScratchGuard::create(server_url)?;
        let url = url_with_database(server_url, guard.name());
        let mut driver = PgDriver::connect(&url, options)?;
        driver.scratch = Some(guard);
        Ok(driver)
    }

    /// Like [`Driver::normalize_sql`], but runs `sql` in this driver's own database,
    /// which must be empty and is left holding the schema: for callers that keep a
    /// scratch database of their own (the conformance suite resets one per case).
    pub fn normalize_sql_in_place(&mut self, sql: &str) -> Result<Schema> {
        normalize_sql_in(&mut self.client, sql)
    }

    /// The underlying client, for callers that need to run their own SQL.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Sets this session's `lock_timeout` and `statement_timeout` from the options, as
    /// `apply` does, for callers that write through [`PgDriver::client`] (a copy).
    pub fn set_session(&mut self) -> Result<()> {
        crate::apply::set_session(&mut self.client, &self.options)
    }

    /// The options in force.
    pub fn options(&self) -> &PgOptions {
        &self.options
    }

    /// The server scratch databases are created on: `--dev-url`, else the target's.
    fn scratch_server(&self) -> &str {
        self.options.dev_url.as_deref().unwrap_or(&self.url)
    }
}

impl Driver for PgDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn diff_options(&self) -> DiffOptions {
        DiffOptions {
            case_insensitive_names: false,
            column_order_matters: false,
        }
    }

    fn introspect(&mut self) -> Result<Schema> {
        introspect::introspect(&mut self.client)
    }

    fn normalize_sql(&mut self, sql: &str) -> Result<Schema> {
        scratch::with_scratch_database(self.scratch_server(), |client| {
            normalize_sql_in(client, sql)
        })
    }

    fn normalize_model(&mut self, schema: &Schema) -> Result<Schema> {
        scratch::with_scratch_database(self.scratch_server(), |client| {
            for (object, sql) in ddl::create_schema(schema) {
                client.batch_execute(&sql).map_err(|e| {
                    Error::InvalidSchema(format!(
                        "{object} cannot be created in PostgreSQL: {}",
                        pg_message(&e)
                    ))
                })?;
            }
            introspect::introspect(client)
        })
    }

    fn render_sql(&self, schema: &Schema) -> Vec<String> {
        ddl::create_schema(schema)
            .into_iter()
            .map(|(_, sql)| sql)
            .collect()
    }

    fn script(&self, plan: &Plan) -> String {
        let mut out = self.options.session_settings();
        let mut in_transaction = false;
        for step in &plan.steps {
            if step.transactional != in_transaction {
                out.push_str(if step.transactional {
                    "BEGIN;\n"
                } else {
                    "COMMIT;\n"
                });
                in_transaction = step.transactional;
            }
            out.push_str(&format!("-- {}\n", step.description));
            for statement in &step.sql {
                out.push_str(statement.trim_end().trim_end_matches(';'));
                out.push_str(";\n");
            }
        }
        if in_transaction {
            out.push_str("COMMIT;\n");
        }
        out
    }

    fn plan(&mut self, current: &Schema, desired: &Schema) -> Result<Plan> {
        planner::plan(current, desired, &self.diff_options(), &self.options)
    }

    fn apply(
        &mut self,
        plan: &Plan,
        desired: &Schema,
        options: &ApplyOptions,
    ) -> Result<ApplyReport> {
        apply::apply(self, plan, desired, options)
    }

    fn backup(&mut self, destination: &Path) -> Result<()> {
        backup::dump(&self.url, destination)
    }

    fn restore(&mut self, source: &Path) -> Result<()> {
        backup::restore(&self.url, source)
    }

    fn unmanaged(&mut self) -> Result<Vec<String>> {
        introspect::read_unmanaged(&mut self.client)
    }

    fn status(&mut self) -> Result<Status> {
        let schema = self.introspect()?;
        let version: String = self
            .client
            .query_one("SHOW server_version", &[])
            .map_err(|e| pg_error("cannot read server_version", &e))?
            .get(0);
        // Estimates and sizes from the catalog in one query; an exact count only for a
        // table never analysed (no estimate yet).
        let sizes = self
            .client
            .query(
                "SELECT n.nspname::text, c.relname::text, c.reltuples::float8, \
                   pg_total_relation_size(c.oid) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p')",
                &[],
            )
            .map_err(|e| pg_error("cannot read table sizes", &e))?;
        let mut tables = Vec::new();
        for table in &schema.tables {
            let namespace = table.schema.as_deref().unwrap_or("public");
            let found = sizes.iter().find(|row| {
                row.get::<_, String>(0) == namespace && row.get::<_, String>(1) == table.name
            });
            let estimate = found.map(|row| row.get::<_, f64>(2)).unwrap_or(-1.0);
            let size_bytes = found.and_then(|row| u64::try_from(row.get::<_, i64>(3)).ok());
            let (rows, rows_estimated) = if estimate >= 0.0 {
                (estimate.round() as u64, true)
            } else {
                let name = crate::quote::qualified(table.schema.as_deref(), &table.name);
                let count: i64 = self
                    .client
                    .query_one(&format!("SELECT count(*) FROM {name}"), &[])
                    .map_err(|e| pg_error(format!("cannot count rows of {}", table.name), &e))?
                    .get(0);
                (u64::try_from(count).unwrap_or(0), false)
            };
            tables.push(TableStatus {
                name: match &table.schema {
                    Some(schema) => format!("{schema}.{}", table.name),
                    None => table.name.clone(),
                },
                rows,
                rows_estimated,
                size_bytes,
            });
        }
        Ok(Status {
            dialect: Dialect::Postgres,
            properties: vec![("server_version".to_string(), version)],
            tables,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::policy_naming;

    #[test]
    fn a_missing_role_is_traced_to_the_policy_that_names_it() {
        let sql = "CREATE TABLE t (a int);\nCREATE POLICY p ON t TO alice USING (true);\n\
                   CREATE POLICY \"Q\" ON app.t AS RESTRICTIVE TO \"Ghost\", bob;";
        assert_eq!(
            policy_naming(sql, "alice").as_deref(),
            Some("policy p on t")
        );
        assert_eq!(
            policy_naming(sql, "Ghost").as_deref(),
            Some("policy Q on app.t")
        );
        assert_eq!(policy_naming(sql, "carol"), None);
    }
}
