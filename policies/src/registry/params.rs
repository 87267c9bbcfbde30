//! Parameters, each declared once: the declaration checks the value given, describes the
//! parameter in `fairway list`, and decides where it appears in the label.

use super::RegistryError;
use crate::spec::{Param, Spec};

/// What values a parameter takes.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// One of a few words.
    Choice(&'static [&'static str]),
    /// A number >= 0.
    NonNegative,
    /// Text of the form `form` describes. `canon` checks it and returns it as labels show it,
    /// or `None` when it is not of that form.
    Text {
        form: &'static str,
        canon: fn(&str) -> Option<String>,
    },
}

/// What a parameter is when the spec does not give it.
#[derive(Clone, Copy, Debug)]
pub enum Absent {
    /// This value (written as it would be given).
    Default(&'static str),
    /// The spec must give it.
    Required,
    /// No value; the text says what that means.
    Unset(&'static str),
}

/// When a parameter appears in the label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InLabel {
    /// Always, with its default when not given (so the label says everything the run used).
    Always,
    /// Only when the spec gave it.
    WhenGiven,
}

/// One parameter of a policy or placement.
#[derive(Clone, Copy, Debug)]
pub struct ParamDecl {
    pub key: &'static str,
    pub kind: Kind,
    pub absent: Absent,
    pub in_label: InLabel,
    pub help: &'static str,
}

fn any_text(s: &str) -> Option<String> {
    Some(s.to_string())
}

impl ParamDecl {
    /// A parameter that takes one of `options`, `default` when not given.
    pub const fn choice(
        key: &'static str,
        options: &'static [&'static str],
        default: &'static str,
        help: &'static str,
    ) -> ParamDecl {
        ParamDecl {
            key,
            kind: Kind::Choice(options),
            absent: Absent::Default(default),
            in_label: InLabel::Always,
            help,
        }
    }

    /// A number >= 0, `default` (written as a number) when not given.
    pub const fn number(key: &'static str, default: &'static str, help: &'static str) -> ParamDecl {
        ParamDecl {
            key,
            kind: Kind::NonNegative,
            absent: Absent::Default(default),
            in_label: InLabel::Always,
            help,
        }
    }

    /// Free text, unset when not given.
    pub const fn text(key: &'static str, form: &'static str, help: &'static str) -> ParamDecl {
        ParamDecl {
            key,
            kind: Kind::Text {
                form,
                canon: any_text,
            },
            absent: Absent::Unset("none"),
            in_label: InLabel::Always,
            help,
        }
    }

    /// Text that `canon` checks (and writes as labels show it).
    pub const fn checked(mut self, canon: fn(&str) -> Option<String>) -> ParamDecl {
        if let Kind::Text { form, .. } = self.kind {
            self.kind = Kind::Text { form, canon };
        }
        self
    }

    pub const fn required(mut self) -> ParamDecl {
        self.absent = Absent::Required;
        self
    }

    pub const fn default(mut self, value: &'static str) -> ParamDecl {
        self.absent = Absent::Default(value);
        self
    }

    /// Unset when not given; `meaning` says what that means.
    pub const fn unset_means(mut self, meaning: &'static str) -> ParamDecl {
        self.absent = Absent::Unset(meaning);
        self
    }

    pub const fn label_when_given(mut self) -> ParamDecl {
        self.in_label = InLabel::WhenGiven;
        self
    }

    /// `key = values (default): help`, as `fairway list` prints it.
    pub fn describe(&self) -> String {
        let values = match self.kind {
            Kind::Choice(options) => options.join(" | "),
            Kind::NonNegative => "a number >= 0".to_string(),
            Kind::Text { form, .. } => form.to_string(),
        };
        let absent = match self.absent {
            Absent::Default(d) => d,
            Absent::Required => "required",
            Absent::Unset(meaning) => meaning,
        };
        if self.help.is_empty() {
            format!("{} = {values} ({absent})", self.key)
        } else {
            format!("{} = {values} ({absent}): {}", self.key, self.help)
        }
    }

    /// Checks a value against the declaration: the value as it will be read and labelled.
    fn accept(&self, got: &Param) -> Option<Param> {
        match (self.kind, got) {
            (Kind::Choice(options), Param::Str(s)) => {
                options.contains(&s.as_str()).then(|| Param::Str(s.clone()))
            }
            (Kind::NonNegative, Param::Int(i)) if *i >= 0 => Some(got.clone()),
            (Kind::NonNegative, Param::Float(f)) if *f >= 0.0 && f.is_finite() => Some(got.clone()),
            // A bare number where text is expected ("0.19") is still text.
            (Kind::Text { canon, .. }, Param::Str(_) | Param::Int(_) | Param::Float(_)) => {
                canon(&got.to_string()).map(Param::Str)
            }
            _ => None,
        }
    }

    /// What the value must be, for errors.
    fn expected(&self) -> String {
        match self.kind {
            Kind::Choice(options) => format!("one of {}", options.join(", ")),
            Kind::NonNegative => "a number >= 0".to_string(),
            Kind::Text { form, .. } => form.to_string(),
        }
    }
}

/// A spec's parameters, checked against the declarations: what a policy or placement reads when
/// it is built.
#[derive(Clone, Debug)]
pub struct Args {
    name: &'static str,
    what: &'static str,
    /// In declaration order: the declaration, the value (given or default), whether given.
    values: Vec<(ParamDecl, Option<Param>, bool)>,
}

impl Args {
    /// Checks `spec` against `decls`: every given parameter declared and of its kind, every
    /// required one given. `what` is `policy` or `placement`; `name` the entry's own name.
    pub(crate) fn check(
        what: &'static str,
        name: &'static str,
        decls: &[ParamDecl],
        spec: &Spec,
    ) -> Result<Args, RegistryError> {
        if let Some(param) = spec.params.keys().find(|k| !decls.iter().any(|d| d.key == *k)) {
            return Err(RegistryError::UnknownParam {
                what,
                name: spec.name.clone(),
                param: param.clone(),
                known: decls.iter().map(|d| d.key).collect(),
            });
        }
        let mut values = Vec::with_capacity(decls.len());
        for d in decls {
            let bad = |expected: String, got: String| RegistryError::BadParam {
                what,
                name: spec.name.clone(),
                param: d.key.to_string(),
                expected,
                got,
            };
            let (value, given) = match (spec.params.get(d.key), d.absent) {
                (Some(p), _) => (
                    Some(d.accept(p).ok_or_else(|| bad(d.expected(), p.to_string()))?),
                    true,
                ),
                (None, Absent::Default(text)) => {
                    let p = Param::parse(text);
                    (Some(d.accept(&p).unwrap_or(p)), false)
                }
                (None, Absent::Required) => return Err(bad(d.expected(), "nothing".into())),
                (None, Absent::Unset(_)) => (None, false),
            };
            values.push((*d, value, given));
        }
        Ok(Args { name, what, values })
    }

    fn get(&self, key: &str) -> Result<Option<&Param>, RegistryError> {
        self.values
            .iter()
            .find(|(d, _, _)| d.key == key)
            .map(|(_, v, _)| v.as_ref())
            .ok_or_else(|| RegistryError::Undeclared {
                what: self.what,
                name: self.name.to_string(),
                param: key.to_string(),
            })
    }

    /// The word a choice parameter took.
    pub fn choice(&self, key: &str) -> Result<&str, RegistryError> {
        match self.get(key)? {
            Some(Param::Str(s)) => Ok(s),
            _ => Err(self.undeclared_as(key, "a choice")),
        }
    }

    /// A number parameter's value.
    pub fn number(&self, key: &str) -> Result<f64, RegistryError> {
        match self.get(key)? {
            Some(Param::Int(i)) => Ok(*i as f64),
            Some(Param::Float(f)) => Ok(*f),
            _ => Err(self.undeclared_as(key, "a number")),
        }
    }

    /// A text parameter's value (as its declaration's check wrote it), if set.
    pub fn text(&self, key: &str) -> Result<Option<&str>, RegistryError> {
        match self.get(key)? {
            None => Ok(None),
            Some(Param::Str(s)) => Ok(Some(s)),
            Some(_) => Err(self.undeclared_as(key, "text")),
        }
    }

    fn undeclared_as(&self, key: &str, kind: &'static str) -> RegistryError {
        RegistryError::Undeclared {
            what: self.what,
            name: format!("{} (read as {kind})", self.name),
            param: key.to_string(),
        }
    }

    /// `name[key=value,...]`: the parameters the declarations put in the label, by key.
    pub fn label(&self) -> String {
        let mut shown: Vec<(&str, &Param)> = self
            .values
            .iter()
            .filter(|(d, _, given)| *given || d.in_label == InLabel::Always)
            .filter_map(|(d, v, _)| v.as_ref().map(|v| (d.key, v)))
            .collect();
        shown.sort_by_key(|(k, _)| *k);
        if shown.is_empty() {
            return self.name.to_string();
        }
        let body: Vec<String> = shown.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}[{}]", self.name, body.join(","))
    }
}
