//! Reading the ITK3 header of any message (payload or response): the ids the gateway correlates
//! on, without interpreting the payload.

use crate::envelope::HANDLING_URL;
use crate::response::ResponseError;
use crate::xmldom;

/// The header facts of an ITK3 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderInfo {
    /// `MessageHeader.id`.
    pub message_id: String,
    /// `MessageHeader.event.code` (ITK014M, ITK007C, ITK008M, …).
    pub event_code: String,
    /// Handling key SenderReference (`None` when absent or the ITK default `None`).
    pub sender_reference: Option<String>,
    /// `MessageHeader.source.endpoint` (the sender's MESH mailbox).
    pub source_endpoint: Option<String>,
    /// Outer `Bundle.identifier.value`.
    pub bundle_identifier: Option<String>,
}

/// Reads the header of an ITK3 message (FHIR XML or FHIR JSON).
///
/// # Errors
/// [`ResponseError::Xml`] for unreadable XML or JSON; [`ResponseError::Missing`] when there is no
/// MessageHeader, or it has no id or event code.
pub fn read_header(xml: &[u8]) -> Result<HeaderInfo, ResponseError> {
    let root = xmldom::parse_message(xml)?;
    let header = root
        .first_resource("MessageHeader")
        .ok_or(ResponseError::Missing("MessageHeader"))?;
    let message_id = header
        .value_at(&["id"])
        .ok_or(ResponseError::Missing("MessageHeader.id"))?
        .to_owned();
    let event_code = header
        .value_at(&["event", "code"])
        .ok_or(ResponseError::Missing("MessageHeader.event.code"))?
        .to_owned();
    let sender_reference = header
        .extension(HANDLING_URL)
        .and_then(|h| h.extension("SenderReference"))
        .and_then(|s| s.value_at(&["valueString"]))
        .filter(|s| !s.is_empty() && *s != "None")
        .map(str::to_owned);
    Ok(HeaderInfo {
        message_id,
        event_code,
        sender_reference,
        source_endpoint: header.value_at(&["source", "endpoint"]).map(str::to_owned),
        bundle_identifier: root.value_at(&["identifier", "value"]).map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_official_example_header() {
        let path = gateway_testkit::fhir_validate::shared_dir()
            .join("fixtures/itk3/update-record/pharmacy-first-service--example-1.xml");
        let xml = std::fs::read(path).unwrap();
        let h = read_header(&xml).unwrap();
        assert_eq!(h.message_id, "108805b4-32df-464d-a0a6-11c37afd74f2");
        assert_eq!(h.event_code, "ITK014M");
        assert_eq!(
            h.sender_reference.as_deref(),
            Some("urn:uuid:1cd20c60-4407-4e7d-8572-82db1b125eaf")
        );
        assert_eq!(h.source_endpoint.as_deref(), Some("SENDER_MESH_MAILBOX_ID"));
        assert_eq!(
            h.bundle_identifier.as_deref(),
            Some("minor-illness-common-conditions-service--example-1")
        );
    }

    #[test]
    fn missing_header_is_an_error() {
        let xml = br#"<Bundle xmlns="http://hl7.org/fhir"><type value="message"/></Bundle>"#;
        assert!(matches!(
            read_header(xml),
            Err(ResponseError::Missing("MessageHeader"))
        ));
        assert!(matches!(read_header(b"<x"), Err(ResponseError::Xml(_))));
    }
}
