//! Replays the fuzz corpus on stable: every file of `fuzz/corpus/<target>/` and
//! `fuzz/artifacts/<target>/` goes through the same checks the fuzz targets run
//! (`fuzz/src/lib.rs`, included here), so an input that once crashed stays fixed without a
//! nightly toolchain or cargo-fuzz. Files named `valid-*` must be accepted by the domain and
//! `invalid-*` refused, so the seeds keep covering both paths.

use std::path::{Path, PathBuf};

use bandi_domain::application::parse_and_validate;
use bandi_domain::call::Call;
use bandi_domain::registry::parse_registry;

#[allow(dead_code)]
#[path = "../../../fuzz/src/lib.rs"]
mod checks;

const FUZZ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz");

/// The inputs of one target: the committed corpus and any crash left by a fuzz run.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(Path::new(FUZZ).join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a corpus entry").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs `check` on every input of `target`, each on its own so that one panic names its
/// file and the others still run; then checks what the file names promise.
fn replay(target: &str, check: fn(&[u8]), accepted: impl Fn(&[u8]) -> bool) {
    let files = inputs(target);
    assert!(
        files.len() >= 3,
        "fuzz/corpus/{target} holds {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("read a corpus file");
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failures.push(format!(
                "{}: the check panicked (see above)",
                path.display()
            ));
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy();
        let expected = if name.starts_with("valid-") {
            Some(true)
        } else if name.starts_with("invalid-") {
            Some(false)
        } else {
            None
        };
        if let Some(expected) = expected
            && accepted(&data) != expected
        {
            failures.push(format!(
                "{}: {} by the domain",
                path.display(),
                if expected { "refused" } else { "accepted" }
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{target}: {} inputs replayed", files.len());
}

#[test]
fn call_file_corpus() {
    replay(
        "call_file",
        |data| checks::call_file(checks::utf8_prefix(data)),
        |data| Call::from_toml(checks::utf8_prefix(data)).is_ok(),
    );
}

#[test]
fn application_json_corpus() {
    replay("application_json", checks::application_json, |data| {
        serde_json::from_slice(data)
            .is_ok_and(|v| parse_and_validate(&v, checks::er_call()).is_ok())
    });
}

#[test]
fn registry_csv_corpus() {
    replay(
        "registry_csv",
        |data| checks::registry_csv(checks::utf8_prefix(data)),
        |data| {
            let text = checks::utf8_prefix(data);
            parse_registry(text, Some("08")).is_ok() && parse_registry(text, None).is_ok()
        },
    );
}

/// The shipped files are inputs too: the whole ISTAT list and the Unioni, through the same
/// checks (they are not copied into the corpus, which stays small).
#[test]
fn shipped_data_passes_the_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for file in ["data/istat-comuni.csv", "data/er-unioni.csv"] {
        let text = std::fs::read_to_string(root.join(file)).expect(file);
        checks::registry_csv(&text);
        assert!(parse_registry(&text, Some("08")).is_ok(), "{file}");
    }
    let call = std::fs::read_to_string(root.join("calls/er-2020-smart-working.toml")).unwrap();
    checks::call_file(&call);
}
