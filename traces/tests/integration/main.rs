//! The trace and cluster readers' integration tests, in one test binary: the catalogue of broken
//! files, the shipped node lists, and the openb trace replayed.

mod common;

mod bad_input;
mod node_lists;
mod openb;
