use super::*;

const RDS: &str = include_str!("../../../tests/corpus/hl7v2/good/rds-o13-v251-cr.hl7");

fn decode(options: Hl7v2Options, bytes: &[u8]) -> Vec<Result<DecodedItem, ItemDecodeError>> {
    let cx = DecodeContext {
        file_name: "a.hl7",
        origin: "file:hl7v2/a.hl7",
    };
    Hl7v2Decoder::new(options).decode(bytes, &cx)
}

fn data(item: &Result<DecodedItem, ItemDecodeError>) -> serde_json::Value {
    let body = &item.as_ref().unwrap().raw.body;
    serde_json::from_slice::<serde_json::Value>(body).unwrap()["data"].clone()
}

#[test]
fn options_default_and_problems() {
    let o = Hl7v2Options::default();
    assert_eq!(o.default_service, "pharmacy-first");
    assert_eq!(o.charset, CharsetPolicy::Msh18);
    assert_eq!(o.local_time_zone, LocalTimeZone::EuropeLondon);
    assert_eq!(o.max_message_bytes, 20 * 1024 * 1024);
    assert!(o.problems().is_empty());
    let bad = Hl7v2Options {
        default_service: "flu".into(),
        max_message_bytes: 0,
        supply_type: Some(" ".into()),
        ..Hl7v2Options::default()
    };
    assert_eq!(bad.problems().len(), 3);
}

#[test]
fn options_parse_from_toml_shaped_json() {
    let o: Hl7v2Options = serde_json::from_value(serde_json::json!({
        "default_service": "urgent-supply", "charset": "iso-8859-1", "local_time_zone": "UTC"
    }))
    .unwrap();
    assert_eq!(o.charset, CharsetPolicy::Iso8859_1);
    assert_eq!(o.local_time_zone, LocalTimeZone::Utc);
    assert!(serde_json::from_value::<Hl7v2Options>(serde_json::json!({"nope": 1})).is_err());
}

#[test]
fn configured_service_and_supply_type() {
    let items = decode(
        Hl7v2Options {
            default_service: "urgent-supply".into(),
            ..Hl7v2Options::default()
        },
        RDS.as_bytes(),
    );
    let d = data(&items[0]);
    assert_eq!(d["service"], "urgent-supply");
    assert_eq!(
        d["medicationsSupplied"][0]["supplyType"],
        "emergency-supply"
    );
    let items = decode(
        Hl7v2Options {
            supply_type: Some("prescription-dispensing".into()),
            ..Hl7v2Options::default()
        },
        RDS.as_bytes(),
    );
    assert_eq!(
        data(&items[0])["medicationsSupplied"][0]["supplyType"],
        "prescription-dispensing"
    );
}

#[test]
fn origin_line_and_derived_id() {
    let items = decode(Hl7v2Options::default(), format!("\n\n{RDS}").as_bytes());
    let item = items[0].as_ref().unwrap();
    assert_eq!(item.line, Some(3));
    assert_eq!(item.raw.origin, "file:hl7v2/a.hl7#0");
    assert!(item.raw.derived_id.is_some());
}

#[test]
fn file_level_and_stray_errors() {
    let items = decode(Hl7v2Options::default(), b"");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().reason, "the file is empty");
    let items = decode(Hl7v2Options::default(), format!("junk\n{RDS}").as_bytes());
    assert_eq!(items.len(), 2);
    let stray = items[0].as_ref().unwrap_err();
    assert_eq!(stray.line, Some(1));
    assert!(
        stray
            .reason
            .starts_with("lines 1 to 1 are not part of any message")
    );
    assert!(items[1].is_ok());
}

#[test]
fn too_large_message_fails_alone() {
    let two = format!("{RDS}{}", RDS.replace("RDS00001", "RDS00002"));
    let limit = RDS.len() - 10;
    let items = decode(
        Hl7v2Options {
            max_message_bytes: limit,
            ..Hl7v2Options::default()
        },
        two.as_bytes(),
    );
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|i| i.as_ref().unwrap_err().reason.contains("max_message_bytes"))
    );
}

#[test]
fn required_content_is_named_by_field() {
    let cases = [
        (
            "RE^Remark^HL70364",
            "GI",
            "the RDS^O13 message has no NTE with comment type RE",
        ),
        (
            "RXD|1|24549911000001107^Nitrofurantoin 50mg capsules^DMD",
            "RXD|1|X^Y^LOCAL",
            "RXD-2 (line 7) (item dispensed) has no dm+d code",
        ),
        (
            "|12|428641000",
            "|twelve|428641000",
            "RXD-4 (line 7) (quantity dispensed) is not a number",
        ),
        (
            "|19700101|M|",
            "|1970|M|",
            "PID-7 (line 2) (birth date) is not a date",
        ),
        (
            "|19700101|M|",
            "|19700101|Q|",
            "PID-8 (line 2) (administrative sex) must be one of",
        ),
        (
            "FA001^High Street Pharmacy",
            "FA001",
            "MSH-4.2 (line 1) (sending organisation name",
        ),
        ("|RDS00001|", "||", "MSH-10 (line 1) (message control id"),
        (
            "2012345^Patel^Asha",
            "2012345^^Asha",
            "PV1-7 (line 3) (attending practitioner family name",
        ),
    ];
    for (from, to, want) in cases {
        assert!(RDS.contains(from), "{from}");
        let broken = RDS.replacen(from, to, 1);
        let items = decode(Hl7v2Options::default(), broken.as_bytes());
        let e = items[0].as_ref().unwrap_err();
        assert!(e.reason.contains(want), "{from}: {}", e.reason);
        assert_eq!(e.line, Some(1));
    }
}

#[test]
fn dosage_and_instruction_fallbacks() {
    // Without RXE-7 the dosage comes from TQ1-11.
    let no_rxe7 = RDS.replace("|^One capsule four times a day for 3 days", "|");
    let d = data(&decode(Hl7v2Options::default(), no_rxe7.as_bytes())[0]);
    assert_eq!(
        d["medicationsSupplied"][0]["dosageText"],
        "One capsule four times a day for 3 days"
    );
    // Without a PI note, and RXD-15 empty, the instruction is missing.
    let no_pi = RDS.replace("NTE|1||Take with food|PI\r", "");
    let items = decode(Hl7v2Options::default(), no_pi.as_bytes());
    let e = items[0].as_ref().unwrap_err();
    assert!(
        e.reason
            .contains("RXD-15 (line 7) and NTE with comment type PI"),
        "{}",
        e.reason
    );
}
