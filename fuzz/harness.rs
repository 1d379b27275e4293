//! The stable fuzz harness: runs a proptest strategy against a parser for a
//! bounded number of cases or a bounded time, on the stable toolchain.
//!
//! Shared by the `fuzz_*` integration tests of the crates (included with
//! `#[path = "../../../fuzz/harness.rs"] mod harness;`); see
//! `fuzz/README.md`. Each target reads:
//!
//! * `FUZZ_CASES`: the most cases to run (default: the target's own, small,
//!   so that `cargo test` stays a few seconds per target);
//! * `FUZZ_SECONDS`: a time budget; cases then run in batches until the
//!   budget is spent (or `FUZZ_CASES`, when also set, are done);
//! * `FUZZ_SEED`: the seed of the first batch (random by default), so a
//!   failure can be replayed; every failure prints the seed to use.
//!
//! A failing case (a panic or a failed check) is shrunk by proptest to a
//! small input and reported with that input and the seed.

#![allow(dead_code)]

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// Cases per batch when running against a time budget: the budget is
/// checked between batches.
const BATCH: u64 = 256;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name} must be a whole number, not {v:?}"),
    }
}

/// A random seed without a random-number crate: the process's hash keys.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// 32 seed bytes for the runner's ChaCha generator (SplitMix64).
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut s = seed;
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// Run `test` on values of `strategy`: `default_cases` cases unless
/// `FUZZ_CASES` / `FUZZ_SECONDS` say otherwise. Panics (with the shrunk
/// input and the seed that reproduces it) on the first failure.
pub fn fuzz<S>(
    name: &str,
    default_cases: u64,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let budget = env_u64("FUZZ_SECONDS").map(Duration::from_secs);
    let max_cases = env_u64("FUZZ_CASES").unwrap_or(if budget.is_some() {
        u64::MAX
    } else {
        default_cases
    });
    let first_seed = env_u64("FUZZ_SEED").unwrap_or_else(random_seed);
    let start = Instant::now();
    let mut done = 0u64;
    let mut batch = 0u64;
    let slowest = std::cell::Cell::new(Duration::ZERO);
    while done < max_cases {
        let cases = match budget {
            Some(_) => BATCH.min(max_cases - done),
            None => max_cases - done,
        };
        let seed = first_seed.wrapping_add(batch);
        let config = Config {
            cases: u32::try_from(cases).unwrap_or(u32::MAX),
            max_shrink_iters: 4096,
            failure_persistence: None,
            ..Config::default()
        };
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed));
        let mut runner = TestRunner::new_with_rng(config, rng);
        let timed = |v: S::Value| {
            let t = Instant::now();
            let r = test(v);
            slowest.set(slowest.get().max(t.elapsed()));
            r
        };
        let result = runner.run(&strategy, timed);
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, input)) => panic!(
                "fuzz target {name} failed: {why}\nminimal input: {input:#?}\n\
                 replay: FUZZ_SEED={seed} FUZZ_CASES={cases} cargo test --test {} {name}",
                module_path!().split("::").next().unwrap_or("<fuzz test>")
            ),
            Err(TestError::Abort(why)) => panic!("fuzz target {name} aborted: {why}"),
        }
        done += cases;
        batch += 1;
        if budget.is_some_and(|b| start.elapsed() >= b) {
            break;
        }
    }
    eprintln!(
        "fuzz {name}: {done} cases in {:.2} s, slowest {:.1} ms (first seed {first_seed})",
        start.elapsed().as_secs_f64(),
        slowest.get().as_secs_f64() * 1e3
    );
}
