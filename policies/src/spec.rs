//! `name[key=value,...]`: how a policy or placement is named, with its parameters.
//!
//! The same text is accepted on the command line and in scenario files, and printed in reports,
//! so a label can be pasted back to reproduce a run.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Param {
    /// Reads a value as written after `=`: a boolean, an integer, a number, or else text.
    pub fn parse(text: &str) -> Param {
        let t = text.trim();
        match t {
            "true" => Param::Bool(true),
            "false" => Param::Bool(false),
            _ => {
                if let Ok(i) = t.parse::<i64>() {
                    Param::Int(i)
                } else if let Ok(f) = t
                    .parse::<f64>()
                    .map_err(|_| ())
                    .and_then(|f| if f.is_finite() { Ok(f) } else { Err(()) })
                {
                    Param::Float(f)
                } else {
                    Param::Str(t.to_string())
                }
            }
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Param::Bool(_) => "a boolean",
            Param::Int(_) => "an integer",
            Param::Float(_) => "a number",
            Param::Str(_) => "text",
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Bool(b) => write!(f, "{b}"),
            Param::Int(i) => write!(f, "{i}"),
            Param::Float(x) => write!(f, "{x}"),
            Param::Str(s) => f.write_str(s),
        }
    }
}

/// A name plus parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spec {
    pub name: String,
    pub params: BTreeMap<String, Param>,
}

impl Spec {
    pub fn named(name: &str) -> Spec {
        Spec {
            name: name.to_string(),
            params: BTreeMap::new(),
        }
    }
    pub fn with(mut self, key: &str, value: Param) -> Spec {
        self.params.insert(key.to_string(), value);
        self
    }
}

/// The text is not `name` or `name[key=value,...]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot read '{text}': {why} (expected name or name[key=value,...])")]
pub struct SpecSyntaxError {
    pub text: String,
    pub why: &'static str,
}

impl FromStr for Spec {
    type Err = SpecSyntaxError;

    fn from_str(text: &str) -> Result<Spec, SpecSyntaxError> {
        let err = |why| SpecSyntaxError {
            text: text.to_string(),
            why,
        };
        let t = text.trim();
        let (name, rest) = match t.find('[') {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err("the name must be letters, digits, '-' or '_'"));
        }
        let mut spec = Spec::named(name);
        if let Some(rest) = rest {
            let Some(body) = rest.strip_suffix(']') else {
                return Err(err("missing closing ']'"));
            };
            for item in body.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let Some((k, v)) = item.split_once('=') else {
                    return Err(err("each parameter is key=value"));
                };
                let k = k.trim();
                if k.is_empty() {
                    return Err(err("empty parameter name"));
                }
                if spec.params.insert(k.to_string(), Param::parse(v)).is_some() {
                    return Err(err("a parameter is given twice"));
                }
            }
        }
        Ok(spec)
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.params.is_empty() {
            f.write_str("[")?;
            for (i, (k, v)) in self.params.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{k}={v}")?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_back() {
        let s: Spec = "fifo[mode=best-effort, limit=3,ratio=0.5,on=true]"
            .parse()
            .unwrap();
        assert_eq!(s.name, "fifo");
        assert_eq!(s.params["mode"], Param::Str("best-effort".into()));
        assert_eq!(s.params["limit"], Param::Int(3));
        assert_eq!(s.params["ratio"], Param::Float(0.5));
        assert_eq!(s.params["on"], Param::Bool(true));
        assert_eq!(s.to_string(), "fifo[limit=3,mode=best-effort,on=true,ratio=0.5]");
        assert_eq!(s.to_string().parse::<Spec>().unwrap(), s);
        assert_eq!("priority".parse::<Spec>().unwrap().to_string(), "priority");
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "fi fo",
            "fifo[mode=strict",
            "fifo[mode]",
            "fifo[=x]",
            "fifo[a=1,a=2]",
        ] {
            assert!(bad.parse::<Spec>().is_err(), "{bad}");
        }
        assert_eq!(Param::parse("inf"), Param::Str("inf".into()));
    }
}
