//! Runs a PostgreSQL plan: session advisory lock, guards and data checks, then the three
//! phases of the plan (see [`crate::planner`]), every statement under `lock_timeout` and
//! retried with backoff when it times out waiting for a lock; verification; history.
//!
//! The transaction phase commits or rolls back as a whole; when the plan has no later
//! phase, verification runs inside it, so a mismatch rolls everything back. Steps outside
//! the transaction are idempotent, so re-running an interrupted apply finishes it.

use crate::driver::{pg_error, PgDriver, PgOptions};
use crate::{backup, ddl, history, introspect};
use postgres::error::SqlState;
use postgres::{Client, GenericClient};
use schemasync_core::{
    diff, ApplyOptions, ApplyReport, Change, DataCheck, Dialect, DiffOptions, Driver, Error,
    HazardKind, Plan, Result, Schema, Step,
};
use std::thread::sleep;
use std::time::Duration;

/// Key of the session advisory lock that keeps two schemasync runs apart ("SCHSYNC").
const ADVISORY_LOCK_KEY: i64 = 0x0053_4348_5359_4e43;

/// The longest pause between two tries for the advisory lock.
const LOCK_POLL_MAX: Duration = Duration::from_millis(500);

/// Takes the session advisory lock, waiting as long as another run holds it.
///
/// It polls `pg_try_advisory_lock` instead of blocking in `pg_advisory_lock`: a session
/// blocked in a statement holds a snapshot, and `CREATE INDEX CONCURRENTLY` in the
/// session that holds the lock waits for every older snapshot, so the two would wait
/// for each other (until `lock_timeout` or the deadlock detector ends one).
pub(crate) fn take_advisory_lock(client: &mut Client) -> Result<()> {
    let mut pause = Duration::from_millis(10);
    loop {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&ADVISORY_LOCK_KEY])
            .map_err(|e| pg_error("cannot take the schemasync advisory lock", &e))?
            .get(0);
        if taken {
            return Ok(());
        }
        sleep(pause);
        pause = (pause * 2).min(LOCK_POLL_MAX);
    }
}

/// Sets the session's `lock_timeout` and `statement_timeout` from `options`. On
/// PostgreSQL 14 and later the server also checks every second that we are still
/// connected, so a killed run's statement (an index build, a table rewrite) stops
/// instead of running on alone while a re-run waits for its locks.
pub(crate) fn set_session(client: &mut Client, options: &PgOptions) -> Result<()> {
    client
        .batch_execute(&options.session_settings())
        .map_err(|e| pg_error("cannot set lock_timeout and statement_timeout", &e))?;
    let version: i32 = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|e| pg_error("cannot read the server version", &e))?;
    if version >= 140_000 {
        client
            .batch_execute("SET client_connection_check_interval = '1s'")
            .map_err(|e| pg_error("cannot set client_connection_check_interval", &e))?;
    }
    Ok(())
}

/// Releases the session advisory lock [`take_advisory_lock`] took.
pub(crate) fn release_advisory_lock(client: &mut Client) -> Result<()> {
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&ADVISORY_LOCK_KEY])
        .map_err(|e| pg_error("cannot release the schemasync advisory lock", &e))?;
    Ok(())
}

/// Applies `plan`; see the module documentation.
pub(crate) fn apply(
    driver: &mut PgDriver,
    plan: &Plan,
    desired: &Schema,
    options: &ApplyOptions,
) -> Result<ApplyReport> {
    if plan.is_empty() {
        return Ok(ApplyReport::default());
    }
    plan.refuse_data_loss(options.allow_data_loss)?;
    let diff_options = driver.diff_options();
    let PgDriver {
        client,
        options: pg,
        url,
        ..
    } = driver;
    take_advisory_lock(client)?;
    let run = Run {
        plan,
        desired,
        options,
        diff_options,
        pg,
    };
    let outcome = run.check(client).and_then(|()| {
        if options.dry_run {
            return Ok(ApplyReport::default());
        }
        let backup = match &options.backup_dir {
            Some(dir) if loses_data(plan) => Some(backup::backup_into(client, url, dir)?),
            _ => None,
        };
        let mut report = run.run(client)?;
        report.backup = backup;
        Ok(report)
    });
    let unlocked = release_advisory_lock(client);
    let report = outcome?;
    unlocked?;
    Ok(report)
}

/// One plan being run: what `apply` runs, and what a migration revision reuses for the
/// steps outside its transaction, verification and history.
pub(crate) struct Run<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) desired: &'a Schema,
    pub(crate) options: &'a ApplyOptions,
    pub(crate) diff_options: DiffOptions,
    /// Timeouts and retries.
    pub(crate) pg: &'a PgOptions,
}

/// The schemas, collations, types, domains and functions `plan` creates or replaces, as
/// SQL: what its data checks may need to exist already.
fn check_prerequisites(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter_map(|change| match change {
            Change::CreateNamespace { namespace } => Some(ddl::create_namespace(namespace)),
            Change::CreateEnum { enum_type } => Some(ddl::create_enum(enum_type)),
            Change::CreateDomain { domain } => Some(ddl::create_domain(domain)),
            Change::CreateCollation { collation } => Some(ddl::create_collation(collation)),
            Change::CreateCompositeType { composite_type } => {
                Some(ddl::create_composite_type(composite_type))
            }
            Change::CreateRangeType { range_type } => Some(ddl::create_range_type(range_type)),
            Change::CreateFunction { function } => Some(function.definition.clone()),
            Change::ReplaceFunction { to, .. } => Some(to.definition.clone()),
            _ => None,
        })
        .collect()
}

/// Whether a step of `plan` destroys data (what a backup is taken for: every other
/// change is transactional or keeps the rows).
fn loses_data(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .flat_map(|s| &s.hazards)
        .any(|h| h.kind == HazardKind::DataLoss)
}

impl Run<'_> {
    /// Sets the session up and runs the plan's data checks. A check may call a function
    /// (or use a type) the plan creates: then the checks run in a transaction that
    /// creates those first and is rolled back.
    fn check(&self, client: &mut Client) -> Result<()> {
        set_session(client, self.pg)?;
        let prerequisites = check_prerequisites(self.plan);
        if prerequisites.is_empty() || self.plan.checks().next().is_none() {
            for check in self.plan.checks() {
                run_check(client, check)?;
            }
            return Ok(());
        }
        let mut transaction = client
            .transaction()
            .map_err(|e| pg_error("cannot begin the data checks' transaction", &e))?;
        for sql in &prerequisites {
            // One that fails here fails the apply later, with its own message.
            let mut savepoint = transaction
                .savepoint("prerequisite")
                .map_err(|e| pg_error("cannot prepare the data checks", &e))?;
            if savepoint.batch_execute(sql).is_ok() {
                savepoint
                    .commit()
                    .map_err(|e| pg_error("cannot prepare the data checks", &e))?;
            }
        }
        for check in self.plan.checks() {
            run_check(&mut transaction, check)?;
        }
        transaction
            .rollback()
            .map_err(|e| pg_error("cannot end the data checks' transaction", &e))
    }

    /// Runs the steps, phase by phase, then verifies and records.
    fn run(&self, client: &mut Client) -> Result<ApplyReport> {
        let mut report = ApplyReport::default();
        let steps = &self.plan.steps;
        let before = steps.iter().take_while(|s| !s.transactional).count();
        let in_transaction = steps[before..]
            .iter()
            .take_while(|s| s.transactional)
            .count();
        let (leading, rest) = steps.split_at(before);
        let (transactional, after) = rest.split_at(in_transaction);
        if after.iter().any(|s| s.transactional) {
            return Err(Error::Unsupported(
                "a plan whose transactional steps are not contiguous".to_string(),
            ));
        }
        let progress = self.options.progress.as_deref();
        let total = steps.len();
        let mut number = 0;
        for step in leading {
            number += 1;
            if let Some(progress) = progress {
                progress.begin(
                    &format!("step {number}/{total}: {}", step.description),
                    None,
                );
            }
            self.run_alone(client, number, step)?;
            report.steps_run += 1;
        }
        if !transactional.is_empty() {
            let first = number + 1;
            if let Some(progress) = progress {
                progress.begin(
                    &format!(
                        "steps {first}-{}/{total} in one transaction",
                        number + transactional.len()
                    ),
                    None,
                );
            }
            self.run_transaction(client, first, transactional, after.is_empty())?;
            number += transactional.len();
            report.steps_run += transactional.len();
        }
        for step in after {
            number += 1;
            if let Some(progress) = progress {
                progress.begin(
                    &format!("step {number}/{total}: {}", step.description),
                    None,
                );
            }
            self.run_alone(client, number, step)?;
            report.steps_run += 1;
        }
        if let Some(progress) = progress {
            progress.finish();
        }
        if !after.is_empty() || transactional.is_empty() {
            // Later phases committed step by step: verify and record at the end.
            self.verify(client)?;
            self.record(client)?;
        }
        Ok(report)
    }

    /// The transactional phase: all steps in one transaction, retried as a whole when a
    /// statement times out waiting for a lock.
    fn run_transaction(
        &self,
        client: &mut Client,
        first: usize,
        steps: &[Step],
        verify_inside: bool,
    ) -> Result<()> {
        let mut attempt = 0;
        loop {
            let mut transaction = client
                .transaction()
                .map_err(|e| pg_error("cannot begin the transaction", &e))?;
            let mut failure = None;
            'steps: for (offset, step) in steps.iter().enumerate() {
                for statement in &step.sql {
                    if let Err(e) = transaction.batch_execute(statement) {
                        failure = Some((first + offset, step, e));
                        break 'steps;
                    }
                }
            }
            match failure {
                None => {
                    if verify_inside {
                        self.verify(&mut transaction)?;
                        self.record(&mut transaction)?;
                    }
                    return transaction
                        .commit()
                        .map_err(|e| pg_error("cannot commit the transaction", &e));
                }
                Some((number, step, error)) => {
                    drop(transaction);
                    if is_lock_timeout(&error) && attempt < self.pg.lock_retries {
                        attempt += 1;
                        sleep(backoff(self.pg.lock_timeout, attempt));
                        continue;
                    }
                    return Err(step_error(
                        number,
                        step,
                        &error,
                        attempt,
                        self.pg.lock_timeout,
                    ));
                }
            }
        }
    }

    /// A step outside the transaction: each statement commits on its own; when one
    /// times out waiting for a lock, the step is retried from its first statement (the
    /// step is idempotent as a whole, a statement alone may not be: a timed-out
    /// `CREATE INDEX CONCURRENTLY` leaves an invalid index the step's `DROP` removes).
    pub(crate) fn run_alone(&self, client: &mut Client, number: usize, step: &Step) -> Result<()> {
        let mut attempt = 0;
        'step: loop {
            for statement in &step.sql {
                match client.batch_execute(statement) {
                    Ok(()) => {}
                    Err(e) if is_lock_timeout(&e) && attempt < self.pg.lock_retries => {
                        attempt += 1;
                        sleep(backoff(self.pg.lock_timeout, attempt));
                        continue 'step;
                    }
                    Err(e) => {
                        return Err(step_error(number, step, &e, attempt, self.pg.lock_timeout))
                    }
                }
            }
            return Ok(());
        }
    }

    /// Introspects and compares with `desired`; any difference is `VerificationFailed`.
    pub(crate) fn verify(&self, client: &mut impl GenericClient) -> Result<()> {
        let live = introspect::introspect(client)?;
        let drift = diff(
            &live,
            &self.desired.clone().without_hints(),
            &self.diff_options,
        );
        if drift.is_empty() {
            Ok(())
        } else {
            Err(Error::VerificationFailed {
                drift: drift
                    .iter()
                    .map(|c| c.describe())
                    .collect::<Vec<_>>()
                    .join("; "),
            })
        }
    }

    /// Appends the plan's changes to the history table.
    pub(crate) fn record(&self, client: &mut impl GenericClient) -> Result<()> {
        history::record(
            client,
            &self.desired.fingerprint(),
            self.options.label.as_deref(),
            &self
                .plan
                .changes
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

/// Whether a statement gave up waiting for a lock (`lock_timeout`).
pub(crate) fn is_lock_timeout(error: &postgres::Error) -> bool {
    error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
}

/// Waits longer after each lock timeout: the timeout times 2, 4, 8 … (at most 32).
pub(crate) fn backoff(lock_timeout: Duration, attempt: u32) -> Duration {
    lock_timeout * 2u32.pow(attempt.min(5))
}

/// The error for a failed step, saying whether it gave up waiting for a lock.
pub(crate) fn step_error(
    number: usize,
    step: &Step,
    error: &postgres::Error,
    attempts: u32,
    lock_timeout: Duration,
) -> Error {
    if is_lock_timeout(error) {
        Error::Database {
            dialect: Dialect::Postgres,
            context: format!("step {number} ({}) gave up", step.description),
            message: format!(
                "another session held a conflicting lock ({}) through {} attempts of {} ms each; retry when it is idle, or raise --lock-timeout",
                step.lock.as_deref().unwrap_or("on the table"),
                attempts + 1,
                lock_timeout.as_millis()
            ),
        }
    } else {
        pg_error(
            format!("step {number} ({}) failed", step.description),
            error,
        )
    }
}

/// The session-local function a type change's data check calls: the keys (with the
/// value) of the rows whose column fails the cast to a type. One cast over the whole
/// column first; only when that fails, row by row.
pub(crate) const CAST_FAILURES: &str = "pg_temp.schemasync_cast_failures";

/// Creates [`CAST_FAILURES`] for this session.
const CREATE_CAST_FAILURES: &str = r#"CREATE OR REPLACE FUNCTION pg_temp.schemasync_cast_failures(
    relation regclass, column_name text, target_type text, row_key text)
RETURNS SETOF text LANGUAGE plpgsql AS $probe$
DECLARE
    found record;
BEGIN
    BEGIN
        EXECUTE format('SELECT count(%I::%s) FROM %s', column_name, target_type, relation);
        RETURN;
    EXCEPTION WHEN others THEN
        NULL;
    END;
    FOR found IN EXECUTE format('SELECT %s AS row_key, %I AS value FROM %s WHERE %I IS NOT NULL',
                                row_key, column_name, relation, column_name) LOOP
        BEGIN
            EXECUTE format('SELECT $1::%s', target_type) USING found.value;
        EXCEPTION WHEN others THEN
            RETURN NEXT found.row_key || ' (' || left(found.value::text, 40) || ')';
        END;
    END LOOP;
END
$probe$"#;

/// The session-local function a partition's data check calls: the keys of the rows of
/// a relation that fall inside (or outside) a bound of a partitioned table. It builds a
/// temporary partitioned table with the parent's columns and key and a partition with
/// the bound, and asks PostgreSQL for that partition's constraint, so the bound is never
/// parsed by us.
pub(crate) const PARTITION_MISFITS: &str = "pg_temp.schemasync_partition_misfits";

/// Creates [`PARTITION_MISFITS`] for this session.
const CREATE_PARTITION_MISFITS: &str = r#"CREATE OR REPLACE FUNCTION pg_temp.schemasync_partition_misfits(
    parent regclass, bound text, relation regclass, row_key text, inside boolean)
RETURNS SETOF text LANGUAGE plpgsql AS $probe$
DECLARE
    fits text;
BEGIN
    DROP TABLE IF EXISTS pg_temp.schemasync_bound_probe;
    EXECUTE format('CREATE TEMP TABLE schemasync_bound_probe (LIKE %s) PARTITION BY %s',
                   parent, pg_get_partkeydef(parent));
    EXECUTE format('CREATE TEMP TABLE schemasync_bound_probe_part PARTITION OF pg_temp.schemasync_bound_probe %s',
                   bound);
    fits := pg_get_partition_constraintdef('pg_temp.schemasync_bound_probe_part'::regclass);
    DROP TABLE pg_temp.schemasync_bound_probe;
    RETURN QUERY EXECUTE format('SELECT %s FROM %s WHERE (%s) IS %s TRUE',
                                row_key, relation, fits, CASE WHEN inside THEN '' ELSE 'NOT' END);
END
$probe$"#;

/// The session-local functions data checks call, each created when a check names it.
const PROBES: [(&str, &str); 2] = [
    (CAST_FAILURES, CREATE_CAST_FAILURES),
    (PARTITION_MISFITS, CREATE_PARTITION_MISFITS),
];

/// Runs a data check; any offending row refuses the plan before anything changes.
pub(crate) fn run_check(client: &mut impl GenericClient, check: &DataCheck) -> Result<()> {
    for (name, create) in PROBES {
        if check.violations_sql.contains(name) {
            client
                .batch_execute(create)
                .map_err(|e| pg_error(format!("cannot create the session's probe {name}"), &e))?;
        }
    }
    let rows = client.query(&check.violations_sql, &[]).map_err(|e| {
        pg_error(
            format!(
                "cannot check whether existing rows allow: {}",
                check.description
            ),
            &e,
        )
    })?;
    if rows.is_empty() {
        return Ok(());
    }
    let sample: Vec<String> = rows
        .iter()
        .take(DataCheck::SAMPLE)
        .map(|row| {
            row.try_get::<_, Option<String>>(0)
                .ok()
                .flatten()
                .unwrap_or_else(|| "NULL".to_string())
        })
        .collect();
    Err(check.refusal(rows.len() as u64, &sample))
}
