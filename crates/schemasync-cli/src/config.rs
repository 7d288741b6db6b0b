//! `schemasync.toml` and the resolution of settings from flags, environment and file.
//!
//! Precedence, highest first: command-line flag, `SCHEMASYNC_DATABASE_URL`,
//! `DATABASE_URL`, the config file. Relative paths written in the config file are
//! relative to the folder that holds it; relative paths on the command line or in the
//! environment are relative to the current folder. This module reads files and the
//! environment it is handed; it never opens a database.

use crate::url::DatabaseUrl;
use schemasync_core::naming::NamingConvention;
use schemasync_core::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The config file read when `--config` is not given (absent is fine).
pub const DEFAULT_CONFIG_FILE: &str = "schemasync.toml";

/// Environment variable consulted first for the database URL.
pub const ENV_SCHEMASYNC_DATABASE_URL: &str = "SCHEMASYNC_DATABASE_URL";

/// Environment variable consulted second for the database URL.
pub const ENV_DATABASE_URL: &str = "DATABASE_URL";

/// Busy timeout when neither `--busy-timeout` nor the config file sets one (SPEC §5).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The contents of `schemasync.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Database URL, used when neither the flag nor the environment gives one.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Folder for backups; default: the database file's folder.
    #[serde(default)]
    pub backup_dir: Option<PathBuf>,
    /// Seconds a statement waits for another connection's lock.
    #[serde(default)]
    pub busy_timeout: Option<f64>,
    /// Names for constraints and indexes a schema file leaves unnamed.
    #[serde(default)]
    pub naming: NamingConvention,
    /// The folder holding the config file, against which its relative paths resolve.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl Config {
    /// Reads the config file: `explicit` must exist; without it, `./schemasync.toml` is
    /// read if present and an empty config is used otherwise.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => {
                let default = PathBuf::from(DEFAULT_CONFIG_FILE);
                if !default.exists() {
                    return Ok(Config::default());
                }
                default
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let mut config = Config::parse(&text, &path)?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(config)
    }

    /// Parses config text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| before.matches('\n').count() + 1);
            let place = line.map(|l| format!(", line {l}")).unwrap_or_default();
            Error::Usage(format!(
                "cannot read config file {}{place}: {}",
                path.display(),
                e.message()
            ))
        })
    }

    /// The backup folder from the config, resolved against the config file's folder.
    pub fn backup_dir(&self) -> Option<PathBuf> {
        self.backup_dir.as_ref().map(|dir| self.base_dir.join(dir))
    }
}

/// Where the database URL came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlSource {
    /// `--database-url`.
    Flag,
    /// An environment variable (its name).
    Env(&'static str),
    /// `database_url` in the config file.
    ConfigFile,
}

/// Picks the database URL by precedence: `flag`, then the environment as read by `env`,
/// then `config`. A sqlite file path from the config file resolves against its folder.
pub fn resolve_database_url(
    flag: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
    config: &Config,
) -> Result<(DatabaseUrl, UrlSource)> {
    if let Some(url) = flag {
        return Ok((url.parse()?, UrlSource::Flag));
    }
    for name in [ENV_SCHEMASYNC_DATABASE_URL, ENV_DATABASE_URL] {
        if let Some(url) = env(name).filter(|u| !u.trim().is_empty()) {
            let parsed = url
                .parse()
                .map_err(|e| Error::Usage(format!("{name}: {e}")))?;
            return Ok((parsed, UrlSource::Env(name)));
        }
    }
    if let Some(url) = &config.database_url {
        let parsed = match url.parse()? {
            DatabaseUrl::Sqlite { path } => DatabaseUrl::Sqlite {
                path: config.base_dir.join(path),
            },
            other => other,
        };
        return Ok((parsed, UrlSource::ConfigFile));
    }
    Err(Error::Usage(format!(
        "no database given; pass --database-url, set {ENV_SCHEMASYNC_DATABASE_URL} or {ENV_DATABASE_URL}, or put database_url in {DEFAULT_CONFIG_FILE}"
    )))
}

/// The busy timeout: `flag` (seconds), else the config file, else 5 s.
pub fn resolve_busy_timeout(flag: Option<f64>, config: &Config) -> Result<Duration> {
    match flag.or(config.busy_timeout) {
        Some(seconds) => Duration::try_from_secs_f64(seconds).map_err(|_| {
            Error::Usage(format!(
                "busy timeout must be a number of seconds of 0 or more, not {seconds}"
            ))
        }),
        None => Ok(DEFAULT_BUSY_TIMEOUT),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config_with_url(url: &str) -> Config {
        Config {
            database_url: Some(url.to_string()),
            base_dir: PathBuf::from("proj"),
            ..Config::default()
        }
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flag_beats_environment_and_config() {
        let env = env_of(&[
            (ENV_SCHEMASYNC_DATABASE_URL, "sqlite://env1.db"),
            (ENV_DATABASE_URL, "sqlite://env2.db"),
        ]);
        let (url, source) = resolve_database_url(
            Some("sqlite://flag.db"),
            env,
            &config_with_url("sqlite://c.db"),
        )
        .unwrap();
        assert_eq!(url.to_string(), "sqlite://flag.db");
        assert_eq!(source, UrlSource::Flag);
    }

    #[test]
    fn schemasync_variable_beats_database_url() {
        let env = env_of(&[
            (ENV_SCHEMASYNC_DATABASE_URL, "sqlite://env1.db"),
            (ENV_DATABASE_URL, "sqlite://env2.db"),
        ]);
        let (url, source) = resolve_database_url(None, env, &Config::default()).unwrap();
        assert_eq!(url.to_string(), "sqlite://env1.db");
        assert_eq!(source, UrlSource::Env(ENV_SCHEMASYNC_DATABASE_URL));
    }

    #[test]
    fn database_url_beats_config_file() {
        let env = env_of(&[(ENV_DATABASE_URL, "sqlite://env2.db")]);
        let (url, _) = resolve_database_url(None, env, &config_with_url("sqlite://c.db")).unwrap();
        assert_eq!(url.to_string(), "sqlite://env2.db");
    }

    #[test]
    fn config_file_path_is_relative_to_its_folder() {
        let (url, source) =
            resolve_database_url(None, env_of(&[]), &config_with_url("sqlite://c.db")).unwrap();
        assert_eq!(
            url,
            DatabaseUrl::Sqlite {
                path: PathBuf::from("proj/c.db")
            }
        );
        assert_eq!(source, UrlSource::ConfigFile);
    }

    #[test]
    fn no_url_anywhere_says_how_to_give_one() {
        let err = resolve_database_url(None, env_of(&[]), &Config::default()).unwrap_err();
        assert!(err.to_string().contains("--database-url"), "{err}");
    }

    #[test]
    fn config_file_fields_are_read() {
        let config = Config::parse(
            "database_url = \"sqlite://app.db\"\nbackup_dir = \"backups\"\nbusy_timeout = 2.5\n",
            Path::new("schemasync.toml"),
        )
        .unwrap();
        assert_eq!(config.database_url.as_deref(), Some("sqlite://app.db"));
        assert_eq!(config.backup_dir(), Some(PathBuf::from("backups")));
        assert_eq!(
            resolve_busy_timeout(None, &config).unwrap(),
            Duration::from_millis(2500)
        );
        assert_eq!(
            resolve_busy_timeout(Some(1.0), &config).unwrap(),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn unknown_config_key_is_an_error() {
        let err = Config::parse("databse_url = \"x\"\n", Path::new("schemasync.toml")).unwrap_err();
        assert!(err.to_string().contains("schemasync.toml"), "{err}");
    }

    #[test]
    fn negative_busy_timeout_is_an_error() {
        assert!(resolve_busy_timeout(Some(-1.0), &Config::default()).is_err());
    }
}
