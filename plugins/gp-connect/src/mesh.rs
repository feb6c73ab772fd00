//! MESH metadata of GP Connect messages (spec §4.5, §5.6, §5.7, §8). Each header has one
//! function so that a receiver-driven format change (e.g. the date-of-birth format in `Mex-To`,
//! §12 #15) is a single edit.

/// MESH workflow of Update Record messages.
pub const WORKFLOW_ID: &str = "GPCONNECT_UPDATE_RECORD";
/// MESH workflow of the responses to them.
pub const ACK_WORKFLOW_ID: &str = "GPCONNECT_UPDATE_RECORD_ACK";
/// MESH workflow of Send Document 2.x (the default for Send Document routes).
pub const SEND_DOCUMENT_WORKFLOW_ID: &str = "GPCONNECT_SEND_DOCUMENT";
/// MESH workflow of the responses to Send Document 2.x.
pub const SEND_DOCUMENT_ACK_WORKFLOW_ID: &str = "GPCONNECT_SEND_DOCUMENT_ACK";
/// Legacy (GP Connect Messaging 1.x) Send Document workflow, selectable per route.
pub const LEGACY_SEND_DOCUMENT_WORKFLOW_ID: &str = "GPFED_CONSULT_REPORT";
/// MESH workflow of the responses to legacy Send Document messages.
pub const LEGACY_SEND_DOCUMENT_ACK_WORKFLOW_ID: &str = "GPFED_CONSULT_REPORT_ACK";
/// Content type of the payload (FHIR STU3 XML, the wire format).
pub const CONTENT_TYPE: &str = "application/fhir+xml";
/// Content type of a FHIR STU3 JSON payload.
pub const CONTENT_TYPE_JSON: &str = "application/fhir+json";

/// The MESH workflows a message with this ITK3 event may travel on (empty for other events).
pub fn workflows_for_event(event_code: &str) -> &'static [&'static str] {
    match event_code {
        "ITK014M" => &[WORKFLOW_ID],
        "ITK007C" => &[SEND_DOCUMENT_WORKFLOW_ID, LEGACY_SEND_DOCUMENT_WORKFLOW_ID],
        "ITK008M" => &[
            ACK_WORKFLOW_ID,
            SEND_DOCUMENT_ACK_WORKFLOW_ID,
            LEGACY_SEND_DOCUMENT_ACK_WORKFLOW_ID,
        ],
        _ => &[],
    }
}
/// Longest `Mex-To` MESH accepts.
pub const MAX_MEX_TO_CHARS: usize = 100;
/// Longest `Mex-Subject` sent.
pub const MAX_SUBJECT_CHARS: usize = 500;

/// `Mex-To` for MESH automated GP routing: `GPPROVIDER_<nhs>_<YYYYMMDD>_<surname>`.
/// `birth_date` is the FHIR date `YYYY-MM-DD`. The result contains patient data: never log it.
pub fn mex_to(nhs_number: &str, birth_date: &str, surname: &str) -> String {
    let dob: String = birth_date.chars().filter(char::is_ascii_digit).collect();
    format!(
        "GPPROVIDER_{}_{dob}_{}",
        nhs_number.trim(),
        single_line(surname.trim())
    )
}

/// `Mex-Subject`: `[payload-title] for [patient-name], NHS Number: [nhs-number], seen at
/// [practice-name], ODS code: [ods-code], version [version]`, without control characters and
/// cut to [`MAX_SUBJECT_CHARS`]. Contains patient data: never log it.
pub fn mex_subject(
    title: &str,
    patient_name: &str,
    nhs_number: &str,
    practice_name: &str,
    ods_code: &str,
    version: u32,
) -> String {
    let subject = format!(
        "{title} for {patient_name}, NHS Number: {nhs_number}, seen at {practice_name}, \
         ODS code: {ods_code}, version {version}"
    );
    single_line(&subject)
        .chars()
        .take(MAX_SUBJECT_CHARS)
        .collect()
}

/// `Mex-Subject` of a legacy (GP Connect Messaging 1.x) Send Document message: `[title] for
/// [patient-name], NHS Number [nhs-number], seen at [practice-name], ODS Code [ods-code]` (the
/// v1 format names the title "Consultation report"). Contains patient data: never log it.
pub fn legacy_mex_subject(
    title: &str,
    patient_name: &str,
    nhs_number: &str,
    practice_name: &str,
    ods_code: &str,
) -> String {
    let subject = format!(
        "{title} for {patient_name}, NHS Number {nhs_number}, seen at {practice_name}, \
         ODS Code {ods_code}"
    );
    single_line(&subject)
        .chars()
        .take(MAX_SUBJECT_CHARS)
        .collect()
}

/// `Mex-FileName` of an Update Record message in FHIR XML.
pub fn file_name(itk_message_id: &str) -> String {
    file_name_for("update-record", itk_message_id, "xml")
}

/// `Mex-FileName` `<route>-<MessageHeader.id>.<extension>`.
pub fn file_name_for(route: &str, itk_message_id: &str, extension: &str) -> String {
    format!("{route}-{itk_message_id}.{extension}")
}

/// Replaces control characters (which would break a header line) by spaces.
fn single_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_address_subject_and_file_name() {
        assert_eq!(
            mex_to("9000000009", "1970-01-01", "Smith"),
            "GPPROVIDER_9000000009_19700101_Smith"
        );
        let s = mex_subject("T", "John Smith", "9000000009", "P\nQ", "FA001", 1);
        assert_eq!(
            s,
            "T for John Smith, NHS Number: 9000000009, seen at P Q, ODS code: FA001, version 1"
        );
        let long = mex_subject(&"x".repeat(600), "a", "b", "c", "d", 1);
        assert_eq!(long.chars().count(), MAX_SUBJECT_CHARS);
        assert_eq!(file_name("abc"), "update-record-abc.xml");
        assert_eq!(
            file_name_for("send-document", "abc", "json"),
            "send-document-abc.json"
        );
        assert_eq!(
            legacy_mex_subject(
                "Consultation report",
                "John Smith",
                "9000000009",
                "P",
                "FA001"
            ),
            "Consultation report for John Smith, NHS Number 9000000009, seen at P, ODS Code FA001"
        );
        assert_eq!(workflows_for_event("ITK007C").len(), 2);
        assert!(workflows_for_event("ITK099X").is_empty());
    }
}
