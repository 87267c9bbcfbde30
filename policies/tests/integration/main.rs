//! The policies' integration tests, in one test binary: the policies on the engine (textbook
//! cases and invariants), and Kueue's admission model end to end.

mod kueue;
mod policies;
