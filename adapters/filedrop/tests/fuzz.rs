//! Property tests: the HL7v2 and CSV decoders never panic, whatever the bytes, and keep their
//! contract on what they return (events are CloudEvents with a derived id; errors carry a line
//! and a single-line reason). Each property runs 10,000 cases; set `PROPTEST_CASES` to run more.
#![cfg(all(feature = "hl7v2", feature = "csv"))]
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::sync::OnceLock;

use gateway_adapter_filedrop::{CsvDecoder, Hl7v2Decoder, Hl7v2Options};
use proptest::prelude::*;
use support::{Items, decode_with, files};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(10_000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn check(items: &Items) {
    for item in items {
        match item {
            Ok(item) => {
                let ev = gateway_proto::CloudEvent::parse(&item.raw.body).unwrap();
                assert_eq!(item.raw.derived_id.as_deref(), Some(ev.id.as_str()));
                assert!(ev.source.starts_with("urn:nhs:ods:"));
                assert!(item.line.is_some());
            }
            Err(e) => {
                assert!(e.line.is_some(), "{e:?}");
                assert!(
                    !e.reason.is_empty() && !e.reason.contains(['\r', '\n']),
                    "{e:?}"
                );
            }
        }
    }
}

fn hl7(bytes: &[u8]) -> Items {
    let small = Hl7v2Options {
        // Small enough that some fuzzed messages hit the limit too.
        max_message_bytes: 4096,
        ..Hl7v2Options::default()
    };
    let items = decode_with(&Hl7v2Decoder::new(small), "f.hl7", bytes);
    check(&items);
    items
}

fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        files("hl7v2/good")
            .into_iter()
            .chain(files("hl7v2/broken"))
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    })
}

/// Bytes that matter to the parser, so random input reaches past the splitter.
fn hl7_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(b"|^~\\&\r\n#$*!%.XCMFSTREHN0123456789".to_vec()),
        2 => prop::sample::select(b"MSHPIDPV1RXDRXEORCNTEOBXOBRTXATQ1FHSBHSBTSFTS".to_vec()),
        1 => any::<u8>(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), hl7_byte()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), hl7_byte()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Replace(i, b) => {
                if let Some(x) = bytes.get_mut(i % len) {
                    *x = b;
                }
            }
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Delete(i) => {
                if !bytes.is_empty() {
                    bytes.remove(i % len);
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Duplicate(i, n) => {
                let start = i % len;
                let end = (start + n).min(bytes.len());
                let chunk = bytes.get(start..end).unwrap_or_default().to_vec();
                bytes.splice(start..start, chunk);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn hl7v2_random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        hl7(&bytes);
    }

    #[test]
    fn hl7v2_random_hl7_alphabet_never_panics(
        body in prop::collection::vec(hl7_byte(), 0..512),
    ) {
        let mut bytes = b"MSH|^~\\&|A|FA001^P|||20261120||RDS^O13|1\r".to_vec();
        bytes.extend(body);
        hl7(&bytes);
    }

    #[test]
    fn hl7v2_mutated_corpus_never_panics(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..12),
    ) {
        let original = which.get(corpus()).clone();
        hl7(&apply(original, &mutations));
    }

    #[test]
    fn csv_random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let items = decode_with(&CsvDecoder::default(), "f.csv", &bytes);
        check(&items);
    }

    #[test]
    fn csv_mutated_corpus_never_panics(
        mutations in prop::collection::vec(mutation(), 1..12),
    ) {
        let original = std::fs::read(support::corpus("csv/consultations.csv")).unwrap();
        let items = decode_with(&CsvDecoder::default(), "f.csv", &apply(original, &mutations));
        check(&items);
    }
}
