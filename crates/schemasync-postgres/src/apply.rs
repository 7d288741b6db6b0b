//! Runs a PostgreSQL plan: session advisory lock, guards and data checks, then the three
//! phases of the plan (see [`crate::planner`]), every statement under `lock_timeout` and
//! retried with backoff when it times out waiting for a lock; verification; history.
//!
//! The transaction phase commits or rolls back as a whole; when the plan has no later
//! phase, verification runs inside it, so a mismatch rolls everything back. Steps outside
//! the transaction are idempotent, so re-running an interrupted apply finishes it.

use crate::driver::{pg_error, PgDriver};
use crate::{history, introspect};
use postgres::error::SqlState;
use postgres::{Client, GenericClient};
use schemasync_core::{
    diff, ApplyOptions, ApplyReport, DataCheck, Dialect, DiffOptions, Driver, Error, Plan, Result,
    Schema, Step,
};
use std::thread::sleep;
use std::time::Duration;

/// Key of the session advisory lock that keeps two schemasync runs apart ("SCHSYNC").
const ADVISORY_LOCK_KEY: i64 = 0x0053_4348_5359_4e43;

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
    let lock_timeout = driver.options.lock_timeout;
    let retries = driver.options.lock_retries;
    let client = &mut driver.client;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&ADVISORY_LOCK_KEY])
        .map_err(|e| pg_error("cannot take the schemasync advisory lock", &e))?;
    let outcome = Run {
        plan,
        desired,
        options,
        diff_options,
        lock_timeout,
        retries,
    }
    .run(client);
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&ADVISORY_LOCK_KEY])
        .map_err(|e| pg_error("cannot release the schemasync advisory lock", &e));
    let report = outcome?;
    unlocked?;
    Ok(report)
}

struct Run<'a> {
    plan: &'a Plan,
    desired: &'a Schema,
    options: &'a ApplyOptions,
    diff_options: DiffOptions,
    lock_timeout: Duration,
    retries: u32,
}

impl Run<'_> {
    fn run(&self, client: &mut Client) -> Result<ApplyReport> {
        client
            .batch_execute(&format!(
                "SET lock_timeout = '{}ms'",
                self.lock_timeout.as_millis()
            ))
            .map_err(|e| pg_error("cannot set lock_timeout", &e))?;
        for check in self.plan.checks() {
            run_check(client, check)?;
        }
        let mut report = ApplyReport::default();
        if self.options.dry_run {
            return Ok(report);
        }
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
                    if is_lock_timeout(&error) && attempt < self.retries {
                        attempt += 1;
                        sleep(backoff(self.lock_timeout, attempt));
                        continue;
                    }
                    return Err(step_error(number, step, &error, attempt, self.lock_timeout));
                }
            }
        }
    }

    /// A step outside the transaction: each statement commits on its own, and one that
    /// times out waiting for a lock is retried.
    fn run_alone(&self, client: &mut Client, number: usize, step: &Step) -> Result<()> {
        for statement in &step.sql {
            let mut attempt = 0;
            loop {
                match client.batch_execute(statement) {
                    Ok(()) => break,
                    Err(e) if is_lock_timeout(&e) && attempt < self.retries => {
                        attempt += 1;
                        sleep(backoff(self.lock_timeout, attempt));
                    }
                    Err(e) => return Err(step_error(number, step, &e, attempt, self.lock_timeout)),
                }
            }
        }
        Ok(())
    }

    fn verify(&self, client: &mut impl GenericClient) -> Result<()> {
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

    fn record(&self, client: &mut impl GenericClient) -> Result<()> {
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

fn is_lock_timeout(error: &postgres::Error) -> bool {
    error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
}

/// Waits longer after each lock timeout: the timeout times 2, 4, 8 … (at most 32).
fn backoff(lock_timeout: Duration, attempt: u32) -> Duration {
    lock_timeout * 2u32.pow(attempt.min(5))
}

fn step_error(
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

/// Runs a data check; any offending row refuses the plan before anything changes.
fn run_check(client: &mut Client, check: &DataCheck) -> Result<()> {
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
