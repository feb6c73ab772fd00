//! Output events published to the bus (contract §5): CloudEvents whose `type` is also the AMQP
//! routing key and whose `subject` is the input event id.

use serde::{Deserialize, Serialize};

/// `gpc.message.sent`
pub const SENT: &str = "gpc.message.sent";
/// `gpc.message.delivered`
pub const DELIVERED: &str = "gpc.message.delivered";
/// `gpc.message.infack`
pub const INFACK: &str = "gpc.message.infack";
/// `gpc.message.busack`
pub const BUSACK: &str = "gpc.message.busack";
/// `gpc.message.failed`
pub const FAILED: &str = "gpc.message.failed";

/// Stage at which a message failed for good (contract §5 `stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureStage {
    /// The input could not be read (not JSON, not a CloudEvent, unknown type).
    Input,
    /// The event could not be mapped to a valid GP Connect message.
    Mapping,
    /// MESH refused the message.
    MeshSend,
    /// MESH reported a routing or delivery failure.
    MeshReport,
    /// Negative ITK3 infrastructure acknowledgement.
    Infack,
    /// Negative ITK3 business acknowledgement.
    Busack,
    /// An acknowledgement did not arrive in time.
    Timeout,
    /// MESH expired the message unread.
    Expired,
}

impl FailureStage {
    /// The contract's string for this stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Mapping => "mapping",
            Self::MeshSend => "mesh-send",
            Self::MeshReport => "mesh-report",
            Self::Infack => "infack",
            Self::Busack => "busack",
            Self::Timeout => "timeout",
            Self::Expired => "expired",
        }
    }
}

/// Data of `gpc.message.sent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentData {
    /// Input event id.
    pub correlation_id: String,
    /// Id MESH gave the message.
    pub mesh_message_id: String,
    /// MESH workflow id.
    pub workflow_id: String,
    /// ITK3 MessageHeader.id.
    pub itk_message_id: String,
    /// Routing address with the patient parts masked.
    pub mex_to: String,
}

/// Data of `gpc.message.delivered`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveredData {
    /// Input event id.
    pub correlation_id: String,
    /// Id MESH gave the message.
    pub mesh_message_id: String,
    /// MESH tracking status, e.g. `acknowledged`.
    pub status: String,
}

/// Data of `gpc.message.infack` and `gpc.message.busack`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AckData {
    /// Input event id.
    pub correlation_id: String,
    /// Positive or negative response.
    pub positive: bool,
    /// ITK3 response code, e.g. "20013".
    pub code: String,
    /// Display text of the code.
    pub display: String,
    /// OperationOutcome diagnostics (infrastructure acks), free of patient data by ITK rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
}

/// Data of `gpc.message.failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedData {
    /// Input event id (or the id the gateway derived for file inputs).
    pub correlation_id: String,
    /// Where it failed.
    pub stage: FailureStage,
    /// Machine code (ITK code, MESH code, or a gateway code such as `invalid-event`).
    pub code: String,
    /// A sentence a person can act on. Never contains patient data.
    pub reason: String,
    /// Always false: failed events are terminal.
    pub retryable: bool,
}

/// Masks a `GPPROVIDER_<nhs>_<dob>_<surname>` address as the contract shows:
/// `GPPROVIDER_******0009_********_S****`. Other addresses (mailbox ids) are returned unchanged.
pub fn mask_mex_to(mex_to: &str) -> String {
    let Some(rest) = mex_to.strip_prefix("GPPROVIDER_") else {
        return mex_to.to_string();
    };
    let mut parts = rest.splitn(3, '_');
    let nhs = parts.next().unwrap_or_default();
    let dob = parts.next().unwrap_or_default();
    let surname = parts.next().unwrap_or_default();
    let keep = nhs.len().saturating_sub(4);
    let nhs_masked: String = nhs
        .chars()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { c })
        .collect();
    let dob_masked = "*".repeat(dob.chars().count());
    let mut sur = surname.chars();
    let sur_masked = match sur.next() {
        Some(first) => format!("{first}{}", "*".repeat(sur.count())),
        None => String::new(),
    };
    format!("GPPROVIDER_{nhs_masked}_{dob_masked}_{sur_masked}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_routing_address_like_the_contract() {
        assert_eq!(
            mask_mex_to("GPPROVIDER_9000000009_19700101_Smith"),
            "GPPROVIDER_******0009_********_S****"
        );
        assert_eq!(mask_mex_to("GPPRAC01"), "GPPRAC01");
    }

    #[test]
    fn stage_serialises_as_contract_strings() {
        let s = serde_json::to_string(&FailureStage::MeshSend).unwrap();
        assert_eq!(s, "\"mesh-send\"");
        assert_eq!(FailureStage::MeshReport.as_str(), "mesh-report");
    }
}
