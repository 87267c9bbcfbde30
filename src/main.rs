//! `fairway`: replay a GPU job trace against a scheduling policy on a modelled cluster.

mod cli;
mod plan;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::main() {
        Ok(code) => code,
        Err(e) => {
            // One line: the error, and each cause its message does not already say.
            let mut line = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !line.contains(&c) {
                    line = format!("{line}: {c}");
                }
            }
            eprintln!("error: {}", line.replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
