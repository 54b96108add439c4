//! What the fuzz targets check, in one place: the targets call these functions, and the
//! stable regression test of the domain (`crates/domain/tests/corpus.rs`) includes this file
//! to replay every input of `fuzz/corpus` and `fuzz/artifacts` through them.
//!
//! Beyond "no panic, no hang", each check asserts what the rest of the program relies on:
//! a call that parses is consistent and reads back from the JSON the store keeps it in; a
//! valid application's amounts agree with the call and its canonical content validates
//! again to the same thing; a registry import has unique codes in the region asked for.

use std::collections::HashSet;
use std::sync::OnceLock;

use bandi_domain::application::{ApplicationContent, parse_and_validate};
use bandi_domain::call::Call;
use bandi_domain::registry::parse_registry;
use serde_json::Value;

/// The text the string targets see: the longest valid UTF-8 prefix of the input (what
/// libFuzzer's `&str` argument would be), so that every input exercises something.
pub fn utf8_prefix(data: &[u8]) -> &str {
    match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).expect("valid up to there"),
    }
}

/// The Emilia-Romagna 2020 call, against which applications are validated.
pub const ER_CALL_TOML: &str = include_str!("../../calls/er-2020-smart-working.toml");

pub fn er_call() -> &'static Call {
    static CALL: OnceLock<Call> = OnceLock::new();
    CALL.get_or_init(|| Call::from_toml(ER_CALL_TOML).expect("the shipped ER call parses"))
}

/// A call file: refused with an error, or a call whose rules hold together.
pub fn call_file(text: &str) {
    let call = match Call::from_toml(text) {
        Ok(call) => call,
        Err(e) => {
            assert!(!e.message.is_empty(), "an error without a message: {e:?}");
            let _ = e.to_string();
            return;
        }
    };
    assert!(call.closes_at > call.opens_at, "closes before it opens");
    assert!(call.budget.is_positive(), "budget {}", call.budget);
    assert!(
        call.rate.bp() > 0 && call.rate.bp() <= 10_000,
        "rate {}",
        call.rate.bp()
    );
    if let (Some(min), Some(max)) = (call.min_cost, call.max_cost) {
        assert!(min <= max, "min_cost {min} above max_cost {max}");
    }
    assert!(
        call.categories
            .iter()
            .any(|c| c.eligible && c.max_share.is_none()),
        "no eligible category without a cap"
    );
    // The store keeps the rules as JSON and reads them back for every batch.
    let json = serde_json::to_string(&call).expect("a call serialises");
    let back: Call = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the rules do not read back: {e}\n{json}"));
    assert_eq!(back, call, "the rules read back differ");
    // What the intake and the pages compute from a call.
    assert!(!call.protocol(1, call.opens_at).is_empty());
    assert!(!call.local_time(call.closes_at).is_empty());
    let mut moved = call.clone();
    moved
        .reschedule(call.opens_at, None)
        .expect("rescheduling to the same opening keeps the length");
    assert_eq!(moved.closes_at, call.closes_at);
}

/// A request body of the API, validated against the ER call.
pub fn application_json(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let call = er_call();
    let valid = match parse_and_validate(&value, call) {
        Ok(v) => v,
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            return;
        }
    };
    assert!(valid.eligible_cost.is_positive());
    assert!(valid.eligible_cost <= valid.total_cost);
    assert!(valid.requested <= valid.eligible_cost);
    assert_eq!(valid.requested, call.grant_for(valid.eligible_cost));
    // The store keeps the canonical JSON and reads it back; a retry sends it again.
    let json = valid.content.canonical_json();
    let back: ApplicationContent = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the content does not read back: {e}\n{json}"));
    assert_eq!(back, valid.content);
    let value: Value = serde_json::from_str(&json).expect("canonical JSON is JSON");
    let again = parse_and_validate(&value, call)
        .unwrap_or_else(|e| panic!("the canonical content is refused: {e:?}\n{json}"));
    assert_eq!(
        again, valid,
        "validating the canonical content again differs"
    );
    assert_eq!(again.content.sha256_hex(), valid.content.sha256_hex());
}

/// An import file of the registry, with the region filter and without.
pub fn registry_csv(text: &str) {
    for region in [Some("08"), None] {
        match parse_registry(text, region) {
            Ok(entities) => {
                let mut codes = HashSet::new();
                for e in &entities {
                    assert!(
                        codes.insert(e.code.clone()),
                        "code {:?} twice in one import",
                        e.code
                    );
                    if let Some(r) = region {
                        assert_eq!(e.region_code.as_deref(), Some(r), "{e:?}");
                    }
                }
            }
            Err(errors) => {
                assert!(!errors.0.is_empty(), "refused without a reason");
                assert!(errors.0.iter().all(|e| e.line >= 1));
                let _ = errors.to_string();
            }
        }
    }
}
