//! An application's own `schemasync` binary with a Rust-code data migration.
//!
//! The revision below backfills `users.handle` in batches of 10,000 rows (the stairway
//! pattern's middle step: a revision file adds the column as nullable, this fills it,
//! a later revision file makes it NOT NULL). Its parent is given by the environment
//! variable `BACKFILL_PARENT` so the example fits any migrations folder:
//!
//! ```sh
//! BACKFILL_PARENT=<id of the revision adding users.handle> \
//!   cargo run -p schemasync-cli --example data_migration -- \
//!   --database-url sqlite://app.db upgrade head
//! ```

use schemasync_cli::Revision;
use schemasync_core::migrate::{update_in_batches, Executor, Migration};
use schemasync_core::Result;
use std::process::ExitCode;
use std::sync::Arc;

/// Fills `users.handle` from `users.name`, one key range at a time.
struct BackfillHandle;

impl Migration for BackfillHandle {
    fn up(&self, db: &mut dyn Executor) -> Result<()> {
        update_in_batches(
            db,
            "SELECT min(id) FROM users",
            "SELECT max(id) FROM users",
            10_000,
            "UPDATE users SET handle = lower(name) || id WHERE id >= {lo} AND id < {hi} AND handle IS NULL",
        )?;
        Ok(())
    }

    fn down(&self, db: &mut dyn Executor) -> Result<()> {
        db.execute("UPDATE users SET handle = NULL")?;
        Ok(())
    }
}

fn main() -> ExitCode {
    let parents = std::env::var("BACKFILL_PARENT").map_or_else(|_| Vec::new(), |p| vec![p]);
    let backfill = Revision::from_code(
        "c0de00000001",
        parents,
        "backfill users.handle",
        Arc::new(BackfillHandle),
    );
    schemasync_cli::run_with(std::env::args_os(), vec![backfill])
}
