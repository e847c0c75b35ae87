//! Replays every input that ever crashed a fuzz target (`fuzz/regressions/<target>/`) and the committed
//! fuzz corpus (`fuzz/corpus/<target>/`) through the same harnesses the fuzz targets run, so neither a
//! fixed crash nor a broken property can come back unnoticed, without a fuzzing toolchain.

#[path = "../fuzz/src/harness.rs"]
pub mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(folder)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of `folder` through its target's harness; returns how many ran.
fn replay(folder: &str) -> usize {
    let mut failures = Vec::new();
    let mut count = 0;
    for (target, harness) in harness::TARGETS {
        for path in inputs(folder, target) {
            let data = std::fs::read(&path).expect("a readable fuzz input");
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| harness(&data))).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "harnesses panicked on: {failures:#?}");
    count
}

#[test]
fn every_input_that_ever_crashed_a_fuzz_target_now_passes_its_harness() {
    assert!(replay("regressions") > 0, "no regression inputs found");
}

#[test]
fn the_committed_fuzz_corpus_passes_every_harness() {
    assert!(replay("corpus") > 0, "no corpus found");
}

#[test]
fn every_harness_has_a_corpus() {
    for (target, _) in harness::TARGETS {
        assert!(
            !inputs("corpus", target).is_empty(),
            "fuzz/corpus/{target} is empty"
        );
    }
}
