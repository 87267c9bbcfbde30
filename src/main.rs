//! `fairway`: replay a GPU job trace against a scheduling policy on a modelled cluster.
//!
//! The binary parses arguments, makes one library call per subcommand and prints; the work lives
//! in the crates (studies in `fairway_scenarios::study`).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::main() {
        Ok(code) => code,
        Err(e) => {
            let code = match e.downcast_ref::<fairway_scenarios::study::StudyError>() {
                Some(fairway_scenarios::study::StudyError::Interrupted { .. }) => 130,
                _ => 2,
            };
            // One line: the error, and each cause its message does not already say.
            let mut line = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !line.contains(&c) {
                    line = format!("{line}: {c}");
                }
            }
            // On one line, and inert: an error may quote a name from a trace or a manifest.
            let line = line.replace('\n', " ");
            let line = fairway_reports::escape::terminal(&line);
            if code == 130 {
                eprintln!("{line}");
            } else {
                eprintln!("error: {line}");
            }
            ExitCode::from(code)
        }
    }
}
