//! The [`Migrator`]: checks the applied revisions against the registry, computes the
//! path to a target and runs it through a [`VersionStore`] driver, one transaction per
//! revision; or prints it (offline `--sql`) without touching the database.

use super::registry::{Registry, Target};
use super::revision::Revision;
use super::{apply_changes, Direction, RevisionRun, RunOutcome, VersionStore};
use crate::diff::diff;
use crate::driver::ApplyOptions;
use crate::error::{Error, Result};
use crate::model::Schema;
use std::collections::BTreeSet;

/// One revision a migrator ran (or found done by another run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    /// The revision id.
    pub revision: String,
    /// Which way it ran.
    pub direction: Direction,
    /// Its message.
    pub message: String,
    /// Whether it ran here or had been done by a concurrent run.
    pub outcome: RunOutcome,
}

/// What [`Migrator::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// Revisions whose down restored the schema, in the order they ran.
    pub checked: Vec<String>,
    /// The first revision whose down did not restore the schema, with what differs.
    pub failure: Option<(String, String)>,
}

/// Runs revisions of a [`Registry`] on one database.
pub struct Migrator<'a, D: VersionStore + ?Sized> {
    driver: &'a mut D,
    registry: &'a Registry,
    /// Accept applied revisions whose body changed since they were applied.
    pub allow_changed: bool,
    /// Options for each revision's plan (backup folder, progress). Data loss is always
    /// allowed: a revision that drops something says so in its own file.
    pub options: ApplyOptions,
}

impl<'a, D: VersionStore + ?Sized> Migrator<'a, D> {
    /// A migrator for `registry` on the database behind `driver`.
    pub fn new(driver: &'a mut D, registry: &'a Registry) -> Self {
        Migrator {
            driver,
            registry,
            allow_changed: false,
            options: ApplyOptions::default(),
        }
    }

    /// The applied revisions, checked: each must be in the registry, with an unchanged
    /// checksum unless [`Migrator::allow_changed`] is set.
    pub fn applied(&mut self) -> Result<BTreeSet<String>> {
        let rows = self.driver.applied()?;
        let mut applied = BTreeSet::new();
        for row in rows {
            let Some(revision) = self.registry.get(&row.revision) else {
                return Err(Error::Revision(format!(
                    "the database has revision {} applied, which is not among the known revisions",
                    row.revision
                )));
            };
            let now = revision.checksum();
            if now != row.checksum && !self.allow_changed {
                return Err(Error::RevisionChanged {
                    revision: row.revision.clone(),
                    applied: short(&row.checksum),
                    now: short(&now),
                    file: revision.origin(),
                });
            }
            applied.insert(row.revision);
        }
        Ok(applied)
    }

    /// Where the database is: the applied revisions no other applied one descends from.
    /// Reads the version table without checking checksums.
    pub fn current(&mut self) -> Result<Vec<String>> {
        let applied = self
            .driver
            .applied()?
            .into_iter()
            .map(|r| r.revision)
            .collect();
        Ok(self.registry.current(&applied))
    }

    /// The revisions `upgrade target` would run, in order.
    pub fn upgrade_path(&mut self, target: &Target) -> Result<Vec<String>> {
        let applied = self.applied()?;
        self.registry.upgrade_path(&applied, target)
    }

    /// The revisions `downgrade target` would undo, in order.
    pub fn downgrade_path(&mut self, target: &Target) -> Result<Vec<String>> {
        let applied = self.applied()?;
        self.registry.downgrade_path(&applied, target)
    }

    /// Upgrades to `target`, one transaction per revision; stops at the first failure,
    /// leaving the database at the last revision that succeeded.
    pub fn upgrade(&mut self, target: &Target) -> Result<Vec<Ran>> {
        self.upgrade_reporting(target, &mut |_| {})
    }

    /// Like [`Migrator::upgrade`], calling `report` after each revision's commit.
    pub fn upgrade_reporting(
        &mut self,
        target: &Target,
        report: &mut dyn FnMut(&Ran),
    ) -> Result<Vec<Ran>> {
        let path = self.upgrade_path(target)?;
        self.run(&path, Direction::Up, report)
    }

    /// Downgrades to `target`, one transaction per revision.
    pub fn downgrade(&mut self, target: &Target) -> Result<Vec<Ran>> {
        self.downgrade_reporting(target, &mut |_| {})
    }

    /// Like [`Migrator::downgrade`], calling `report` after each revision's commit.
    pub fn downgrade_reporting(
        &mut self,
        target: &Target,
        report: &mut dyn FnMut(&Ran),
    ) -> Result<Vec<Ran>> {
        let path = self.downgrade_path(target)?;
        self.run(&path, Direction::Down, report)
    }

    /// The SQL `upgrade target` would run, without running it (nothing is written).
    pub fn upgrade_sql(&mut self, target: &Target) -> Result<String> {
        let path = self.upgrade_path(target)?;
        self.offline_sql(&path, Direction::Up)
    }

    /// The SQL `downgrade target` would run, without running it.
    pub fn downgrade_sql(&mut self, target: &Target) -> Result<String> {
        let path = self.downgrade_path(target)?;
        self.offline_sql(&path, Direction::Down)
    }

    /// Records exactly the revisions `target` names (and their ancestors) as applied,
    /// running nothing; returns the new current revisions.
    pub fn stamp(&mut self, target: &Target) -> Result<Vec<String>> {
        let set = self.registry.stamp_set(target)?;
        let rows: Vec<(String, String)> = self
            .registry
            .revisions()
            .iter()
            .filter(|r| set.contains(&r.id))
            .map(|r| (r.id.clone(), r.checksum()))
            .collect();
        self.driver.stamp(&rows)?;
        Ok(self.registry.current(&set))
    }

    /// On an empty scratch database: runs every revision up, down and up again, and
    /// checks that after each down the schema equals the one before its up.
    pub fn verify(&mut self) -> Result<Verification> {
        if !self.driver.applied()?.is_empty() || !self.driver.introspect()?.is_empty() {
            return Err(Error::Usage(
                "verify needs an empty scratch database".to_string(),
            ));
        }
        let options = self.driver.diff_options();
        let path = self
            .registry
            .upgrade_path(&BTreeSet::new(), &Target::Heads)?;
        let mut verification = Verification::default();
        for id in &path {
            let before = self.driver.introspect()?;
            self.run(std::slice::from_ref(id), Direction::Up, &mut |_| {})?;
            self.run(std::slice::from_ref(id), Direction::Down, &mut |_| {})?;
            let after = self.driver.introspect()?;
            let drift = diff(&after, &before, &options);
            if !drift.is_empty() {
                verification.failure = Some((
                    id.clone(),
                    drift
                        .iter()
                        .map(|c| c.describe())
                        .collect::<Vec<_>>()
                        .join("; "),
                ));
                return Ok(verification);
            }
            self.run(std::slice::from_ref(id), Direction::Up, &mut |_| {})?;
            verification.checked.push(id.clone());
        }
        Ok(verification)
    }

    fn revision(&self, id: &str) -> Result<&'a Revision> {
        let registry: &'a Registry = self.registry;
        registry
            .get(id)
            .ok_or_else(|| Error::Revision(format!("no revision matches `{id}`")))
    }

    fn run(
        &mut self,
        path: &[String],
        direction: Direction,
        report: &mut dyn FnMut(&Ran),
    ) -> Result<Vec<Ran>> {
        let dialect = self.driver.dialect();
        // Every body must be runnable on this dialect before the first one runs.
        for id in path {
            let revision = self.revision(id)?;
            revision
                .body(direction)
                .check_dialect(dialect, id, &direction.to_string())?;
        }
        let mut ran = Vec::new();
        for id in path {
            let revision = self.revision(id)?;
            let body = revision.body(direction);
            let checksum = revision.checksum();
            let mut options = self.options.clone();
            options.allow_data_loss = true;
            options.dry_run = false;
            options.label = Some(format!("{direction} {id}"));
            let outcome = self.driver.run_revision(&RevisionRun {
                revision: id,
                checksum: &checksum,
                direction,
                operations: &body.operations,
                sql: body.sql_for(dialect),
                code: revision.code.as_ref().map(|c| c.0.as_ref()),
                options: &options,
            })?;
            let done = Ran {
                revision: id.clone(),
                direction,
                message: revision.message.clone(),
                outcome,
            };
            report(&done);
            ran.push(done);
        }
        Ok(ran)
    }

    /// Plans each revision against the schema the previous ones would leave (raw SQL is
    /// run on the driver's scratch database to learn its effect) and prints it all.
    fn offline_sql(&mut self, path: &[String], direction: Direction) -> Result<String> {
        let dialect = self.driver.dialect();
        let mut schema: Schema = self.driver.introspect()?;
        let mut out = String::new();
        for id in path {
            let revision = self.revision(id)?;
            let body = revision.body(direction);
            body.check_dialect(dialect, id, &direction.to_string())?;
            out.push_str(&format!(
                "-- {direction} {id}: {}\n",
                revision.message.lines().next().unwrap_or_default()
            ));
            if !body.operations.is_empty() {
                let after = apply_changes(&schema, &body.operations)?;
                let plan = self.driver.plan(&schema, &after)?;
                out.push_str(&plan.to_sql());
                schema = after.without_hints();
            }
            if let Some(sql) = body.sql_for(dialect) {
                out.push_str(sql.trim_end());
                out.push('\n');
                let mut script = self.driver.render_sql(&schema).join(";\n");
                script.push_str(";\n");
                script.push_str(sql);
                schema = self.driver.normalize_sql(&script)?;
            }
            for statement in self.driver.version_sql(id, &revision.checksum(), direction) {
                out.push_str(statement.trim_end());
                if !statement.trim_end().ends_with(';') {
                    out.push(';');
                }
                out.push('\n');
            }
            out.push('\n');
        }
        Ok(out)
    }
}

fn short(checksum: &str) -> String {
    checksum.chars().take(12).collect()
}
