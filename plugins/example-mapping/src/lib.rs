//! Example mapping plugin: how a third party maps its own event type to a GP Connect message
//! with the gateway's builders. See `README.md` ("Writing a mapping plugin").
//!
//! The event `uk.example.minor-ailment.v1` is a minor-ailment consultation in a supplier's own
//! shape (flat names, `sex` as `M`/`F`, one-line forenames). [`MinorAilmentPlugin`] reads it,
//! translates it into the gateway's typed [`ConsultationCompleted`] (service Pharmacy First) and
//! hands that to [`UpdateRecordPlugin::map_consultation`], which applies the clinical rules,
//! builds the ITK3 Update Record message, runs the sender checklist on it and derives the MESH
//! headers. The plugin only owns the translation — and reports every bad field of *its* event
//! by name, never quoting values.

use gateway_core::{MapContext, MapError, MappingPlugin, Outbound};
use gateway_plugin_gp_connect::{UpdateRecordOptions, UpdateRecordPlugin};
use gateway_proto::CloudEvent;
use gateway_proto::consultation::{
    ClinicalNotes, Coded, ConsultationCompleted, EncounterTimes, Gender, MedicationSupplied,
    Patient, Pharmacy, Practitioner, Service, SupplyQuantity,
};
use serde_json::Value;

/// The CloudEvent type this plugin maps.
pub const EVENT_TYPE: &str = "uk.example.minor-ailment.v1";
/// Route id (appears in the store, events and `gpc-gateway map --route`).
pub const ROUTE: &str = "minor-ailment";

/// Maps `uk.example.minor-ailment.v1` events to GP Connect Update Record messages.
#[derive(Debug, Clone, Default)]
pub struct MinorAilmentPlugin {
    update_record: UpdateRecordPlugin,
}

impl MinorAilmentPlugin {
    /// A plugin whose messages use these Update Record options (output format).
    pub fn new(opts: UpdateRecordOptions) -> Self {
        Self {
            update_record: UpdateRecordPlugin::new(opts),
        }
    }
}

impl MappingPlugin for MinorAilmentPlugin {
    fn id(&self) -> &'static str {
        ROUTE
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[EVENT_TYPE]
    }

    fn map(&self, event: &CloudEvent, cx: &MapContext<'_>) -> Result<Outbound, MapError> {
        if event.event_type != EVENT_TYPE {
            return Err(MapError::new(
                "unknown-type",
                format!("route {ROUTE} maps {EVENT_TYPE} only"),
            ));
        }
        let consultation =
            translate(&event.data).map_err(|p| MapError::many("invalid-event", p))?;
        let mut out = self
            .update_record
            .map_consultation(&event.id, &consultation, cx)?;
        out.route = ROUTE.to_owned();
        Ok(out)
    }
}

/// Reads the supplier's fields, collecting every problem.
struct Reader<'a> {
    data: &'a Value,
    problems: Vec<String>,
}

impl Reader<'_> {
    /// A required, non-empty string at a JSON pointer (`/pharmacist/surname`).
    fn text(&mut self, pointer: &str) -> String {
        match self.data.pointer(pointer).and_then(Value::as_str) {
            Some(s) if !s.trim().is_empty() => s.to_owned(),
            _ => {
                self.problems.push(format!(
                    "data{} is required (a non-empty string)",
                    dotted(pointer)
                ));
                String::new()
            }
        }
    }

    /// An optional string.
    fn opt_text(&mut self, pointer: &str) -> Option<String> {
        match self.data.pointer(pointer) {
            None => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(_) => {
                self.problems.push(format!(
                    "data{} must be a non-empty string",
                    dotted(pointer)
                ));
                None
            }
        }
    }

    /// A required positive number.
    fn number(&mut self, pointer: &str) -> f64 {
        match self.data.pointer(pointer).and_then(Value::as_f64) {
            Some(n) if n > 0.0 => n,
            _ => {
                self.problems.push(format!(
                    "data{} is required (a number above zero)",
                    dotted(pointer)
                ));
                0.0
            }
        }
    }
}

/// `/pharmacist/surname` → `.pharmacist.surname`; `/supplied/0/dmd` → `.supplied[0].dmd`.
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|part| match part.parse::<usize>() {
            Ok(i) => format!("[{i}]"),
            Err(_) => format!(".{part}"),
        })
        .collect()
}

/// The supplier's event `data` → the gateway's consultation.
///
/// # Errors
/// One problem per bad field, named as in the supplier's event (`data.sex …`).
pub fn translate(data: &Value) -> Result<ConsultationCompleted, Vec<String>> {
    let mut r = Reader {
        data,
        problems: Vec::new(),
    };
    let gender = match r.text("/sex").as_str() {
        "M" => Gender::Male,
        "F" => Gender::Female,
        "X" => Gender::Other,
        "U" | "" => Gender::Unknown,
        _ => {
            r.problems.push("data.sex must be one of M, F, X, U".into());
            Gender::Unknown
        }
    };
    let names = |s: Option<String>| -> Vec<String> {
        s.map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let patient = Patient {
        nhs_number: r.text("/nhsNumber"),
        family: r.text("/surname"),
        given: names(r.opt_text("/forenames")),
        birth_date: r.text("/dateOfBirth"),
        gender,
        address: None,
        postcode: r.opt_text("/postcode"),
    };
    let practitioner = Practitioner {
        family: r.text("/pharmacist/surname"),
        given: names(r.opt_text("/pharmacist/forenames")),
        gphc_number: r.opt_text("/pharmacist/gphc"),
        sds_user_id: None,
        role: None,
    };
    let complaint = data.pointer("/condition").map(|_| Coded {
        code: r.text("/condition/snomed"),
        display: r.text("/condition/term"),
    });
    let supplied_count = match data.get("supplied") {
        None => 0,
        Some(Value::Array(items)) => items.len(),
        Some(_) => {
            r.problems.push("data.supplied must be an array".into());
            0
        }
    };
    let medications = (0..supplied_count)
        .map(|i| MedicationSupplied {
            code: r.text(&format!("/supplied/{i}/dmd")),
            display: r.text(&format!("/supplied/{i}/name")),
            quantity: SupplyQuantity {
                value: r.number(&format!("/supplied/{i}/quantity")),
                unit: r.text(&format!("/supplied/{i}/form")),
            },
            dosage_text: r.text(&format!("/supplied/{i}/directions")),
            patient_instruction: r
                .opt_text(&format!("/supplied/{i}/advice"))
                .unwrap_or_else(|| "As directed by your pharmacist".to_owned()),
            // The supplier's scheme always supplies under a patient group direction.
            supply_type: "patient-group-direction".to_owned(),
            days_supply: None,
            declined: false,
        })
        .collect();
    let consultation = ConsultationCompleted {
        service: Service::PharmacyFirst,
        consent: Some(true),
        patient,
        pharmacy: Pharmacy {
            ods_code: r.text("/pharmacyOds"),
            name: r.text("/pharmacyName"),
        },
        practitioner,
        encounter: EncounterTimes {
            start: r.text("/seenAt"),
            end: None,
        },
        presenting_complaint: complaint,
        clinical_notes: ClinicalNotes {
            clinical_summary: r.text("/summary"),
            history: None,
            information_and_advice_given: r.opt_text("/advice"),
            plan_and_requested_actions: None,
            red_flags: None,
            signpost_details: None,
        },
        observations: Vec::new(),
        medications_supplied: medications,
        version: None,
        replaces: None,
    };
    if r.problems.is_empty() {
        Ok(consultation)
    } else {
        Err(r.problems)
    }
}
