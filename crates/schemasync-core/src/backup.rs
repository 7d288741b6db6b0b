//! Backup file names (SPEC §5), shared by every driver.

use std::path::{Path, PathBuf};

/// A fresh path in `dir` for a backup of the database named `stem`:
/// `<stem>.<UTC timestamp>.<from version>.<extension>`, where the version is the label or
/// schema hash of the last apply (or `initial`) with anything but letters, digits, `-`
/// and `_` replaced by `_`. A numbered suffix keeps two backups in one second apart.
///
/// ```
/// let dir = std::env::temp_dir();
/// let path = schemasync_core::backup_path(&dir, "app.db", "v1.2", "bak");
/// let name = path.file_name().unwrap().to_string_lossy().into_owned();
/// assert!(name.starts_with("app.db.") && name.ends_with(".v1_2.bak"), "{name}");
/// ```
pub fn backup_path(dir: &Path, stem: &str, from_version: &str, extension: &str) -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    let version: String = from_version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut candidate = dir.join(format!("{stem}.{stamp}.{version}.{extension}"));
    let mut n = 1;
    while candidate.exists() {
        candidate = dir.join(format!("{stem}.{stamp}-{n}.{version}.{extension}"));
        n += 1;
    }
    candidate
}
