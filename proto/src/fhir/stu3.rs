//! The FHIR STU3 (3.0.x) definitions of the resources and datatypes ITK3 / GP Connect messages
//! use: for every type, its children in definition order with their cardinality and type (spec
//! itk3-gpconnect §10.2). Writers check their trees against it ([`super::order`]) and readers of
//! unknown messages use it to type the elements they meet (the gateway's validator).
//!
//! Each child is written `name[*]:Type`: `*` marks a repeating element (a JSON array), a name
//! ending `[x]` is a choice whose types are separated by `|` (`*` = any type, the extension
//! value). Primitive types start with a lower-case letter; `Resource` is a resource slot.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// Children every resource inherits (`Bundle`, `Binary`).
const RESOURCE: &str = "id:id meta:Meta implicitRules:uri language:code";
/// Children every domain resource inherits.
const DOMAIN_RESOURCE: &str = "id:id meta:Meta implicitRules:uri language:code text:Narrative \
     contained*:Resource extension*:Extension modifierExtension*:Extension";
/// Children every datatype inherits (`Element.id` is an XML attribute).
const DATATYPE: &str = "extension*:Extension";
/// Children every backbone element inherits.
const BACKBONE: &str = "extension*:Extension modifierExtension*:Extension";

const OBS_VALUE: &str = "Quantity|CodeableConcept|string|boolean|Range|Ratio|SampledData|\
     Attachment|time|dateTime|Period";

/// Own children of a type, without the inherited prefix.
fn own(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "Bundle" => {
            "identifier:Identifier type:code total:unsignedInt link*:Bundle.link \
             entry*:Bundle.entry signature:Signature"
        }
        "Bundle.link" => "relation:string url:uri",
        "Bundle.entry" => {
            "link*:Bundle.link fullUrl:uri resource:Resource search:Bundle.entry.search \
             request:Bundle.entry.request response:Bundle.entry.response"
        }
        "Binary" => "contentType:code securityContext:Reference content:base64Binary",
        "MessageHeader" => {
            "event:Coding destination*:MessageHeader.destination receiver:Reference \
             sender:Reference timestamp:instant enterer:Reference author:Reference \
             source:MessageHeader.source responsible:Reference reason:CodeableConcept \
             response:MessageHeader.response focus*:Reference"
        }
        "MessageHeader.destination" => "name:string target:Reference endpoint:uri",
        "MessageHeader.source" => {
            "name:string software:string version:string contact:ContactPoint endpoint:uri"
        }
        "MessageHeader.response" => "identifier:id code:code details:Reference",
        "Organization" => {
            "identifier*:Identifier active:boolean type*:CodeableConcept name:string \
             alias*:string telecom*:ContactPoint address*:Address partOf:Reference \
             contact*:Organization.contact endpoint*:Reference"
        }
        "Composition" => {
            "identifier:Identifier status:code type:CodeableConcept class:CodeableConcept \
             subject:Reference encounter:Reference date:dateTime author*:Reference title:string \
             confidentiality:code attester*:Composition.attester custodian:Reference \
             relatesTo*:Composition.relatesTo event*:Composition.event \
             section*:Composition.section"
        }
        "Composition.attester" => "mode*:code time:dateTime party:Reference",
        "Composition.relatesTo" => "code:code target[x]:Identifier|Reference",
        "Composition.event" => "code*:CodeableConcept period:Period detail*:Reference",
        "Composition.section" => {
            "title:string code:CodeableConcept text:Narrative mode:code \
             orderedBy:CodeableConcept entry*:Reference emptyReason:CodeableConcept \
             section*:Composition.section"
        }
        "Encounter" => {
            "identifier*:Identifier status:code statusHistory*:Encounter.statusHistory \
             class:Coding classHistory*:Encounter.classHistory type*:CodeableConcept \
             priority:CodeableConcept subject:Reference episodeOfCare*:Reference \
             incomingReferral*:Reference participant*:Encounter.participant \
             appointment:Reference period:Period length:Duration reason*:CodeableConcept \
             diagnosis*:Encounter.diagnosis account*:Reference \
             hospitalization:Encounter.hospitalization location*:Encounter.location \
             serviceProvider:Reference partOf:Reference"
        }
        "Encounter.participant" => "type*:CodeableConcept period:Period individual:Reference",
        "Encounter.location" => "location:Reference status:code period:Period",
        "Patient" => {
            "identifier*:Identifier active:boolean name*:HumanName telecom*:ContactPoint \
             gender:code birthDate:date deceased[x]:boolean|dateTime address*:Address \
             maritalStatus:CodeableConcept multipleBirth[x]:boolean|integer \
             photo*:Attachment contact*:Patient.contact animal:Patient.animal \
             communication*:Patient.communication generalPractitioner*:Reference \
             managingOrganization:Reference link*:Patient.link"
        }
        "Practitioner" => {
            "identifier*:Identifier active:boolean name*:HumanName telecom*:ContactPoint \
             address*:Address gender:code birthDate:date photo*:Attachment \
             qualification*:Practitioner.qualification communication*:CodeableConcept"
        }
        "PractitionerRole" => {
            "identifier*:Identifier active:boolean period:Period practitioner:Reference \
             organization:Reference code*:CodeableConcept specialty*:CodeableConcept \
             location*:Reference healthcareService*:Reference telecom*:ContactPoint \
             availableTime*:PractitionerRole.availableTime \
             notAvailable*:PractitionerRole.notAvailable availabilityExceptions:string \
             endpoint*:Reference"
        }
        "Observation" => {
            "identifier*:Identifier basedOn*:Reference status:code category*:CodeableConcept \
             code:CodeableConcept subject:Reference context:Reference \
             effective[x]:dateTime|Period issued:instant performer*:Reference value[x]:OBS \
             dataAbsentReason:CodeableConcept interpretation:CodeableConcept comment:string \
             bodySite:CodeableConcept method:CodeableConcept specimen:Reference \
             device:Reference referenceRange*:Observation.referenceRange \
             related*:Observation.related component*:Observation.component"
        }
        "Observation.referenceRange" => {
            "low:Quantity high:Quantity type:CodeableConcept appliesTo*:CodeableConcept \
             age:Range text:string"
        }
        "Observation.component" => {
            "code:CodeableConcept value[x]:OBS dataAbsentReason:CodeableConcept \
             interpretation:CodeableConcept referenceRange*:Observation.referenceRange"
        }
        "MedicationDispense" => {
            "identifier*:Identifier partOf*:Reference status:code category:CodeableConcept \
             medication[x]:CodeableConcept|Reference subject:Reference context:Reference \
             supportingInformation*:Reference performer*:MedicationDispense.performer \
             authorizingPrescription*:Reference type:CodeableConcept quantity:Quantity \
             daysSupply:Quantity whenPrepared:dateTime whenHandedOver:dateTime \
             destination:Reference receiver*:Reference note*:Annotation dosageInstruction*:Dosage \
             substitution:MedicationDispense.substitution detectedIssue*:Reference \
             notDone:boolean notDoneReason[x]:CodeableConcept|Reference eventHistory*:Reference"
        }
        "MedicationDispense.performer" => "actor:Reference onBehalfOf:Reference",
        "Dosage" => {
            "sequence:integer text:string additionalInstruction*:CodeableConcept \
             patientInstruction:string timing:Timing asNeeded[x]:boolean|CodeableConcept \
             site:CodeableConcept route:CodeableConcept method:CodeableConcept \
             dose[x]:Range|Quantity maxDosePerPeriod:Ratio maxDosePerAdministration:Quantity \
             maxDosePerLifetime:Quantity rate[x]:Ratio|Range|Quantity"
        }
        "Condition" => {
            "identifier*:Identifier clinicalStatus:code verificationStatus:code \
             category*:CodeableConcept severity:CodeableConcept code:CodeableConcept \
             bodySite*:CodeableConcept subject:Reference context:Reference \
             onset[x]:dateTime|Age|Period|Range|string \
             abatement[x]:dateTime|Age|boolean|Period|Range|string assertedDate:dateTime \
             asserter:Reference stage:Condition.stage evidence*:Condition.evidence \
             note*:Annotation"
        }
        "ClinicalImpression" => {
            "identifier*:Identifier status:code code:CodeableConcept description:string \
             subject:Reference context:Reference effective[x]:dateTime|Period date:dateTime \
             assessor:Reference previous:Reference problem*:Reference \
             investigation*:ClinicalImpression.investigation protocol*:uri summary:string \
             finding*:ClinicalImpression.finding prognosisCodeableConcept*:CodeableConcept \
             prognosisReference*:Reference action*:Reference note*:Annotation"
        }
        "OperationOutcome" => "issue*:OperationOutcome.issue",
        "OperationOutcome.issue" => {
            "severity:code code:code details:CodeableConcept diagnostics:string \
             location*:string expression*:string"
        }
        "Meta" => "versionId:id lastUpdated:instant profile*:uri security*:Coding tag*:Coding",
        "Extension" => "value[x]:*",
        "Identifier" => {
            "use:code type:CodeableConcept system:uri value:string period:Period \
             assigner:Reference"
        }
        "CodeableConcept" => "coding*:Coding text:string",
        "Coding" => "system:uri version:string code:code display:string userSelected:boolean",
        "Quantity" | "Age" | "Duration" | "Count" | "Distance" | "Money" => {
            "value:decimal comparator:code unit:string system:uri code:code"
        }
        "Range" => "low:Quantity high:Quantity",
        "Ratio" => "numerator:Quantity denominator:Quantity",
        "Reference" => "reference:string identifier:Identifier display:string",
        "HumanName" => {
            "use:code text:string family:string given*:string prefix*:string suffix*:string \
             period:Period"
        }
        "Address" => {
            "use:code type:code text:string line*:string city:string district:string \
             state:string postalCode:string country:string period:Period"
        }
        "ContactPoint" => "system:code value:string use:code rank:positiveInt period:Period",
        "Period" => "start:dateTime end:dateTime",
        "Narrative" => "status:code div:xhtml",
        "Attachment" => {
            "contentType:code language:code data:base64Binary url:uri size:unsignedInt \
             hash:base64Binary title:string creation:dateTime"
        }
        "Annotation" => "author[x]:Reference|string time:dateTime text:string",
        _ => return None,
    })
}

/// Inherited prefix of a type in the table.
fn prefix(ty: &str) -> &'static str {
    match ty {
        "Bundle" | "Binary" => RESOURCE,
        t if t.contains('.') => BACKBONE,
        t if is_resource(t) => DOMAIN_RESOURCE,
        _ => DATATYPE,
    }
}

/// True for the resource types of the table.
pub fn is_resource(ty: &str) -> bool {
    RESOURCE_TYPES.contains(&ty)
}

/// The resource types of the table.
const RESOURCE_TYPES: &[&str] = &[
    "Bundle",
    "Binary",
    "MessageHeader",
    "Organization",
    "Composition",
    "Encounter",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Observation",
    "MedicationDispense",
    "Condition",
    "ClinicalImpression",
    "OperationOutcome",
];

/// True for primitive types (lower-case initial, as FHIR names them).
pub fn is_primitive(ty: &str) -> bool {
    ty.starts_with(|c: char| c.is_ascii_lowercase())
}

/// True when the table defines `ty` (cheaper than [`children_of`] when only that is asked).
pub fn is_known(ty: &str) -> bool {
    own(ty).is_some()
}

type Slot = (&'static str, bool, &'static str);
type SlotCache = RwLock<HashMap<String, Option<Arc<Vec<Slot>>>>>;

/// [`slots`] tokenised once per type: validation looks children up for every node of every
/// message, and re-splitting the definition strings each time dominated its cost.
fn cached_slots(ty: &str) -> Option<Arc<Vec<Slot>>> {
    static CACHE: OnceLock<SlotCache> = OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    if let Ok(map) = cache.read()
        && let Some(hit) = map.get(ty)
    {
        return hit.clone();
    }
    let built = slots(ty).map(|it| Arc::new(it.collect::<Vec<_>>()));
    if let Ok(mut map) = cache.write() {
        map.insert(ty.to_string(), built.clone());
    }
    built
}

/// One child slot of a type: `(name as written, repeats, types)`, `name` keeping a `[x]`.
fn slots(ty: &str) -> Option<impl Iterator<Item = (&'static str, bool, &'static str)>> {
    let own = own(ty)?;
    Some(
        prefix(ty)
            .split_whitespace()
            .chain(own.split_whitespace())
            .map(|entry| {
                let (name, types) = entry.split_once(':').unwrap_or((entry, ""));
                let types = if types == "OBS" { OBS_VALUE } else { types };
                match name.strip_suffix('*') {
                    Some(base) => (base, true, types),
                    None => (name, false, types),
                }
            }),
    )
}

/// Every child name of an STU3 type in order (inherited prefix first), `None` for types outside
/// the table. `*` marks repeating elements, `[x]` choice elements.
pub fn children_of(ty: &str) -> Option<Vec<&'static str>> {
    let own = own(ty)?;
    Some(
        prefix(ty)
            .split_whitespace()
            .chain(own.split_whitespace())
            .map(|entry| entry.split_once(':').map_or(entry, |(name, _)| name))
            .collect(),
    )
}

/// What the definitions say about one child element of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildInfo {
    /// Position in the definition order.
    pub index: usize,
    /// The element may repeat.
    pub repeats: bool,
    /// Its type: a datatype, backbone path, primitive (`dateTime`) or `Resource`.
    pub ty: &'static str,
}

/// The child `name` of type `parent` (choice elements by their typed name, `valueQuantity`),
/// `None` when the type is outside the table or has no such child.
pub fn child(parent: &str, name: &str) -> Option<ChildInfo> {
    match reachable_slots().get(parent) {
        Some(slots) => find_child(slots, name),
        None => find_child(&cached_slots(parent)?, name),
    }
}

fn find_child(slots: &[Slot], name: &str) -> Option<ChildInfo> {
    slots
        .iter()
        .copied()
        .enumerate()
        .find_map(|(index, (slot, repeats, types))| {
            let ty = match slot.strip_suffix("[x]") {
                None => (slot == name).then_some(types)?,
                Some(stem) => choice_type(name.strip_prefix(stem)?, types)?,
            };
            Some(ChildInfo { index, repeats, ty })
        })
}

/// The slots of every type reachable from the resources of the table, built once and read
/// without a lock: the validator looks up every element of every message it checks.
fn reachable_slots() -> &'static HashMap<&'static str, Vec<Slot>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<Slot>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        let mut todo: Vec<&'static str> = RESOURCE_TYPES.to_vec();
        while let Some(ty) = todo.pop() {
            if table.contains_key(ty) {
                continue;
            }
            let Some(slots) = slots(ty) else {
                continue;
            };
            let slots: Vec<Slot> = slots.collect();
            for &(_, _, types) in &slots {
                let types = if types == "*" { ANY_TYPE } else { types };
                todo.extend(types.split('|').map(str::trim));
            }
            table.insert(ty, slots);
        }
        table
    })
}

/// Type named by a choice suffix (`Quantity`, `DateTime` → `dateTime`) if `allowed` lists it.
fn choice_type(suffix: &str, allowed: &'static str) -> Option<&'static str> {
    if !suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    let candidates = if allowed == "*" { ANY_TYPE } else { allowed };
    candidates.split('|').find(|t| {
        let mut a = t.chars();
        let mut b = suffix.chars();
        matches!((a.next(), b.next()), (Some(x), Some(y)) if x.eq_ignore_ascii_case(&y)) && a.eq(b)
    })
}

/// Types an extension value may take (STU3 `Extension.value[x]`), those the table knows first.
const ANY_TYPE: &str = "boolean|integer|decimal|base64Binary|instant|string|uri|date|dateTime|\
     time|code|oid|id|unsignedInt|positiveInt|markdown|Annotation|Attachment|Identifier|\
     CodeableConcept|Coding|Quantity|Range|Period|Ratio|SampledData|Signature|HumanName|Address|\
     ContactPoint|Timing|Reference|Meta";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_free_table_agrees_with_the_definitions() {
        let table = reachable_slots();
        assert!(table.contains_key("Bundle.entry"));
        assert!(table.contains_key("CodeableConcept"));
        for (ty, slots) in table {
            let direct: Vec<Slot> = slots_of_definition(ty);
            assert_eq!(slots, &direct, "{ty}");
        }
    }

    fn slots_of_definition(ty: &str) -> Vec<Slot> {
        slots(ty).map(Iterator::collect).unwrap_or_default()
    }

    #[test]
    fn children_types_and_choices() {
        let c = child("MessageHeader", "focus").unwrap();
        assert!(c.repeats);
        assert_eq!(c.ty, "Reference");
        assert_eq!(child("Extension", "valueBoolean").unwrap().ty, "boolean");
        assert_eq!(child("Extension", "valueCoding").unwrap().ty, "Coding");
        assert_eq!(
            child("Observation", "effectiveDateTime").unwrap().ty,
            "dateTime"
        );
        assert_eq!(
            child("Composition.relatesTo", "targetIdentifier")
                .unwrap()
                .ty,
            "Identifier"
        );
        assert!(child("Observation", "valueFoo").is_none());
        assert!(child("Observation", "value").is_none());
        assert!(child("Bundle", "foo").is_none());
        assert_eq!(child("Bundle.entry", "resource").unwrap().ty, "Resource");
        assert_eq!(child("Patient", "id").unwrap().index, 0);
        assert!(
            child("Patient", "extension").unwrap().index > child("Patient", "text").unwrap().index
        );
        assert!(is_primitive("dateTime") && !is_primitive("Coding"));
        assert!(is_resource("Binary") && !is_resource("Coding"));
        let names = children_of("Period").unwrap();
        assert_eq!(names, vec!["extension*", "start", "end"]);
    }
}
