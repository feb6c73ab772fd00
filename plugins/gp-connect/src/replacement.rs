//! Replacement documents (spec §3.6): `data.version` and `data.replaces` become
//! `Composition.meta.versionId`, `Composition.relatesTo { replaces, targetIdentifier }` and the
//! version in `Mex-Subject`. See [`gateway_proto::replacement`] for the event fields.

use gateway_core::{IdSource, SeededIds};
use gateway_proto::fhir::Node;
use gateway_proto::fhir::datatypes::identifier;
use gateway_proto::replacement::Replacement;

use crate::checks::is_uuid;
use crate::envelope::UUID_SYSTEM;

/// The ids every payload message draws first, in this order (the rest follow per use case).
pub(crate) struct MessageIds {
    /// Message Bundle id and identifier.
    pub(crate) bundle: String,
    /// MessageHeader.id.
    pub(crate) header: String,
    /// Header Organization id.
    pub(crate) header_org: String,
    /// Document Bundle id and identifier (the document identifier).
    pub(crate) document: String,
}

impl MessageIds {
    pub(crate) fn draw(ids: &dyn IdSource) -> Self {
        Self {
            bundle: ids.next_uuid().to_string(),
            header: ids.next_uuid().to_string(),
            header_org: ids.next_uuid().to_string(),
            document: ids.next_uuid().to_string(),
        }
    }
}

/// The document identifier (document `Bundle.identifier.value`) of the message this gateway
/// builds from the event with id `event_id`: ITK3 ids are derived from the event id
/// ([`SeededIds`]), so a replacement can name its predecessor by event id alone.
pub fn document_identifier_for_event(event_id: &str) -> String {
    MessageIds::draw(&SeededIds::new(event_id)).document
}

/// Version and replaced document of one message, after [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Versioning {
    /// 1, 2, …
    pub(crate) version: u32,
    /// Document identifier of the replaced message.
    pub(crate) replaces: Option<String>,
}

/// The rules on `data.version` / `data.replaces`; problems name the fields.
pub(crate) fn check(
    version: Option<u32>,
    replaces: Option<&Replacement>,
    own_event_id: &str,
    problems: &mut Vec<String>,
) {
    if version == Some(0) {
        problems.push("data.version must be 1 or more".into());
    }
    match replaces {
        None if version.is_some_and(|v| v > 1) => problems.push(
            "data.replaces is required when data.version is greater than 1 (a new version \
             replaces an earlier message)"
                .into(),
        ),
        None => {}
        Some(r) => {
            if version == Some(1) {
                problems.push("data.version must be 2 or more for a replacement".into());
            }
            match (&r.event_id, &r.document_identifier) {
                (Some(_), Some(_)) | (None, None) => problems.push(
                    "data.replaces must give exactly one of eventId and documentIdentifier".into(),
                ),
                (Some(e), None) if e.trim() == own_event_id => problems
                    .push("data.replaces.eventId must name an earlier event, not this one".into()),
                (Some(e), None) if e.trim().is_empty() => {
                    problems.push("data.replaces.eventId must not be empty".into());
                }
                (None, Some(d)) if !is_uuid(d.trim()) => problems.push(
                    "data.replaces.documentIdentifier must be a UUID (the document identifier \
                     of the replaced message)"
                        .into(),
                ),
                _ => {}
            }
        }
    }
}

/// Resolves a checked version / replacement.
pub(crate) fn resolve(version: Option<u32>, replaces: Option<&Replacement>) -> Versioning {
    let target = replaces.and_then(|r| match (&r.event_id, &r.document_identifier) {
        (_, Some(d)) => Some(d.trim().to_ascii_lowercase()),
        (Some(e), None) => Some(document_identifier_for_event(e.trim())),
        (None, None) => None,
    });
    let version = version.unwrap_or(if target.is_some() { 2 } else { 1 });
    Versioning {
        version,
        replaces: target,
    }
}

/// `Composition.meta`: versionId, lastUpdated, profile.
pub(crate) fn composition_meta(v: &Versioning, now: &str, profile: &str) -> Node {
    Node::new("Meta")
        .str("versionId", v.version.to_string())
        .str("lastUpdated", now)
        .str_item("profile", profile)
}

/// `Composition.relatesTo` of a replacement.
pub(crate) fn relates_to(v: &Versioning) -> Option<Node> {
    v.replaces.as_deref().map(|target| {
        Node::new("Composition.relatesTo")
            .str("code", "replaces")
            .child("targetIdentifier", identifier(UUID_SYSTEM, target))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(version: Option<u32>, r: Option<Replacement>) -> Vec<String> {
        let mut p = Vec::new();
        check(version, r.as_ref(), "ev-2", &mut p);
        p
    }

    fn by_event(e: &str) -> Option<Replacement> {
        Some(Replacement {
            event_id: Some(e.into()),
            document_identifier: None,
        })
    }

    #[test]
    fn rules_and_resolution() {
        assert!(problems(None, None).is_empty());
        assert!(problems(Some(3), by_event("ev-1")).is_empty());
        assert!(problems(Some(2), None)[0].contains("data.replaces is required"));
        assert!(problems(Some(1), by_event("ev-1"))[0].contains("data.version"));
        assert!(problems(None, by_event("ev-2"))[0].contains("data.replaces.eventId"));
        let both = Replacement {
            event_id: Some("a".into()),
            document_identifier: Some("b".into()),
        };
        assert!(problems(None, Some(both))[0].contains("exactly one"));
        let bad = Replacement {
            event_id: None,
            document_identifier: Some("not-a-uuid".into()),
        };
        assert!(problems(None, Some(bad))[0].contains("documentIdentifier"));
        assert_eq!(resolve(None, None).version, 1);
        let v = resolve(None, by_event("ev-1").as_ref());
        assert_eq!(v.version, 2);
        assert_eq!(v.replaces, Some(document_identifier_for_event("ev-1")));
        let n = relates_to(&v).unwrap();
        assert_eq!(n.get_str("code"), Some("replaces"));
    }
}
