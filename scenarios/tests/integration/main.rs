//! The scenario loader's integration tests, in one test binary: bad scenario files and
//! manifests, `[limits]`, and what-ifs on whole scenarios.

mod bad_input;
mod limits;
mod whatif;
