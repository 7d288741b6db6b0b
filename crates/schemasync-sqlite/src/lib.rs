//! SQLite driver for schemasync.
