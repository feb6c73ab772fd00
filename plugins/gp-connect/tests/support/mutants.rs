//! The `selftest.py` mutants our checker covers, re-created on the same bases: `(name, text,
//! rule both checkers must report)`.

use super::edit::{
    ack1, entry_span, find_seq, fixture, json_base, pf1, replace_seq, sd1, span, splice, sub, swap,
};

/// The text a mutant starts from.
#[derive(Clone, Copy)]
pub(crate) enum Base {
    Pf,
    Sd,
    Ack,
    Json,
}

/// A named mutant and the rule it must trigger.
pub(crate) type Mutant = (&'static str, String, &'static str);

/// Mutants that replace the first occurrence of a string: `(name, base, old, new, rule)`.
const SUBSTITUTIONS: &[(&str, Base, &str, &str, &str)] = &[
    ("malformed XML", Base::Pf, "</Bundle>", "", "FMT-PARSE"),
    (
        "no FHIR namespace",
        Base::Pf,
        r#"<Bundle xmlns="http://hl7.org/fhir">"#,
        "<Bundle>",
        "FMT-ROOT",
    ),
    (
        "unknown element",
        Base::Pf,
        r#"<type value="message" />"#,
        r#"<type value="message" /><foo value="x" />"#,
        "XML-UNKNOWN",
    ),
    (
        "empty value",
        Base::Pf,
        r#"<status value="final" />"#,
        r#"<status value="" />"#,
        "XML-EMPTY",
    ),
    (
        "bad boolean",
        Base::Pf,
        r#"<valueBoolean value="true" />"#,
        r#"<valueBoolean value="yes" />"#,
        "XML-VALUE",
    ),
    (
        "bad date",
        Base::Pf,
        r#"<date value="2023-08-08" />"#,
        r#"<date value="08/08/2023" />"#,
        "FHIR-STRUCT",
    ),
    (
        "bundle type not in value set",
        Base::Pf,
        r#"<type value="message" />"#,
        r#"<type value="mesage" />"#,
        "FHIR-CODE",
    ),
    (
        "duplicate fullUrl",
        Base::Pf,
        r#"<fullUrl value="urn:uuid:a4e4fb3d-cc1f-42af-b864-949febf79937" />"#,
        r#"<fullUrl value="urn:uuid:108805b4-32df-464d-a0a6-11c37afd74f2" />"#,
        "BDL-FULLURL-UNIQUE",
    ),
    (
        "bad recipient type",
        Base::Pf,
        r#"<code value="FI" />"#,
        r#"<code value="XX" />"#,
        "ITK-MH-KEY-RecipientType",
    ),
    (
        "unknown event",
        Base::Pf,
        r#"<code value="ITK014M" />"#,
        r#"<code value="ITK099X" />"#,
        "ITK-MH-EVENT",
    ),
    (
        "forbidden Procedure",
        Base::Pf,
        r#"<type value="document" />"#,
        r#"<type value="document" /><entry><fullUrl value="urn:uuid:11111111-1111-1111-1111-111111111111" /><resource><Procedure><id value="11111111-1111-1111-1111-111111111111" /><status value="completed" /><subject><reference value="urn:uuid:45b79f14-8a6d-48e9-9ec7-642dd7592e92" /></subject></Procedure></resource></entry>"#,
        "UR-RESOURCES",
    ),
    (
        "SNOMED check digit",
        Base::Pf,
        r#"<code value="276433004" />"#,
        r#"<code value="276433005" />"#,
        "SNOMED-SCTID",
    ),
    (
        "section text not allowed",
        Base::Pf,
        "<section>",
        r#"<section><text><status value="generated" /><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></text>"#,
        "UR-COMP-SECTION",
    ),
    (
        "BP unit",
        Base::Pf,
        r#"<code value="mm[Hg]" />"#,
        r#"<code value="mmHg" />"#,
        "UR-BP-UNITS",
    ),
    (
        "no NHS number",
        Base::Pf,
        r#"<system value="https://fhir.nhs.uk/Id/nhs-number" />"#,
        r#"<system value="https://example.org/id" />"#,
        "UR-PATIENT-NHSNO",
    ),
    (
        "wrong MessageDefinition",
        Base::Sd,
        "ITK-GPConnectSendDocument-MessageDefinition-1",
        "ITK-Other-MessageDefinition-1",
        "SD-MSGDEF",
    ),
    (
        "confidential document",
        Base::Sd,
        r#"<title value="[document-title]" />"#,
        r#"<title value="[document-title]" /><confidentiality value="R" />"#,
        "SD-CONFIDENTIAL",
    ),
    (
        "attachment not PDF",
        Base::Sd,
        r#"<content value="JVBERi0"#,
        r#"<content value="QUJDRE"#,
        "SD-BINARY",
    ),
    (
        "attachment not base64",
        Base::Sd,
        r#"<content value="JVBERi0"#,
        r#"<content value="!!!!JVBERi0"#,
        "SD-BINARY",
    ),
    (
        "response code mapping",
        Base::Ack,
        r#"<code value="30001""#,
        r#"<code value="30002""#,
        "RSP-MAPPING",
    ),
    (
        "unknown response code",
        Base::Ack,
        r#"<code value="30001""#,
        r#"<code value="39999""#,
        "RSP-OO",
    ),
    (
        "json null",
        Base::Json,
        r#""type": "message""#,
        r#""type": null"#,
        "JSON-NULL",
    ),
    (
        "json duplicate key",
        Base::Json,
        r#""type": "message""#,
        r#""type": "message", "type": "message""#,
        "JSON-DUPKEY",
    ),
    (
        "json empty string",
        Base::Json,
        r#""type": "message""#,
        r#""type": "message", "language": """#,
        "JSON-EMPTY",
    ),
    (
        "json wrong root",
        Base::Json,
        r#""resourceType": "Bundle""#,
        r#""resourceType": "Parameters""#,
        "FMT-ROOT",
    ),
    (
        "json unknown property",
        Base::Json,
        r#""type": "message""#,
        r#""type": "message", "foo": 1"#,
        "FHIR-STRUCT",
    ),
];

/// Every mutant.
pub(crate) fn mutants() -> Vec<Mutant> {
    let (pf, sd, ack, js) = (pf1(), sd1(), ack1(), json_base());
    let mut out: Vec<Mutant> = SUBSTITUTIONS
        .iter()
        .map(|(name, base, old, new, rule)| {
            let text = match base {
                Base::Pf => &pf,
                Base::Sd => &sd,
                Base::Ack => &ack,
                Base::Json => &js,
            };
            (*name, sub(text, old, new), *rule)
        })
        .collect();
    let timestamp = span(&pf, "<timestamp ", ">");
    let handling_start = pf
        .find(r#"<extension url="https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2">"#)
        .unwrap();
    let handling_len = find_seq(&pf[handling_start..], &["</extension>", "</extension>"])
        .unwrap()
        .1;
    let focus = find_seq(&pf, &["<focus>", "<reference value=\""])
        .unwrap()
        .1;
    let focus_end = focus + pf[focus..].find('"').unwrap();
    let bus_ack = [
        r#"<extension url="BusAckRequested">"#,
        r#"<valueBoolean value="true" />"#,
    ];
    let negative = fixture("derived/inf-ack-20009-payload-validation-failure.xml");
    out.extend([
        (
            "element order",
            swap(&pf, span(&pf, "<event>", "</event>"), span(&pf, "<source>", "</source>")),
            "XML-ORDER",
        ),
        (
            "repeated single element",
            splice(&pf, (timestamp.1, timestamp.1), &pf[timestamp.0..timestamp.1]),
            "XML-REPEAT",
        ),
        ("missing timestamp", splice(&pf, timestamp, ""), "FHIR-STRUCT"),
        (
            "timestamp without zone",
            splice(&pf, timestamp, r#"<timestamp value="2023-08-08T09:19:16" />"#),
            "FHIR-STRUCT",
        ),
        (
            "MessageHeader not first",
            swap(
                &pf,
                entry_span(&pf, r#"<fullUrl value="urn:uuid:108805b4"#),
                entry_span(&pf, r#"<fullUrl value="urn:uuid:a4e4fb3d"#),
            ),
            "MSG-FIRST",
        ),
        (
            "dangling focus",
            splice(&pf, (focus, focus_end), "urn:uuid:00000000-0000-0000-0000-000000000000"),
            "REF-RESOLVE",
        ),
        (
            "missing handling key",
            replace_seq(&pf, &[bus_ack[0], bus_ack[1], "</extension>"], ""),
            "ITK-MH-KEY-BusAckRequested",
        ),
        (
            "handling extension missing",
            splice(&pf, (handling_start, handling_start + handling_len), ""),
            "ITK-MH-HANDLING",
        ),
        (
            "bus ack not requested",
            replace_seq(&pf, &bus_ack, r#"<extension url="BusAckRequested"><valueBoolean value="false" />"#),
            "UR-ACKS",
        ),
        (
            "no source endpoint",
            splice(&pf, span(&pf, "<source>", "</source>"), r#"<source><name value="x" /></source>"#),
            "FHIR-STRUCT",
        ),
        (
            "header org has a name",
            replace_seq(
                &pf,
                &[r#"<value value="FQW30" />"#, "</identifier>"],
                r#"<value value="FQW30" /></identifier><name value="Pharmacy" />"#,
            ),
            "ITK-HDR-ORG",
        ),
        (
            "composition type not SNOMED",
            replace_seq(
                &pf,
                &["<type>", "<coding>", r#"<system value="http://snomed.info/sct" />"#, r#"<code value="1577041000000109""#],
                r#"<type><coding><system value="https://example.org/cs" /><code value="1577041000000109""#,
            ),
            "UR-COMP-TYPE",
        ),
        (
            "dispense without quantity",
            splice(&pf, span(&pf, "<quantity>", "</quantity>"), ""),
            "UR-PROFILE-MedicationDispense",
        ),
        (
            "clinical impression without summary",
            splice(&pf, span(&pf, "<summary value=", "/>"), ""),
            "UR-PROFILE-ClinicalImpression",
        ),
        (
            "negative code sent as ok",
            sub(&negative, r#"<code value="fatal-error" />"#, r#"<code value="ok" />"#),
            "RSP-MAPPING",
        ),
        (
            "response without details",
            splice(&ack, span(&ack, "<details>", "</details>"), ""),
            "RSP-RESPONSE",
        ),
    ]);
    out
}
