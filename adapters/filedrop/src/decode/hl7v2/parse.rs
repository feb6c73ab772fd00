//! One HL7v2 message: delimiters from MSH-1/MSH-2, the character set from MSH-18 (or the drop
//! folder's setting), transcoding to UTF-8, segments and raw fields. Values are read through
//! [`Field`](super::fields::Field), which decodes escape sequences at the value boundary.

use super::CharsetPolicy;
use super::error::{Hl7Error, quote_code};
use super::fields::Field;
use super::split::RawSegment;

/// Character set of a message's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// UTF-8 (ASCII included).
    Utf8,
    /// ISO-8859-1, transcoded byte by byte.
    Latin1,
}

impl Charset {
    fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Latin1 => "ISO-8859-1",
        }
    }
}

/// The delimiters of one message, read from MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delims {
    /// MSH-1.
    pub(crate) field: char,
    /// MSH-2, first character.
    pub(crate) component: char,
    /// MSH-2, second character, if given.
    pub(crate) repetition: Option<char>,
    /// MSH-2, third character, if given.
    pub(crate) escape: Option<char>,
    /// MSH-2, fourth character, if given (a fifth, the v2.7 truncation character, is ignored).
    pub(crate) subcomponent: Option<char>,
}

impl Delims {
    /// `|^~\&`.
    #[cfg(test)]
    pub(crate) fn standard() -> Self {
        Self {
            field: '|',
            component: '^',
            repetition: Some('~'),
            escape: Some('\\'),
            subcomponent: Some('&'),
        }
    }

    /// Whether `c` splits anything (the escape character does not).
    pub(crate) fn is_delimiter(&self, c: char) -> bool {
        c == self.field
            || c == self.component
            || Some(c) == self.repetition
            || Some(c) == self.subcomponent
    }
}

/// One segment: its id, 1-based line and raw (still escaped) fields. `fields[n]` is field `n`;
/// for MSH, `fields[1]` is the field separator and `fields[2]` the encoding characters.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Segment id, three capital letters or digits.
    pub(crate) name: String,
    /// 1-based line in the file.
    pub(crate) line: usize,
    pub(super) fields: Vec<String>,
}

/// A parsed message.
#[derive(Debug)]
pub(crate) struct Message {
    /// Delimiters.
    pub(crate) delims: Delims,
    /// Character set the message was read in.
    pub(crate) charset: Charset,
    /// The MSH segment.
    pub(crate) msh: Segment,
    /// Every segment after MSH, in order.
    pub(crate) segments: Vec<Segment>,
}

impl Message {
    /// Field `n` of `seg`.
    pub(crate) fn field<'a>(&'a self, seg: &'a Segment, n: usize) -> Field<'a> {
        Field {
            msg: self,
            seg,
            n,
            raw: seg.fields.get(n).map_or("", String::as_str),
        }
    }

    /// Field `n` of the first segment named `name`, if there is one.
    pub(crate) fn first<'a>(&'a self, name: &str, n: usize) -> Option<Field<'a>> {
        let seg = self.segments.iter().find(|s| s.name == name)?;
        Some(self.field(seg, n))
    }

    /// Every segment named `name`.
    pub(crate) fn segments_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.name == name)
    }
}

/// Parses the segments of one message (the first is its MSH).
///
/// # Errors
/// [`Hl7Error`] for bad delimiters, an unsupported or mismatching character set, or a line that
/// is not a segment of this message.
pub(crate) fn parse(segs: &[RawSegment<'_>], policy: CharsetPolicy) -> Result<Message, Hl7Error> {
    let Some((msh, rest)) = segs.split_first() else {
        return Err(Hl7Error::Syntax {
            line: 1,
            problem: "the message has no MSH segment".into(),
        });
    };
    let delims = delimiters(msh)?;
    let charset = charset(msh, &delims, policy)?;
    let msh = segment(msh, &delims, charset)?;
    let segments = rest
        .iter()
        .map(|s| segment(s, &delims, charset))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Message {
        delims,
        charset,
        msh,
        segments,
    })
}

/// MSH-1 and MSH-2, read from the bytes (delimiters must be ASCII punctuation).
fn delimiters(msh: &RawSegment<'_>) -> Result<Delims, Hl7Error> {
    let syntax = |problem: &str| Hl7Error::Syntax {
        line: msh.line,
        problem: problem.to_owned(),
    };
    let punct = |b: u8| b.is_ascii_graphic() && !b.is_ascii_alphanumeric();
    let fs = match msh.bytes.get(3) {
        Some(&b) if punct(b) => b,
        Some(_) => {
            return Err(syntax(
                "MSH-1 (field separator) must be a punctuation character such as |",
            ));
        }
        None => {
            return Err(syntax(
                "the MSH segment ends before MSH-1 (field separator)",
            ));
        }
    };
    let rest = msh.bytes.get(4..).unwrap_or_default();
    let enc = rest.split(|&b| b == fs).next().unwrap_or_default();
    let mut seen = vec![fs];
    for &b in enc.iter().take(4) {
        if !punct(b) || seen.contains(&b) {
            return Err(syntax(
                "MSH-2 (encoding characters) must be distinct punctuation characters other \
                 than the field separator, such as ^~\\&",
            ));
        }
        seen.push(b);
    }
    let (Some(&component), true) = (enc.first(), enc.len() <= 5) else {
        return Err(syntax(
            "MSH-2 (encoding characters) must hold one to five characters, such as ^~\\&",
        ));
    };
    let at = |i: usize| enc.get(i).map(|&b| char::from(b));
    Ok(Delims {
        field: char::from(fs),
        component: char::from(component),
        repetition: at(1),
        escape: at(2),
        subcomponent: at(3),
    })
}

/// The character set to read the message in: the drop folder's setting, else MSH-18.
fn charset(msh: &RawSegment<'_>, d: &Delims, policy: CharsetPolicy) -> Result<Charset, Hl7Error> {
    match policy {
        CharsetPolicy::Utf8 => return Ok(Charset::Utf8),
        CharsetPolicy::Iso8859_1 => return Ok(Charset::Latin1),
        CharsetPolicy::Msh18 => {}
    }
    // MSH-18 is element 17 after splitting at the field separator (MSH-1 is the separator).
    let fs = u8::try_from(d.field).unwrap_or(b'|');
    let raw = msh.bytes.split(|&b| b == fs).nth(17).unwrap_or_default();
    let first = raw
        .split(|&b| Some(char::from(b)) == d.repetition || char::from(b) == d.component)
        .next()
        .unwrap_or_default();
    let name = String::from_utf8_lossy(first).trim().to_ascii_uppercase();
    match name.as_str() {
        "" | "\"\"" | "ASCII" | "UNICODE UTF-8" | "UTF-8" | "UTF8" => Ok(Charset::Utf8),
        "8859/1" | "ISO-8859-1" | "ISO8859-1" | "ISO IR100" | "ISO_IR 100" | "LATIN1" => {
            Ok(Charset::Latin1)
        }
        _ => Err(Hl7Error::Charset(quote_code(&name))),
    }
}

/// Transcodes and splits one segment.
fn segment(raw: &RawSegment<'_>, d: &Delims, charset: Charset) -> Result<Segment, Hl7Error> {
    let text = match charset {
        Charset::Latin1 => raw.bytes.iter().copied().map(char::from).collect(),
        Charset::Utf8 => match std::str::from_utf8(raw.bytes) {
            Ok(t) => t.to_owned(),
            Err(_) => {
                return Err(Hl7Error::NotText {
                    line: raw.line,
                    charset: charset.name(),
                    hint: "; if the sender writes ISO-8859-1, it must declare 8859/1 in MSH-18, \
                           or set charset = \"iso-8859-1\" for this drop folder",
                });
            }
        },
    };
    let syntax = |problem: String| Hl7Error::Syntax {
        line: raw.line,
        problem,
    };
    let id_ok = text.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && text.as_bytes().get(..3).is_some_and(|id| {
            id.iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
    if !id_ok {
        return Err(syntax(
            "the line does not start with a segment id (three capital letters or digits); \
             a segment may have been broken over two lines"
                .into(),
        ));
    }
    let (name, after) = text.split_at(3);
    let mut chars = after.chars();
    match chars.next() {
        None => {}
        Some(c) if c == d.field => {}
        Some(_) => {
            return Err(syntax(format!(
                "segment {name} is not followed by the field separator declared in MSH-1 \
                 (wrong delimiters?)"
            )));
        }
    }
    let name = name.to_owned();
    let mut fields = vec![name.clone()];
    let body = chars.as_str();
    if name == "MSH" {
        fields.push(d.field.to_string());
    }
    if !after.is_empty() {
        fields.extend(body.split(d.field).map(str::to_owned));
    }
    Ok(Segment {
        name,
        line: raw.line,
        fields,
    })
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
