//! TOML files with one-line errors: `file:line:column: message`.

use crate::error::TraceError;
use serde::de::DeserializeOwned;

/// Parses `text` (read from `file`); an error names the line and column where it was found.
pub fn parse<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, TraceError> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end().replace('\n', " ");
        match e.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                TraceError::file(&format!("{file}:{line}:{col}"), message)
            }
            None => TraceError::file(file, message),
        }
    })
}

/// Reads and parses a TOML file.
pub fn read<T: DeserializeOwned>(path: &std::path::Path) -> Result<T, TraceError> {
    let file = path.display().to_string();
    let text = fairway_engine::input::read_text(path, fairway_engine::input::TEXT_CAP).map_err(|source| {
        TraceError::Io {
            file: file.clone(),
            source,
        }
    })?;
    parse(&text, &file)
}
