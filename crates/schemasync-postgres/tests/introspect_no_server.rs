//! Without a reachable server, tests that need PostgreSQL fail loudly with instructions;
//! they never pass silently (SPEC §11).
//!
//! One test in its own binary: it points the environment at a closed port.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use schemasync_postgres::testing::{TestDatabase, TEST_URL_VARIABLE};

#[test]
fn an_unreachable_server_panics_with_instructions() {
    std::env::set_var(
        TEST_URL_VARIABLE,
        "postgres://postgres@127.0.0.1:1/postgres",
    );
    let panic = std::panic::catch_unwind(TestDatabase::create).unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains(TEST_URL_VARIABLE), "{message}");
    assert!(message.contains("never pass"), "{message}");
}
