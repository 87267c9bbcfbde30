//! The reports crate's integration tests, in one test binary.

mod report;
