use serde_json::{Value, json};

use super::*;

const HEADER: &str = "service,consent,patient.nhsNumber,patient.family,patient.given,\
patient.birthDate,patient.gender,patient.postcode,pharmacy.odsCode,pharmacy.name,\
practitioner.family,practitioner.given,practitioner.gphcNumber,encounter.start,encounter.end,\
clinicalNotes.clinicalSummary,observations.0.systolic,observations.0.diastolic,\
observations.0.position,observations.1.type,observations.1.value";

const ROW: &str = "blood-pressure-check,true,9000000009,Smith,John,1970-01-01,male,LS1 1AA,\
FA001,High Street Pharmacy,Patel,Asha,2012345,2026-11-20T09:40:00Z,2026-11-20T10:05:00Z,\
\"Reading taken, patient advised\",128,82,sitting,pulse,72";

fn decode(options: CsvOptions, text: &str) -> Vec<Result<DecodedItem, ItemDecodeError>> {
    let cx = DecodeContext {
        file_name: "a.csv",
        origin: "file:csv/a.csv",
    };
    CsvDecoder::new(options).decode(text.as_bytes(), &cx)
}

fn event_of(item: &Result<DecodedItem, ItemDecodeError>) -> Value {
    serde_json::from_slice(&item.as_ref().unwrap().raw.body).unwrap()
}

#[test]
fn default_columns_are_data_paths_with_types() {
    let items = decode(
        CsvOptions::default(),
        &format!("\u{feff}{HEADER}\r\n{ROW}\r\n"),
    );
    assert_eq!(items.len(), 1);
    let item = items[0].as_ref().unwrap();
    assert_eq!(item.line, Some(2));
    assert_eq!(item.raw.origin, "file:csv/a.csv#0");
    let ev = event_of(&items[0]);
    assert_eq!(ev["source"], "urn:nhs:ods:FA001");
    assert_eq!(ev["type"], "uk.nhs.pharmacy.consultation.completed.v1");
    assert_eq!(ev["time"], "2026-11-20T10:05:00Z");
    assert_eq!(ev["id"].as_str(), item.raw.derived_id.as_deref());
    let d = &ev["data"];
    assert_eq!(d["consent"], true);
    assert_eq!(d["patient"]["given"], json!(["John"]));
    assert_eq!(
        d["clinicalNotes"]["clinicalSummary"],
        "Reading taken, patient advised"
    );
    assert_eq!(
        d["observations"],
        json!([
            {"type": "blood-pressure", "position": "sitting", "systolic": 128, "diastolic": 82},
            {"type": "pulse", "value": 72}
        ])
    );
}

#[test]
fn column_map_defaults_and_id_column() {
    let options = CsvOptions {
        column_map: [("NHS No", "patient.nhsNumber"), ("Event", "id")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect(),
        defaults: [("pharmacy.odsCode", "FA001"), ("service", "pharmacy-first")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect(),
        delimiter: ';',
        ..CsvOptions::default()
    };
    assert!(options.problems().is_empty());
    let items = decode(
        options,
        "Event;NHS No;service\nev-1;9000000009;\n;9000000017;urgent-supply\n",
    );
    let (a, b) = (event_of(&items[0]), event_of(&items[1]));
    assert_eq!(a["id"], "ev-1");
    assert_eq!(a["data"]["service"], "pharmacy-first");
    assert_eq!(a["data"]["pharmacy"]["odsCode"], "FA001");
    assert_eq!(b["data"]["service"], "urgent-supply");
    assert_eq!(b["data"]["patient"]["nhsNumber"], "9000000017");
}

#[test]
fn derived_id_depends_on_content_only() {
    let a = decode(CsvOptions::default(), &format!("{HEADER}\n{ROW}\n"));
    // Same content, columns reordered (first two swapped) and cells padded: same id.
    let mut h: Vec<&str> = HEADER.split(',').collect();
    h.swap(0, 1);
    let swapped_row = ROW.replacen(
        "blood-pressure-check,true",
        " true , blood-pressure-check",
        1,
    );
    let b = decode(
        CsvOptions::default(),
        &format!("{}\n{swapped_row}\n", h.join(",")),
    );
    let id = |items: &[Result<DecodedItem, ItemDecodeError>]| {
        items[0].as_ref().unwrap().raw.derived_id.clone().unwrap()
    };
    assert_eq!(id(&a), id(&b));
    let c = decode(
        CsvOptions::default(),
        &format!("{HEADER}\n{}\n", ROW.replace(",128,", ",129,")),
    );
    assert_ne!(id(&a), id(&c));
}

#[test]
fn bad_rows_fail_alone_with_their_line() {
    let rows = [
        ROW.to_owned(),
        ROW.replace(",128,", ",high,"),
        ROW.replace(",true,", ",perhaps,"),
        ROW.replace("FA001,", ","),
        "a,b".to_owned(),
        ROW.replace("9000000009", "9000000017"),
    ];
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    let items = decode(CsvOptions::default(), &text);
    assert_eq!(items.len(), 6);
    let errors: Vec<(Option<usize>, String)> = items
        .iter()
        .filter_map(|i| i.as_ref().err())
        .map(|e| (e.line, e.reason.clone()))
        .collect();
    assert_eq!(
        errors,
        [
            (Some(3), "column \"observations.0.systolic\" (observations.0.systolic) must be a number".to_owned()),
            (Some(4), "column \"consent\" (consent) must be true or false".to_owned()),
            (Some(5), "pharmacy.odsCode is empty; it is the event source".to_owned()),
            (Some(6), "the row has 2 fields but the header has 21 (a missing quote or an unquoted delimiter?)".to_owned()),
        ]
    );
    assert_eq!(items[5].as_ref().unwrap().line, Some(7));
}

#[test]
fn quoted_multiline_cells_keep_line_numbers() {
    let multiline = ROW.replace(
        "\"Reading taken, patient advised\"",
        "\"Line one\nline \"\"two\"\"\"",
    );
    let text = format!("{HEADER}\n{multiline}\n{ROW}\n");
    let items = decode(CsvOptions::default(), &text);
    assert_eq!(
        event_of(&items[0])["data"]["clinicalNotes"]["clinicalSummary"],
        "Line one\nline \"two\""
    );
    assert_eq!(items[1].as_ref().unwrap().line, Some(4));
}

#[test]
fn header_problems_fail_the_file() {
    let items = decode(CsvOptions::default(), "patient.nhsnumber,service\n1,2\n");
    assert_eq!(items.len(), 1);
    let e = items[0].as_ref().unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.reason.contains("\"patient.nhsnumber\""), "{}", e.reason);
    let ok = decode(
        CsvOptions {
            ignore_unknown_columns: true,
            ..CsvOptions::default()
        },
        "patient.nhsnumber,pharmacy.odsCode,\n1,FA001,\n",
    );
    assert!(ok[0].is_ok());
    let dup = decode(
        CsvOptions {
            column_map: [("NHS".to_owned(), "patient.nhsNumber".to_owned())].into(),
            ..CsvOptions::default()
        },
        "NHS,patient.nhsNumber\n1,2\n",
    );
    assert!(dup[0].as_ref().unwrap_err().reason.contains("both map to"));
    assert!(decode(CsvOptions::default(), "")[0].is_err());
    assert!(decode(CsvOptions::default(), "\u{feff}")[0].is_err());
}

#[test]
fn blank_rows_are_skipped_and_bad_utf8_fails_one_row() {
    let text = format!("{HEADER}\n{ROW}\n,,,,\n\n");
    assert_eq!(decode(CsvOptions::default(), &text).len(), 1);
    let mut bytes = format!("{HEADER}\n").into_bytes();
    bytes.extend_from_slice(
        &ROW.replace("Smith", "Sm\u{1}")
            .into_bytes()
            .iter()
            .map(|&b| if b == 1 { 0xff } else { b })
            .collect::<Vec<u8>>(),
    );
    bytes.extend_from_slice(format!("\n{ROW}\n").as_bytes());
    let cx = DecodeContext {
        file_name: "a.csv",
        origin: "file:csv/a.csv",
    };
    let items = CsvDecoder::default().decode(&bytes, &cx);
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0].as_ref().unwrap_err().reason,
        "column \"patient.family\" is not valid UTF-8"
    );
    assert!(items[1].is_ok());
}

#[test]
fn option_problems() {
    let bad = CsvOptions {
        column_map: [("x".to_owned(), "patient.nope".to_owned())].into(),
        defaults: [
            ("consent".to_owned(), "maybe".to_owned()),
            ("id".to_owned(), "1".to_owned()),
        ]
        .into(),
        delimiter: 'é',
        ..CsvOptions::default()
    };
    assert_eq!(bad.problems().len(), 4);
    let parsed: CsvOptions = serde_json::from_value(json!({
        "column_map": {"NHS No": "patient.nhsNumber"}, "delimiter": ";"
    }))
    .unwrap();
    assert_eq!(parsed.delimiter, ';');
}
