use super::*;
use crate::decode::hl7v2::split::RawSegment;

fn msg(lines: &[&str], policy: CharsetPolicy) -> Result<Message, Hl7Error> {
    let segs: Vec<RawSegment<'_>> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| RawSegment {
            line: i + 1,
            bytes: l.as_bytes(),
        })
        .collect();
    parse(&segs, policy)
}

#[test]
fn msh_fields_are_numbered_from_the_separator() {
    let m = msg(
        &["MSH|^~\\&|APP|FA001^Name|||20261120||RDS^O13|C1"],
        CharsetPolicy::Msh18,
    )
    .unwrap();
    assert_eq!(
        m.field(&m.msh, 1).first().text().unwrap().as_deref(),
        Some("|")
    );
    assert_eq!(
        m.field(&m.msh, 2).first().text().unwrap().as_deref(),
        Some("^~\\&")
    );
    assert_eq!(
        m.field(&m.msh, 3)
            .first()
            .comp(1)
            .value()
            .unwrap()
            .as_deref(),
        Some("APP")
    );
    assert_eq!(
        m.field(&m.msh, 4)
            .first()
            .comp(2)
            .value()
            .unwrap()
            .as_deref(),
        Some("Name")
    );
    assert_eq!(
        m.field(&m.msh, 9)
            .first()
            .comp(2)
            .value()
            .unwrap()
            .as_deref(),
        Some("O13")
    );
    assert_eq!(m.field(&m.msh, 10).label(), "MSH-10 (line 1)");
    assert!(m.field(&m.msh, 99).is_empty());
}

#[test]
fn msh2_variants() {
    // v2.7 truncation character: ignored, MSH-3 stays MSH-3.
    let m = msg(&["MSH|^~\\&#|APP"], CharsetPolicy::Msh18).unwrap();
    assert_eq!(m.delims.subcomponent, Some('&'));
    assert_eq!(
        m.field(&m.msh, 3)
            .first()
            .comp(1)
            .value()
            .unwrap()
            .as_deref(),
        Some("APP")
    );
    // Only component and repetition characters: no escapes, no subcomponents.
    let m = msg(&["MSH|^~|APP", "PID|1||a\\F\\b&c"], CharsetPolicy::Msh18).unwrap();
    let f = m.field(&m.segments[0], 3);
    assert_eq!(
        f.first().comp(1).value().unwrap().as_deref(),
        Some("a\\F\\b&c")
    );
    for bad in [
        "MSH|^~\\A|X",
        "MSH||X",
        "MSH|^^\\&|X",
        "MSHA^~\\&",
        "MSH",
        "MSH|^~\\&abc|",
    ] {
        let e = msg(&[bad], CharsetPolicy::Msh18).unwrap_err();
        assert!(matches!(e, Hl7Error::Syntax { line: 1, .. }), "{bad}: {e}");
    }
}

#[test]
fn repetitions_components_subcomponents_and_nulls() {
    let m = msg(
        &[
            "MSH|^~\\&|A",
            "PID|1||X1^^^FA001^PI~9000000009^^^NHS&2.16&ISO^NH||\"\"",
        ],
        CharsetPolicy::Msh18,
    )
    .unwrap();
    let pid = &m.segments[0];
    let reps: Vec<_> = m.field(pid, 3).reps().collect();
    assert_eq!(reps.len(), 2);
    assert_eq!(reps[1].comp(4).sub(1).unwrap().as_deref(), Some("NHS"));
    assert_eq!(reps[1].comp(4).sub(3).unwrap().as_deref(), Some("ISO"));
    assert_eq!(reps[1].comp(4).label(), "PID-3.4 (line 2)");
    assert_eq!(reps[0].comp(9).value().unwrap(), None);
    assert!(m.field(pid, 5).is_empty());
    assert_eq!(m.field(pid, 5).text().unwrap(), None);
}

#[test]
fn charset_policy_and_msh18() {
    let latin = ["MSH|^~\\&|A|||||||||||||||8859/1", "PID|1||\u{e9}"];
    let bytes: Vec<Vec<u8>> = latin
        .iter()
        .map(|l| {
            l.chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap())
                .collect()
        })
        .collect();
    let segs: Vec<RawSegment<'_>> = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| RawSegment {
            line: i + 1,
            bytes: b,
        })
        .collect();
    let m = parse(&segs, CharsetPolicy::Msh18).unwrap();
    assert_eq!(m.charset, Charset::Latin1);
    assert_eq!(
        m.field(&m.segments[0], 3)
            .first()
            .comp(1)
            .value()
            .unwrap()
            .as_deref(),
        Some("é")
    );
    // Forced UTF-8 ignores MSH-18 and then finds the Latin-1 byte invalid.
    let e = parse(&segs, CharsetPolicy::Utf8).unwrap_err();
    assert!(matches!(e, Hl7Error::NotText { line: 2, .. }), "{e}");
    let e = msg(
        &["MSH|^~\\&|A|||||||||||||||UNICODE UTF-16"],
        CharsetPolicy::Msh18,
    )
    .unwrap_err();
    assert!(e.to_string().contains("\"UNICODE UTF-16\""), "{e}");
    let m = msg(
        &["MSH|^~\\&|A|||||||||||||||GB 18030-2000"],
        CharsetPolicy::Iso8859_1,
    )
    .unwrap();
    assert_eq!(m.charset, Charset::Latin1);
}

#[test]
fn segment_lines_must_be_segments_of_this_message() {
    let e = msg(&["MSH|^~\\&|A", "continued text"], CharsetPolicy::Msh18).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("line 2: the line does not start with a segment id"),
        "{e}"
    );
    let e = msg(&["MSH|^~\\&|A", "PID#1"], CharsetPolicy::Msh18).unwrap_err();
    assert!(e.to_string().contains("segment PID is not followed"), "{e}");
    let m = msg(&["MSH|^~\\&|A", "ZPI", "NTE|1"], CharsetPolicy::Msh18).unwrap();
    assert_eq!(m.segments.len(), 2);
}
