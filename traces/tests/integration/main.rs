//! The trace and cluster readers' integration tests, in one test binary: the catalogue of broken
//! files, generated traces read back, the shipped node lists, and the openb trace replayed.

mod common;

mod bad_input;
mod gen_roundtrip;
mod import_kube;
mod import_prometheus;
mod import_research;
mod node_lists;
mod openb;
