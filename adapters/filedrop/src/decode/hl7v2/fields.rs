//! Reading values out of a parsed message: [`Field`] → [`Rep`] → [`Comp`]. Escape sequences are
//! decoded only here, at the value boundary, after splitting. Absent fields, repetitions and
//! components read as empty; nothing indexes blindly.

use super::error::Hl7Error;
use super::escape;
use super::parse::{Message, Segment};

/// A field of one segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    pub(super) msg: &'a Message,
    pub(super) seg: &'a Segment,
    pub(super) n: usize,
    pub(super) raw: &'a str,
}

impl<'a> Field<'a> {
    /// `PID-7 (line 3)`.
    pub(crate) fn label(&self) -> String {
        format!("{}-{} (line {})", self.seg.name, self.n, self.seg.line)
    }

    /// Empty, blank, or the HL7 null `""`.
    pub(crate) fn is_empty(&self) -> bool {
        is_null(self.raw)
    }

    /// The repetitions (one when the message declares no repetition character).
    pub(crate) fn reps(&self) -> impl Iterator<Item = Rep<'a>> + 'a {
        let f = *self;
        let split: Box<dyn Iterator<Item = &'a str> + 'a> = match self.msg.delims.repetition {
            Some(r) if !(f.seg.name == "MSH" && f.n <= 2) => Box::new(f.raw.split(r)),
            _ => Box::new(std::iter::once(f.raw)),
        };
        split.map(move |raw| Rep { f, raw })
    }

    /// The first repetition.
    pub(crate) fn first(&self) -> Rep<'a> {
        self.reps().next().unwrap_or(Rep { f: *self, raw: "" })
    }

    /// Every repetition as decoded text, non-empty ones joined by a line break.
    ///
    /// # Errors
    /// [`Hl7Error::Escape`] for an escape sequence that cannot be decoded.
    pub(crate) fn text(&self) -> Result<Option<String>, Hl7Error> {
        let mut parts = Vec::new();
        for rep in self.reps() {
            if let Some(t) = rep.text()? {
                parts.push(t);
            }
        }
        Ok(Some(parts.join("\n")).filter(|t| !t.is_empty()))
    }

    /// `Missing` error for this field.
    pub(crate) fn missing(&self, what: &'static str) -> Hl7Error {
        Hl7Error::Missing {
            field: self.label(),
            what,
        }
    }

    /// `Invalid` error for this field.
    pub(crate) fn invalid(&self, what: &'static str, problem: impl Into<String>) -> Hl7Error {
        Hl7Error::Invalid {
            field: self.label(),
            what,
            problem: problem.into(),
        }
    }
}

/// One repetition of a field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rep<'a> {
    f: Field<'a>,
    raw: &'a str,
}

impl<'a> Rep<'a> {
    /// Component `n` (1-based).
    pub(crate) fn comp(&self, n: usize) -> Comp<'a> {
        let raw = match n {
            0 => "",
            _ => self
                .raw
                .split(self.f.msg.delims.component)
                .nth(n - 1)
                .unwrap_or(""),
        };
        Comp { f: self.f, n, raw }
    }

    /// The whole repetition as decoded text (delimiters inside kept as they are), trimmed.
    ///
    /// # Errors
    /// [`Hl7Error::Escape`] for an escape sequence that cannot be decoded.
    pub(crate) fn text(&self) -> Result<Option<String>, Hl7Error> {
        decode(self.raw, &self.f, None)
    }
}

/// One component of a repetition.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comp<'a> {
    f: Field<'a>,
    n: usize,
    raw: &'a str,
}

impl Comp<'_> {
    /// `PID-3.4 (line 3)`.
    pub(crate) fn label(&self) -> String {
        format!(
            "{}-{}.{} (line {})",
            self.f.seg.name, self.f.n, self.n, self.f.seg.line
        )
    }

    /// The decoded, trimmed value of the first subcomponent; `None` when empty or `""`.
    ///
    /// # Errors
    /// [`Hl7Error::Escape`] for an escape sequence that cannot be decoded.
    pub(crate) fn value(&self) -> Result<Option<String>, Hl7Error> {
        self.sub(1)
    }

    /// The decoded, trimmed value of subcomponent `k` (1-based).
    ///
    /// # Errors
    /// [`Hl7Error::Escape`] for an escape sequence that cannot be decoded.
    pub(crate) fn sub(&self, k: usize) -> Result<Option<String>, Hl7Error> {
        let raw = match (self.f.msg.delims.subcomponent, k) {
            (_, 0) => "",
            (Some(s), k) => self.raw.split(s).nth(k - 1).unwrap_or(""),
            (None, 1) => self.raw,
            (None, _) => "",
        };
        decode(raw, &self.f, Some(self))
    }

    /// `Missing` error for this component.
    pub(crate) fn missing(&self, what: &'static str) -> Hl7Error {
        Hl7Error::Missing {
            field: self.label(),
            what,
        }
    }

    /// `Invalid` error for this component.
    pub(crate) fn invalid(&self, what: &'static str, problem: impl Into<String>) -> Hl7Error {
        Hl7Error::Invalid {
            field: self.label(),
            what,
            problem: problem.into(),
        }
    }
}

fn is_null(raw: &str) -> bool {
    let t = raw.trim();
    t.is_empty() || t == "\"\""
}

fn decode(raw: &str, f: &Field<'_>, comp: Option<&Comp<'_>>) -> Result<Option<String>, Hl7Error> {
    if is_null(raw) {
        return Ok(None);
    }
    let text =
        escape::decode(raw, &f.msg.delims, f.msg.charset).map_err(|problem| Hl7Error::Escape {
            field: comp.map_or_else(|| f.label(), Comp::label),
            problem,
        })?;
    let t = text.trim();
    Ok((!t.is_empty()).then(|| t.to_owned()))
}
