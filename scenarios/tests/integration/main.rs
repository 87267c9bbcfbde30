//! The scenario loader's integration tests, in one test binary: bad scenario files and
//! manifests, numbers past the engine's bounds, `[limits]`, and what-ifs on whole scenarios.

mod bad_input;
mod bounds;
mod limits;
mod whatif;
