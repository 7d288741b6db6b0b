//! The schemasync command line as a library.
//!
//! The `schemasync` binary is one call to [`run`]; an application can build its own
//! binary the same way (SPEC §2). This crate parses flags, resolves settings
//! (flag, then `SCHEMASYNC_DATABASE_URL`, then `DATABASE_URL`, then `schemasync.toml`),
//! calls the library crates and formats their results. It makes no schema decision of
//! its own.
//!
//! Exit codes: 0 success, 1 when `check` finds drift or a guard refuses (data loss,
//! rows that violate a new constraint), 2 for usage and runtime errors.
//!
//! ```no_run
//! use std::process::ExitCode;
//! fn main() -> ExitCode {
//!     schemasync_cli::run(std::env::args_os())
//! }
//! ```

pub mod cli;
mod commands;
pub mod config;
pub mod copy;
mod database;
mod migrations;
mod progress;
mod render;
pub mod url;

pub use cli::Cli;
pub use config::Config;
pub use schemasync_core::migrate::Revision;
pub use url::DatabaseUrl;

use clap::Parser;
use schemasync_core::Error;
use std::ffi::OsString;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

/// The name given to standard output in I/O errors.
const STDOUT: &str = "standard output";

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done (exit code 0).
    Success,
    /// `check` found the database differs from the schema (exit code 1).
    Difference,
    /// A command refused to do what was asked, saying why (exit code 1).
    Refused,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        match exit {
            Exit::Success => ExitCode::SUCCESS,
            Exit::Difference | Exit::Refused => ExitCode::from(1),
        }
    }
}

/// The exit code for an error: 1 when a guard refused, 2 otherwise.
pub fn exit_code_for(error: &Error) -> ExitCode {
    if error.is_refusal() {
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

/// Parses `args` (program name first, as [`std::env::args_os`] gives them), runs the
/// command and returns its exit code. Results go to stdout; errors go to stderr as one
/// line, `error: <message>`.
///
/// Unless `RUST_BACKTRACE` is set, this installs a panic hook that reports a panic as
/// one `error:` line (exit code 2) instead of a backtrace hint.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_with(args, Vec::new())
}

/// Like [`run`], with revisions registered in code (Rust-code migrations, built with
/// [`Revision::from_code`]) joining those of the migrations folder: an application builds
/// its own `schemasync` binary with its data migrations this way.
///
/// ```no_run
/// use schemasync_cli::Revision;
/// use schemasync_core::migrate::{Executor, Migration};
/// use std::sync::Arc;
/// struct Backfill;
/// impl Migration for Backfill {
///     fn up(&self, db: &mut dyn Executor) -> schemasync_core::Result<()> {
///         db.execute("UPDATE users SET handle = lower(name) WHERE handle IS NULL")?;
///         Ok(())
///     }
///     fn down(&self, _db: &mut dyn Executor) -> schemasync_core::Result<()> {
///         Ok(())
///     }
/// }
/// fn main() -> std::process::ExitCode {
///     let backfill = Revision::from_code("c0de00000001", vec!["ba21b397a77a".into()],
///         "backfill handle", Arc::new(Backfill));
///     schemasync_cli::run_with(std::env::args_os(), vec![backfill])
/// }
/// ```
pub fn run_with<I, T>(args: I, revisions: Vec<Revision>) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // Help and --version print to stdout and exit 0; usage errors exit 2.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    if std::env::var_os("RUST_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!(
                "error: internal error{place}: {}; please report it",
                one_line(&message)
            );
        }));
    }
    let mut stdout = std::io::stdout().lock();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        commands::execute(cli, &revisions, &mut stdout)
    }));
    match outcome {
        Ok(Ok(exit)) => exit.into(),
        Ok(Err(Error::Io { path, source }))
            if path.as_os_str() == STDOUT && source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            // The reader went away (`schemasync inspect | head`): nothing left to say.
            ExitCode::SUCCESS
        }
        Ok(Err(err)) => {
            eprintln!("error: {}", one_line(&err.to_string()));
            exit_code_for(&err)
        }
        Err(_) => ExitCode::from(2),
    }
}

/// Folds a message that spans lines (parser diagnostics, engine messages) into one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_messages_become_one_line() {
        assert_eq!(
            one_line("TOML parse error at line 1\n  |\n\n  invalid string\n"),
            "TOML parse error at line 1 | invalid string"
        );
    }
}
