//! The `schemasync` binary.
fn main() {}
