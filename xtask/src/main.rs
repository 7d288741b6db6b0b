//! Project chores in plain Rust, run as `cargo xtask <task>` (alias in `.cargo/config.toml`).
//!
//! `ci` runs what CI runs, in order, stopping at the first failure with a message that
//! says which step failed and how to fix it: formatting, clippy with warnings denied,
//! the conformance suite, then every test (cargo-nextest when installed, plus doc tests;
//! plain `cargo test` otherwise). The test runner's own summary is the last thing it
//! prints.
//!
//! `conformance` runs the conformance suite (the `schemasync-conformance` binary) with
//! the arguments given.
//!
//! This crate depends on nothing but std and never changes the work tree.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci                     cargo fmt --check, cargo clippy -D warnings, the conformance
                         suite, then every test
  conformance [ARGS...]  the conformance suite on SQLite and PostgreSQL: case x dialect
                         table, non-zero exit on any failure. ARGS: --dialect
                         sqlite|postgres|all, --case GLOB, --cases DIR, --external DIR,
                         --no-external, --write-docs (see docs/conformance.md)
  bench [BENCHMARK...]   release-mode benchmarks, each against a baseline measured in
                         the same run; BENCHMARK is one of: sqlite-rebuild, pg-stall,
                         introspect, copy (default: all; the last three need a PostgreSQL
                         server: $SCHEMASYNC_TEST_POSTGRES_URL, else 127.0.0.1:5432)";

/// Benchmarks by name, with the cargo bench target that runs each.
const BENCHMARKS: &[(&str, &str, &str)] = &[
    ("sqlite-rebuild", "schemasync-sqlite", "sqlite_rebuild"),
    ("pg-stall", "schemasync-postgres", "pg_stall"),
    ("introspect", "schemasync-postgres", "introspect"),
    ("copy", "schemasync-copy", "copy"),
];

/// Release binaries a benchmark runs as processes, by benchmark name and package; each is
/// built before its benchmark runs.
const BENCHMARK_BINARIES: &[(&str, &str)] = &[("introspect", "schemasync-cli")];

/// One command of a task, with what to tell the user when it fails.
struct Step {
    args: Vec<String>,
    hint: &'static str,
}

impl Step {
    fn new(args: &[&str], hint: &'static str) -> Step {
        Step {
            args: args.iter().map(|a| a.to_string()).collect(),
            hint,
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["ci"] => ci(),
        ["conformance", rest @ ..] => conformance(rest),
        ["bench", names @ ..] => bench(names),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: the folder above this crate's manifest.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The cargo that runs us (`$CARGO`), else `cargo` from `PATH`.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

fn nextest_installed(root: &Path) -> bool {
    Command::new(cargo())
        .args(["nextest", "--version"])
        .current_dir(root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn ci() -> ExitCode {
    let root = workspace_root();
    let mut steps = vec![
        Step::new(
            &["fmt", "--all", "--", "--check"],
            "run `cargo fmt --all` and commit the result",
        ),
        Step::new(
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            "fix the warnings clippy printed above",
        ),
    ];
    // Before the tests, so that the test runner's summary stays the last thing printed.
    steps.push(Step::new(
        &["run", "--quiet", "-p", "schemasync-conformance", "--"],
        "fix the conformance cases that failed above (docs/conformance.md)",
    ));
    if nextest_installed(&root) {
        // Doc tests first: nextest cannot run them, and its summary must come last.
        steps.push(Step::new(
            &["test", "--workspace", "--doc"],
            "fix the doc tests that failed above",
        ));
        steps.push(Step::new(
            &["nextest", "run", "--workspace", "--no-fail-fast"],
            "fix the tests that failed above",
        ));
    } else {
        eprintln!("xtask ci: cargo-nextest is not installed; running `cargo test`");
        steps.push(Step::new(
            &["test", "--workspace", "--no-fail-fast"],
            "fix the tests that failed above",
        ));
    }
    run_steps("ci", &root, &steps)
}

/// `cargo xtask conformance ARGS`: the conformance binary with `ARGS`.
fn conformance(args: &[&str]) -> ExitCode {
    let mut command = vec!["run", "--quiet", "-p", "schemasync-conformance", "--"];
    command.extend_from_slice(args);
    run_steps(
        "conformance",
        &workspace_root(),
        &[Step::new(&command, "the conformance cases above failed")],
    )
}

/// `cargo xtask bench`: each named benchmark (all when none is named) in release mode.
fn bench(names: &[&str]) -> ExitCode {
    let selected: Vec<&(&str, &str, &str)> = if names.is_empty() {
        BENCHMARKS.iter().collect()
    } else {
        let mut selected = Vec::new();
        for name in names {
            match BENCHMARKS.iter().find(|(known, _, _)| known == name) {
                Some(benchmark) => selected.push(benchmark),
                None => {
                    eprintln!("xtask bench: unknown benchmark `{name}`\n{USAGE}");
                    return ExitCode::from(2);
                }
            }
        }
        selected
    };
    let mut steps = Vec::new();
    for (name, package, target) in selected {
        for (_, binary_package) in BENCHMARK_BINARIES.iter().filter(|(b, _)| b == name) {
            steps.push(Step::new(
                &["build", "--release", "-p", *binary_package],
                "the binary the benchmark runs does not build; fix the errors above",
            ));
        }
        steps.push(Step::new(
            &["bench", "-p", *package, "--bench", *target],
            "the benchmark above missed its target or failed",
        ));
    }
    run_steps("bench", &workspace_root(), &steps)
}

/// Runs each step in `root`, stopping at the first failure with its hint.
fn run_steps(task: &str, root: &Path, steps: &[Step]) -> ExitCode {
    for step in steps {
        let shown = format!("cargo {}", step.args.join(" "));
        eprintln!("xtask {task}: {shown}");
        let status = Command::new(cargo())
            .args(&step.args)
            .current_dir(root)
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("xtask {task}: `{shown}` failed ({status}); {}", step.hint);
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("xtask {task}: cannot run `{shown}`: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
