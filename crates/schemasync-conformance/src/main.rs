//! `schemasync-conformance`: runs the conformance suite and prints the case × dialect
//! table (what `cargo xtask conformance` runs). Exit code 0 when nothing failed, 1 when
//! a case failed, 2 when the suite could not run.

use clap::{Parser, ValueEnum};
use schemasync_conformance::report::{render_markdown, render_text, splice_docs};
use schemasync_conformance::skips::{Skips, SKIPS_FILE};
use schemasync_conformance::{real_engine, run, ConformanceError, Options, DIALECTS};
use schemasync_core::Dialect;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Which dialects to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DialectChoice {
    Sqlite,
    Postgres,
    All,
}

/// Runs the conformance cases on real SQLite and PostgreSQL databases.
#[derive(Debug, Parser)]
#[command(name = "schemasync-conformance")]
struct Args {
    /// Dialects to run.
    #[arg(long, value_enum, default_value = "all")]
    dialect: DialectChoice,
    /// Only cases whose name matches this pattern (`*` and `?`), e.g. `sqldef/postgres/*Index*`.
    #[arg(long = "case", value_name = "GLOB")]
    case: Option<String>,
    /// Folder of our case files.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// Folder of external cases (default: ../shared/conformance beside the repository).
    #[arg(long, value_name = "DIR")]
    external: Option<PathBuf>,
    /// Do not run external cases.
    #[arg(long, conflicts_with = "external")]
    no_external: bool,
    /// Rewrite the generated part of docs/conformance.md from this run (needs a full run).
    #[arg(long)]
    write_docs: bool,
}

/// The repository root: two folders above this crate's manifest.
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run_cli(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("conformance: {error}");
            ExitCode::from(2)
        }
    }
}

/// Runs the suite; `Ok(true)` when nothing failed.
fn run_cli(args: &Args) -> Result<bool, ConformanceError> {
    let root = repository_root();
    let dialects: Vec<Dialect> = match args.dialect {
        DialectChoice::Sqlite => vec![Dialect::Sqlite],
        DialectChoice::Postgres => vec![Dialect::Postgres],
        DialectChoice::All => DIALECTS.to_vec(),
    };
    let full = dialects == DIALECTS && args.case.is_none() && !args.no_external;
    if args.write_docs && !full {
        return Err(ConformanceError::format(
            "docs/conformance.md",
            "--write-docs needs a full run: all dialects, every case, external cases included",
        ));
    }
    let cases_dir = args
        .cases
        .clone()
        .unwrap_or_else(|| root.join("tests").join("conformance"));
    let external_dir = if args.no_external {
        None
    } else {
        Some(args.external.clone().unwrap_or_else(|| {
            root.parent()
                .unwrap_or(&root)
                .join("shared")
                .join("conformance")
        }))
    };
    let options = Options {
        dialects,
        case_pattern: args.case.clone(),
        cases_dir: cases_dir.clone(),
        external_dir,
    };
    let report = run(&options, &real_engine, None)?;
    print!("{}", render_text(&report));
    if args.write_docs {
        let skips = Skips::load(&cases_dir.join(SKIPS_FILE))?;
        let path = root.join("docs").join("conformance.md");
        let document =
            std::fs::read_to_string(&path).map_err(|e| ConformanceError::io(&path, e))?;
        let updated =
            splice_docs(&document, &render_markdown(&report, &skips)).ok_or_else(|| {
                ConformanceError::format(&path, "the generated-part markers are missing")
            })?;
        std::fs::write(&path, updated).map_err(|e| ConformanceError::io(&path, e))?;
        eprintln!("conformance: wrote {}", path.display());
    }
    Ok(!report.failed())
}
