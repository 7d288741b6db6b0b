//! The PostgreSQL side of versioned migrations: the `public.schemasync_version` table and
//! [`VersionStore`] for [`PgDriver`].
//!
//! Owns the version table's SQL (also as text for offline `--sql`), the lock and
//! transaction around each revision, and the [`Executor`] Rust-code migrations get. It
//! never plans by itself (the planner does, from the live schema to
//! `apply_changes(live, operations)`), never writes the version row outside the
//! revision's transaction, and reuses `apply.rs` for the advisory lock, data checks,
//! steps outside a transaction, verification and history.
//!
//! Each revision runs under the session advisory lock `apply` takes (waited for without
//! a time limit, by polling, so a waiting run holds no snapshot that a concurrent index
//! build would wait for), with `lock_timeout` set for every statement after it. Then, in
//! **one transaction**: the version table is read again (a revision another run did
//! meanwhile is `AlreadyDone`); the live schema is introspected, the plan to the
//! operations' result computed and its data checks run; the plan's transactional steps
//! run (constraints on existing tables `NOT VALID`, as `apply` does); then the
//! revision's SQL, its Rust code and the version row; commit. A failure anywhere in
//! there rolls everything back, so the database stays at the previous revision. A step
//! or the revision's SQL timing out waiting for a lock restarts the whole transaction,
//! with backoff, a bounded number of times.
//!
//! **Chosen design for lock-safe steps:** the plan's later phase (`CREATE INDEX
//! CONCURRENTLY`, `VALIDATE CONSTRAINT`, `SET NOT NULL` through a validated CHECK)
//! cannot run in a transaction; it runs right after the commit, step by step (each step
//! is idempotent and is retried from its first statement on a lock timeout), and the
//! result is verified then. Inside the transaction we check that the transactional
//! steps did everything but that later phase. So a revision never scans existing rows
//! under a lock that blocks writes, at a price: should a later step fail (duplicates
//! for a unique index that the revision's own SQL added after the data checks, a lost
//! connection), the revision is already recorded, and the error says so and lists the
//! remaining idempotent statements to run by hand. When the body has SQL or code, the
//! final verification checks only what the later phase had to do (the SQL may change
//! the schema in ways the operations do not describe); otherwise the database must
//! equal the operations' result exactly. A plan with steps that must commit *before*
//! the transaction (`ALTER TYPE … ADD VALUE`) is refused; migration operations on enums
//! are not supported yet anyway.
//!
//! Introspection never reports the version table (it ignores `schemasync_*`).

use crate::apply::{
    backoff, is_lock_timeout, release_advisory_lock, run_check, set_session, step_error,
    take_advisory_lock, Run,
};
use crate::driver::{pg_error, PgDriver, PgOptions};
use crate::quote::quote_literal;
use crate::{introspect, planner};
use postgres::{Client, GenericClient, SimpleQueryMessage, Transaction};
use schemasync_core::migrate::{
    apply_changes, AppliedRevision, Direction, Executor, RevisionRun, RunOutcome, VersionStore,
    VERSION_TABLE,
};
use schemasync_core::{diff, Dialect, DiffOptions, Driver, Error, Plan, Result, Schema, Step};
use std::thread::sleep;

/// `applied_at` as the server writes it: UTC, RFC 3339, with microseconds so rows sort
/// in the order they were written.
const NOW_SQL: &str =
    r#"to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#;

/// The version table, schema-qualified.
fn table() -> String {
    format!("public.{VERSION_TABLE}")
}

fn create_table_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (
    revision text PRIMARY KEY NOT NULL,
    checksum text NOT NULL,
    applied_at text NOT NULL,
    tool_version text NOT NULL
)",
        table()
    )
}

/// Every row of the version table in the order written; empty when it does not exist.
fn read(client: &mut impl GenericClient) -> Result<Vec<AppliedRevision>> {
    let context = "cannot read the version table";
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table()])
        .map_err(|e| pg_error(context, &e))?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            &format!(
                "SELECT revision, checksum, applied_at, tool_version FROM {} ORDER BY applied_at, revision",
                table()
            ),
            &[],
        )
        .map_err(|e| pg_error(context, &e))?;
    Ok(rows
        .iter()
        .map(|row| AppliedRevision {
            revision: row.get(0),
            checksum: row.get(1),
            applied_at: row.get(2),
            tool_version: row.get(3),
        })
        .collect())
}

fn insert(client: &mut impl GenericClient, revision: &str, checksum: &str) -> Result<()> {
    client
        .batch_execute(&create_table_sql())
        .map_err(|e| pg_error("cannot create the version table", &e))?;
    client
        .execute(
            &format!(
                "INSERT INTO {} (revision, checksum, applied_at, tool_version) VALUES ($1, $2, {NOW_SQL}, $3)",
                table()
            ),
            &[&revision, &checksum, &env!("CARGO_PKG_VERSION")],
        )
        .map_err(|e| pg_error(format!("cannot record revision {revision}"), &e))?;
    Ok(())
}

fn remove(client: &mut impl GenericClient, revision: &str) -> Result<()> {
    client
        .execute(
            &format!("DELETE FROM {} WHERE revision = $1", table()),
            &[&revision],
        )
        .map_err(|e| pg_error(format!("cannot remove revision {revision}"), &e))?;
    Ok(())
}

/// Runs `work` holding the session advisory lock (waited for without a timeout), with
/// `lock_timeout` and `statement_timeout` set for everything `work` does; the lock is
/// released on every path.
fn locked<T>(
    client: &mut Client,
    options: &PgOptions,
    work: impl FnOnce(&mut Client) -> Result<T>,
) -> Result<T> {
    take_advisory_lock(client)?;
    let outcome = set_session(client, options).and_then(|()| work(client));
    let unlocked = release_advisory_lock(client);
    let value = outcome?;
    unlocked?;
    Ok(value)
}

/// The [`Executor`] Rust-code migrations get: the revision's transaction.
struct TransactionExecutor<'t, 'c> {
    transaction: &'t mut Transaction<'c>,
}

impl TransactionExecutor<'_, '_> {
    fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>> {
        self.transaction.simple_query(sql).map_err(|e| {
            pg_error(
                format!("migration code failed running `{}`", preview(sql)),
                &e,
            )
        })
    }
}

impl Executor for TransactionExecutor<'_, '_> {
    fn execute(&mut self, sql: &str) -> Result<u64> {
        Ok(self
            .simple_query(sql)?
            .iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::CommandComplete(rows) => Some(*rows),
                _ => None,
            })
            .last()
            .unwrap_or(0))
    }

    fn query_i64(&mut self, sql: &str) -> Result<Option<i64>> {
        let messages = self.simple_query(sql)?;
        let Some(row) = messages.iter().find_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        }) else {
            return Ok(None);
        };
        let context = || format!("migration code failed running `{}`", preview(sql));
        match row.try_get(0).map_err(|e| pg_error(context(), &e))? {
            None => Ok(None),
            Some(text) => text.trim().parse::<i64>().map(Some).map_err(|_| {
                Error::database(
                    Dialect::Postgres,
                    context(),
                    format!("expected an integer, got `{text}`"),
                )
            }),
        }
    }
}

/// The first line of a statement, shortened, for error messages.
fn preview(sql: &str) -> String {
    let line = sql.trim().lines().next().unwrap_or_default();
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(60).collect::<String>())
    } else {
        line.to_string()
    }
}

/// A revision's operations, planned inside its transaction.
struct Planned {
    plan: Plan,
    /// The schema the operations lead to.
    after: Schema,
    /// Index of the first step of the later phase (run after the commit).
    later: usize,
    /// What the later phase has to change, as the diff describes it (checked after it).
    pending: Vec<String>,
}

/// What the transactional part of one attempt came to.
enum Attempt {
    /// A statement timed out waiting for a lock: roll back and try again.
    Retry,
    /// The operations' plan ran (`None`: there was nothing to plan).
    Planned(Option<Box<Planned>>),
}

/// One revision being run.
struct Revision<'a> {
    run: &'a RevisionRun<'a>,
    options: &'a PgOptions,
    diff_options: DiffOptions,
}

impl Revision<'_> {
    /// See the module documentation; the caller holds the advisory lock.
    fn run(&self, client: &mut Client) -> Result<RunOutcome> {
        let mut attempt = 0;
        loop {
            let mut transaction = client
                .transaction()
                .map_err(|e| pg_error("cannot begin the transaction", &e))?;
            let applied = read(&mut transaction)?
                .iter()
                .any(|r| r.revision == self.run.revision);
            if applied == (self.run.direction == Direction::Up) {
                return Ok(RunOutcome::AlreadyDone);
            }
            let planned = match self.operations(&mut transaction, attempt)? {
                Attempt::Retry => {
                    drop(transaction);
                    self.pause(&mut attempt);
                    continue;
                }
                Attempt::Planned(planned) => planned,
            };
            if let Some(sql) = self.run.sql {
                if let Err(error) = transaction.batch_execute(sql) {
                    if is_lock_timeout(&error) && attempt < self.options.lock_retries {
                        drop(transaction);
                        self.pause(&mut attempt);
                        continue;
                    }
                    return Err(pg_error(
                        format!(
                            "{} {}: its SQL failed; nothing was changed",
                            self.run.direction, self.run.revision
                        ),
                        &error,
                    ));
                }
            }
            if let Some(code) = self.run.code {
                let mut executor = TransactionExecutor {
                    transaction: &mut transaction,
                };
                match self.run.direction {
                    Direction::Up => code.up(&mut executor)?,
                    Direction::Down => code.down(&mut executor)?,
                }
            }
            match self.run.direction {
                Direction::Up => insert(&mut transaction, self.run.revision, self.run.checksum)?,
                Direction::Down => remove(&mut transaction, self.run.revision)?,
            }
            let later = planned
                .as_ref()
                .is_some_and(|p| p.later < p.plan.steps.len());
            if let (Some(planned), false) = (&planned, later) {
                self.apply_run(planned).record(&mut transaction)?;
            }
            transaction
                .commit()
                .map_err(|e| pg_error("cannot commit the transaction", &e))?;
            if let (Some(planned), true) = (&planned, later) {
                self.later_phase(client, planned)?;
            }
            if let (Some(_), Some(progress)) = (&planned, self.run.options.progress.as_deref()) {
                progress.finish();
            }
            return Ok(RunOutcome::Ran);
        }
    }

    /// Plans the operations from the live schema, runs the data checks and the
    /// transactional steps, and checks what they left.
    fn operations(&self, transaction: &mut Transaction<'_>, attempt: u32) -> Result<Attempt> {
        if self.run.operations.is_empty() {
            return Ok(Attempt::Planned(None));
        }
        let live = introspect::introspect(transaction)?;
        let after = apply_changes(&live, self.run.operations)?;
        let plan = planner::plan(&live, &after, &self.diff_options, self.options)?;
        if plan.is_empty() {
            return Ok(Attempt::Planned(None));
        }
        plan.refuse_data_loss(self.run.options.allow_data_loss)?;
        let steps = &plan.steps;
        let first_transactional = steps.iter().position(|s| s.transactional);
        if let (Some(1..), Some(first)) = (first_transactional, steps.first()) {
            return Err(Error::Unsupported(format!(
                "{} {}: step 1 ({}) must commit before the revision's transaction",
                self.run.direction, self.run.revision, first.description
            )));
        }
        let later = first_transactional
            .map(|first| {
                first
                    + steps[first..]
                        .iter()
                        .take_while(|s| s.transactional)
                        .count()
            })
            .unwrap_or(0);
        if steps[later..].iter().any(|s| s.transactional) {
            return Err(Error::Unsupported(
                "a plan whose transactional steps are not contiguous".to_string(),
            ));
        }
        for check in plan.checks() {
            run_check(transaction, check)?;
        }
        if later > 0 {
            self.progress(&format!(
                "steps 1-{later}/{} in the revision's transaction",
                steps.len()
            ));
        }
        for (index, step) in steps[..later].iter().enumerate() {
            for statement in &step.sql {
                if let Err(error) = transaction.batch_execute(statement) {
                    if is_lock_timeout(&error) && attempt < self.options.lock_retries {
                        return Ok(Attempt::Retry);
                    }
                    return Err(step_error(
                        index + 1,
                        step,
                        &error,
                        attempt,
                        self.options.lock_timeout,
                    ));
                }
            }
        }
        let mut planned = Planned {
            plan,
            after,
            later,
            pending: Vec::new(),
        };
        if later == planned.plan.steps.len() {
            self.apply_run(&planned).verify(transaction)?;
        } else {
            // Everything but the later phase must be done now.
            let mid = introspect::introspect(transaction)?;
            let expected = planned.after.clone().without_hints();
            let rest = planner::plan(&mid, &expected, &self.diff_options, self.options)?;
            let undone: Vec<&str> = rest
                .steps
                .iter()
                .filter(|s| s.transactional)
                .map(|s| s.description.as_str())
                .collect();
            if !undone.is_empty() {
                return Err(Error::VerificationFailed {
                    drift: undone.join("; "),
                });
            }
            planned.pending = rest.changes.iter().map(|c| c.describe()).collect();
        }
        Ok(Attempt::Planned(Some(Box::new(planned))))
    }

    /// The plan's steps outside the transaction, after the commit; then verification and
    /// history. A failure here leaves the revision recorded, and says so.
    fn later_phase(&self, client: &mut Client, planned: &Planned) -> Result<()> {
        let run = self.apply_run(planned);
        let steps = &planned.plan.steps;
        for (index, step) in steps.iter().enumerate().skip(planned.later) {
            self.progress(&format!(
                "step {}/{}: {}",
                index + 1,
                steps.len(),
                step.description
            ));
            run.run_alone(client, index + 1, step)
                .map_err(|e| self.recorded_but(&e, &steps[index..]))?;
        }
        let live = introspect::introspect(client)?;
        let expected = planned.after.clone().without_hints();
        let exact = self.run.sql.is_none() && self.run.code.is_none();
        let drift: Vec<String> = diff(&live, &expected, &self.diff_options)
            .iter()
            .map(|c| c.describe())
            .filter(|d| exact || planned.pending.contains(d))
            .collect();
        if !drift.is_empty() {
            return Err(Error::database(
                Dialect::Postgres,
                format!(
                    "{} {} is recorded, but after the steps outside its transaction the database still differs from what its operations lead to",
                    self.run.direction, self.run.revision
                ),
                drift.join("; "),
            ));
        }
        run.record(client)
    }

    /// The error for a later step that failed after the revision was committed.
    fn recorded_but(&self, error: &Error, remaining: &[Step]) -> Error {
        let statements: Vec<&str> = remaining
            .iter()
            .flat_map(|s| s.sql.iter().map(String::as_str))
            .collect();
        Error::database(
            Dialect::Postgres,
            format!(
                "{} {} is committed and recorded, but a step outside its transaction failed",
                self.run.direction, self.run.revision
            ),
            format!(
                "{error}; the remaining statements are idempotent, run them once the cause is fixed: {};",
                statements.join("; ")
            ),
        )
    }

    /// Counts a retry after a lock timeout and waits before it (growing backoff).
    fn pause(&self, attempt: &mut u32) {
        *attempt += 1;
        sleep(backoff(self.options.lock_timeout, *attempt));
    }

    /// Reports the start of a unit of work, when the caller asked for progress.
    fn progress(&self, label: &str) {
        if let Some(progress) = self.run.options.progress.as_deref() {
            progress.begin(label, None);
        }
    }

    /// `apply.rs`'s runner for this revision's plan.
    fn apply_run<'p>(&'p self, planned: &'p Planned) -> Run<'p> {
        Run {
            plan: &planned.plan,
            desired: &planned.after,
            options: self.run.options,
            diff_options: self.diff_options,
            pg: self.options,
        }
    }
}

impl VersionStore for PgDriver {
    fn applied(&mut self) -> Result<Vec<AppliedRevision>> {
        read(&mut self.client)
    }

    fn run_revision(&mut self, run: &RevisionRun<'_>) -> Result<RunOutcome> {
        let diff_options = self.diff_options();
        let PgDriver {
            client, options, ..
        } = self;
        let revision = Revision {
            run,
            options,
            diff_options,
        };
        locked(client, options, |client| revision.run(client))
    }

    fn stamp(&mut self, revisions: &[(String, String)]) -> Result<()> {
        locked(&mut self.client, &self.options, |client| {
            let mut transaction = client
                .transaction()
                .map_err(|e| pg_error("cannot begin the transaction", &e))?;
            transaction
                .batch_execute(&create_table_sql())
                .map_err(|e| pg_error("cannot create the version table", &e))?;
            transaction
                .batch_execute(&format!("DELETE FROM {}", table()))
                .map_err(|e| pg_error("cannot clear the version table", &e))?;
            for (revision, checksum) in revisions {
                insert(&mut transaction, revision, checksum)?;
            }
            transaction
                .commit()
                .map_err(|e| pg_error("cannot commit the transaction", &e))
        })
    }

    fn version_sql(&self, revision: &str, checksum: &str, direction: Direction) -> Vec<String> {
        match direction {
            Direction::Up => vec![
                create_table_sql(),
                format!(
                    "INSERT INTO {} (revision, checksum, applied_at, tool_version) VALUES ({}, {}, {NOW_SQL}, {})",
                    table(),
                    quote_literal(revision),
                    quote_literal(checksum),
                    quote_literal(env!("CARGO_PKG_VERSION"))
                ),
            ],
            Direction::Down => vec![format!(
                "DELETE FROM {} WHERE revision = {}",
                table(),
                quote_literal(revision)
            )],
        }
    }
}
