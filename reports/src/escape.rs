//! One escaping function per medium for the names that come from traces and manifests (teams,
//! users, queues, pools, jobs, policies, scenarios): any of them may hold control characters, an
//! ANSI escape sequence, a line break or markup. Every writer of a medium goes through its
//! function here. CSV and Parquet keep names exactly: they are data, and CSV quotes them.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters no reader should see acted on: C0 and C1 controls and DEL (line breaks, ANSI
/// escape sequences), the bidirectional overrides that reorder the text around them, and the
/// two noncharacters XML forbids.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// Pushes `c` as Rust writes it in a string literal, e.g. `\u{1b}`.
fn push_visible(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// `s` with each character for which `special` gives a replacement replaced; borrowed when none.
fn map_chars<'a>(s: &'a str, special: impl Fn(char, &mut String) -> bool) -> Cow<'a, str> {
    let mut scratch = String::new();
    let Some(first) = s.char_indices().find(|&(_, c)| special(c, &mut scratch)) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first.0]);
    for c in s[first.0..].chars() {
        if !special(c, &mut out) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of text for a terminal, or a label drawn on a chart: every hidden character (see
/// [`is_hidden`]), a line break or ESC included, is shown as `\u{..}`, so the text can neither
/// run an escape sequence nor break a line.
pub fn terminal(s: &str) -> Cow<'_, str> {
    map_chars(s, |c, out| {
        is_hidden(c) && {
            push_visible(out, c);
            true
        }
    })
}

/// Text for a Markdown table cell, read as written: hidden characters as `\u{..}` (a line
/// break would end the row), and a backslash before `|` (which would end the cell) and before
/// what starts markup within a cell (code spans, links and images, HTML, entities, emphasis by
/// `*` or `~`; `_` inside a word, as in most names, starts none, so it is left as it is).
pub fn markdown(s: &str) -> Cow<'_, str> {
    map_chars(s, |c, out| match c {
        '\\' | '|' | '`' | '*' | '~' | '[' | ']' | '<' | '>' | '&' => {
            out.push('\\');
            out.push(c);
            true
        }
        c if is_hidden(c) => {
            push_visible(out, c);
            true
        }
        _ => false,
    })
}

/// A Markdown code span showing `s` in a table cell: hidden characters as `\u{..}`, `|` escaped
/// (tables split cells before code spans are read), and fences longer than any run of
/// backticks in `s`, so that none ends the span.
pub fn markdown_code(s: &str) -> String {
    let body = map_chars(s, |c, out| match c {
        '|' => {
            out.push_str("\\|");
            true
        }
        c if is_hidden(c) => {
            push_visible(out, c);
            true
        }
        _ => false,
    });
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A space inside each fence, which the span drops, lets the text start or end with a
    // backtick, and keeps spaces at both ends.
    let pad = body.starts_with('`') || body.ends_with('`') || (body.starts_with(' ') && body.ends_with(' '));
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Text for XML and HTML, element content or attribute value (SVG, JUnit, the report pages):
/// `<&>"'` as entities, and the characters XML 1.0 does not allow (controls other than tab,
/// line feed and carriage return; U+FFFE and U+FFFF), and DEL and the C1 controls HTML
/// refuses, shown as `\u{..}`.
pub fn xml(s: &str) -> Cow<'_, str> {
    map_chars(s, |c, out| {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => return false,
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => push_visible(out, c),
            _ => return false,
        }
        true
    })
}

/// An OpenMetrics label value (between its double quotes): backslash, double quote and line
/// feed escaped, as the format asks; everything else is allowed as it is.
pub fn label_value(s: &str) -> Cow<'_, str> {
    map_chars(s, |c, out| {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => return false,
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "a\0b\x1b[31mred\n| ok |";

    #[test]
    fn a_terminal_sees_no_control_character() {
        assert_eq!(terminal("team-a"), "team-a");
        assert!(matches!(terminal("team-a"), Cow::Borrowed(_)));
        assert_eq!(terminal(HOSTILE), "a\\u{0}b\\u{1b}[31mred\\u{a}| ok |");
        assert_eq!(
            terminal("\u{202e}gpj.exe\u{7f}\u{85}"),
            "\\u{202e}gpj.exe\\u{7f}\\u{85}"
        );
        assert_eq!(terminal("équipe ü 東京"), "équipe ü 東京");
    }

    #[test]
    fn markdown_cells_and_code_spans_hold_one_cell() {
        assert_eq!(markdown("team-a"), "team-a");
        assert_eq!(markdown(HOSTILE), "a\\u{0}b\\u{1b}\\[31mred\\u{a}\\| ok \\|");
        assert_eq!(
            markdown("<img src=x> `c` *b* [l](u) a\\"),
            "\\<img src=x\\> \\`c\\` \\*b\\* \\[l\\](u) a\\\\"
        );
        assert_eq!(markdown_code("p95_wait:+5% [team a]"), "`p95_wait:+5% [team a]`");
        assert_eq!(markdown_code(HOSTILE), "`a\\u{0}b\\u{1b}[31mred\\u{a}\\| ok \\|`");
        assert_eq!(markdown_code("a`b``c"), "```a`b``c```");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        assert_eq!(markdown_code(" x "), "`  x  `");
    }

    #[test]
    fn xml_text_is_well_formed() {
        assert_eq!(xml("a"), "a");
        assert_eq!(
            xml("<s a=\"x\" b='y'>&</s>"),
            "&lt;s a=&quot;x&quot; b=&#39;y&#39;&gt;&amp;&lt;/s&gt;"
        );
        assert_eq!(xml(HOSTILE), "a\\u{0}b\\u{1b}[31mred\n| ok |");
        assert_eq!(xml("\t\r\u{7f}\u{9b}\u{fffe}"), "\t\r\\u{7f}\\u{9b}\\u{fffe}");
    }

    #[test]
    fn label_values_escape_what_openmetrics_asks() {
        assert_eq!(label_value("x\"y\\z\n"), "x\\\"y\\\\z\\n");
        assert_eq!(label_value("team-a"), "team-a");
    }
}
