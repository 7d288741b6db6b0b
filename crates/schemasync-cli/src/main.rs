//! The `schemasync` binary: everything happens in [`schemasync_cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    schemasync_cli::run(std::env::args_os())
}
