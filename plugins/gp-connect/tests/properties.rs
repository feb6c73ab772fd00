//! Property tests: random valid consultation and document events always map, in either output
//! format, to messages the gateway's checker accepts without a single error; a small sample is
//! also run through the independent fhir-validate checker.

#![allow(clippy::unwrap_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::DateTime;
use gateway_core::{MailboxDirectory, MapContext, MappingPlugin, Outbound, SeededIds};
use gateway_plugin_gp_connect::{
    OutputFormat, SendDocumentOptions, SendDocumentPlugin, Severity, UpdateRecordOptions,
    UpdateRecordPlugin, ValidateOptions, check_message,
};
use gateway_proto::CloudEvent;
use proptest::prelude::*;
use serde_json::{Value, json};

struct AnyOds;

impl MailboxDirectory for AnyOds {
    fn mailbox_for_ods(&self, _ods_code: &str) -> Option<String> {
        Some("PHARM001".to_owned())
    }
}

/// Ten digits passing modulus 11.
fn nhs_number() -> impl Strategy<Value = String> {
    proptest::collection::vec(0u32..10, 9).prop_filter_map("check digit 10", |d| {
        let total: u32 = d.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        let check = match 11 - total % 11 {
            11 => 0,
            10 => return None,
            c => c,
        };
        Some(
            d.iter()
                .chain([&check])
                .map(|d| char::from(b'0' + *d as u8))
                .collect(),
        )
    })
}

fn name() -> impl Strategy<Value = String> {
    "[A-Z][a-zà-öø-ÿ'’-]{0,12}( [A-Z][a-z]{1,10})?"
}

/// A one-line label (organisation name, title) with XML specials and non-ASCII.
fn label() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 <>&\"'.,()/\\-éü€]{0,60}"
}

/// Free text with XML specials, non-ASCII and line breaks.
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 <>&\"'.,;:!?()%/\\-éü€\n\t]{0,120}"
}

fn patient() -> impl Strategy<Value = Value> {
    (
        nhs_number(),
        name(),
        proptest::collection::vec(name(), 0..3),
        (1900i32..2025, 1u32..13, 1u32..29),
        prop_oneof!["male", "female", "other", "unknown"],
        proptest::option::of("[A-Z]{1,2}[0-9] [0-9][A-Z]{2}"),
    )
        .prop_map(|(nhs, family, given, (y, m, d), gender, postcode)| {
            let mut p = json!({"nhsNumber": nhs, "family": family, "given": given,
                "birthDate": format!("{y:04}-{m:02}-{d:02}"), "gender": gender});
            if let Some(pc) = postcode {
                p["postcode"] = json!(pc);
            }
            p
        })
}

fn practitioner() -> impl Strategy<Value = Value> {
    (
        name(),
        proptest::collection::vec(name(), 0..2),
        proptest::option::of("[0-9]{7}"),
    )
        .prop_map(|(family, given, gphc)| {
            let mut p = json!({"family": family, "given": given});
            if let Some(g) = gphc {
                p["gphcNumber"] = json!(g);
            }
            p
        })
}

fn observation() -> impl Strategy<Value = Value> {
    prop_oneof![
        (
            prop_oneof![
                "sitting",
                "standing",
                "lying",
                "unspecified",
                "baseline",
                "ambulatory-average",
                "self-measured"
            ],
            40u32..140,
            1u32..100,
        )
            .prop_map(
                |(pos, dia, gap)| json!({"type": "blood-pressure", "position": pos,
                "systolic": dia + gap, "diastolic": dia})
            ),
        (30u32..200).prop_map(|v| json!({"type": "pulse", "value": v})),
        (50u32..220).prop_map(|v| json!({"type": "height", "value": v})),
        (20u32..2000).prop_map(|v| json!({"type": "weight", "value": f64::from(v) / 10.0})),
        (120u32..600).prop_map(|v| json!({"type": "bmi", "value": f64::from(v) / 10.0})),
        (340u32..420).prop_map(|v| json!({"type": "temperature", "value": f64::from(v) / 10.0})),
        prop_oneof!["pregnant", "not-pregnant"]
            .prop_map(|v| json!({"type": "pregnancy-status", "value": v})),
    ]
}

fn medication() -> impl Strategy<Value = Value> {
    (
        prop_oneof!["24549911000001107", "289411000001107", "17346711000001106"],
        1u32..100,
        prop_oneof!["capsule", "tablet", "ml", "gram", "dose"],
        prop_oneof![
            "patient-group-direction",
            "prescription-dispensing",
            "emergency-supply"
        ],
        proptest::option::of(1u32..90),
        text(),
    )
        .prop_map(|(code, q, unit, supply, days, instruction)| {
            let mut m = json!({"code": code, "display": "A medicine",
                "quantity": {"value": q, "unit": unit}, "dosageText": "As directed",
                "patientInstruction": instruction, "supplyType": supply});
            if let Some(d) = days {
                m["daysSupply"] = json!(d);
            }
            m
        })
}

fn consultation() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            "pharmacy-first",
            "blood-pressure-check",
            "contraception",
            "urgent-supply"
        ],
        patient(),
        practitioner(),
        ("[A-Z]{2}[0-9]{3}", label()),
        (0i64..600, proptest::option::of(1i64..120)),
        proptest::option::of(prop_oneof!["68566005", "276433004"]),
        proptest::collection::vec(proptest::option::of(text()), 6),
        proptest::collection::vec(observation(), 0..4),
        proptest::collection::vec(medication(), 0..3),
        proptest::option::of(2u32..5),
    )
        .prop_map(
            |(
                service,
                patient,
                practitioner,
                (ods, pharmacy),
                (ago, len),
                complaint,
                notes,
                mut observations,
                medications,
                version,
            )| {
                let start = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap()
                    - chrono::Duration::minutes(ago);
                let mut encounter = json!({"start": start.to_rfc3339()});
                if let Some(l) = len.filter(|l| *l <= ago) {
                    encounter["end"] = json!((start + chrono::Duration::minutes(l)).to_rfc3339());
                }
                if service == "blood-pressure-check" {
                    observations
                        .push(json!({"type": "blood-pressure", "systolic": 130, "diastolic": 85}));
                }
                let keys = [
                    "clinicalSummary",
                    "history",
                    "informationAndAdviceGiven",
                    "planAndRequestedActions",
                    "redFlags",
                    "signpostDetails",
                ];
                let mut clinical = json!({});
                for (k, v) in keys.iter().zip(notes) {
                    if let Some(v) = v {
                        clinical[k] = json!(v);
                    }
                }
                clinical["clinicalSummary"] = json!("Seen and advised.");
                let mut data = json!({"service": service, "consent": true, "patient": patient,
                "pharmacy": {"odsCode": ods, "name": pharmacy}, "practitioner": practitioner,
                "encounter": encounter, "clinicalNotes": clinical,
                "observations": observations, "medicationsSupplied": medications});
                if let Some(code) = complaint {
                    data["presentingComplaint"] = json!({"code": code, "display": "A complaint"});
                }
                if let Some(v) = version {
                    data["version"] = json!(v);
                    data["replaces"] = json!({"eventId": "an-earlier-event"});
                }
                data
            },
        )
}

fn document() -> impl Strategy<Value = Value> {
    (
        patient(),
        proptest::option::of(practitioner()),
        ("[A-Z]{2}[0-9]{3}", label(), label()),
        prop_oneof!["371531000", "325871000000103", "734163000"],
        proptest::option::of(Just("789718008")),
        proptest::collection::vec(any::<u8>(), 0..2000),
    )
        .prop_map(|(patient, author, (ods, sender, title), doc_type, care, tail)| {
            let mut pdf = b"%PDF-1.7\n".to_vec();
            pdf.extend(tail);
            let mut data = json!({"patient": patient, "sender": {"odsCode": ods, "name": sender},
                "title": title,
                "documentType": {"code": doc_type, "display": "A document type"},
                "encounterDate": "2026-11-19", "pdfBase64": STANDARD.encode(&pdf)});
            if let Some(a) = author {
                data["author"] = a;
            }
            if let Some(c) = care {
                data["careSetting"] = json!({"code": c, "display": "Cardiology service"});
            }
            data
        })
}

fn map(plugin: &dyn MappingPlugin, event_type: &str, data: Value) -> Outbound {
    let event: CloudEvent = serde_json::from_value(json!({"specversion": "1.0",
        "id": "property-event", "source": "urn:test", "type": event_type, "data": data}))
    .unwrap();
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00Z").unwrap(),
        ids: &ids,
        mailboxes: &AnyOds,
    };
    plugin
        .map(&event, &cx)
        .unwrap_or_else(|e| panic!("valid event refused: {:?}", e.problems))
}

fn assert_checker_accepts(out: &Outbound) {
    let options = ValidateOptions {
        mex_to: Some(&out.mex_to),
        workflow_id: Some(&out.workflow_id),
    };
    let errors: Vec<_> = check_message(&out.body, &options)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn format(json: bool) -> OutputFormat {
    if json {
        OutputFormat::Json
    } else {
        OutputFormat::Xml
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const CONSULTATION: &str = "uk.nhs.pharmacy.consultation.completed.v1";
const DOCUMENT: &str = "uk.nhs.consultation.document.created.v1";

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn valid_consultations_map_to_valid_messages(data in consultation(), json in any::<bool>()) {
        let plugin = UpdateRecordPlugin::new(UpdateRecordOptions::with_format(format(json)));
        assert_checker_accepts(&map(&plugin, CONSULTATION, data));
    }

    #[test]
    fn valid_documents_map_to_valid_messages(
        data in document(),
        json in any::<bool>(),
        legacy in any::<bool>(),
    ) {
        let opts = SendDocumentOptions::default()
            .with_format(format(json))
            .with_legacy_workflow(legacy);
        assert_checker_accepts(&map(&SendDocumentPlugin::new(opts), DOCUMENT, data));
    }
}

proptest! {
    // Each case starts the Python checker: keep the sample small.
    #![proptest_config(config(3))]

    #[test]
    fn a_sample_also_passes_fhir_validate(
        c in consultation(),
        d in document(),
        json in any::<bool>(),
    ) {
        let ur = UpdateRecordPlugin::new(UpdateRecordOptions::with_format(format(json)));
        let sd = SendDocumentPlugin::new(SendDocumentOptions::default().with_format(format(json)));
        for out in [map(&ur, CONSULTATION, c), map(&sd, DOCUMENT, d)] {
            let report = gateway_testkit::fhir_validate::validate_bytes(
                &out.body,
                Some(&out.mex_to),
                Some(&out.workflow_id),
            )
            .unwrap();
            prop_assert!(report.valid && report.output.contains(" 0 error(s)"), "{}", report.output);
        }
    }
}
