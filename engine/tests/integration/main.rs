//! The engine's integration tests, one module per subject, in one test binary.

mod engine;
