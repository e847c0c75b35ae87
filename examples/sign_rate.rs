//! Prints edgepass signing rates as JSON lines (`{"impl", "op", "per_sec"}`), for `scripts/bench`.
//!
//! Run it pinned to one core: `taskset -c 0 target/release/examples/sign_rate [SECONDS]`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use edgepass::signing::{HashAlgorithm, KeyPairId, Policy, SignatureMemo, Signer, SigningKey};

const RESOURCE: &str = "https://d111111abcdef8.cloudfront.net/users/42/*";

fn key(file: &str, id: &str) -> SigningKey {
    let path = format!("{}/tests/fixtures/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(path).expect("key fixture");
    SigningKey::from_pem(KeyPairId::parse(id).expect("id"), &pem).expect("key")
}

/// Runs `op` repeatedly for about `budget` and returns operations per second.
fn rate(budget: Duration, mut op: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        for _ in 0..64 {
            op(done);
            done += 1;
        }
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let budget = Duration::from_secs_f64(seconds);
    let rsa = key("rsa2048_private_pkcs1.pem", "K2JCJMDEHXQW5F");
    let ec = key("ecdsa_p256_private_sec1.pem", "K3ECDSAP256TEST");
    let cases = [
        ("rsa-sha1", &rsa, HashAlgorithm::Sha1),
        ("rsa-sha256", &rsa, HashAlgorithm::Sha256),
        ("ecdsa-sha256", &ec, HashAlgorithm::Sha256),
        ("ecdsa-sha1", &ec, HashAlgorithm::Sha1),
    ];
    for (name, key, hash) in cases {
        let signer = Signer::new(key, hash);
        let cold = rate(budget, |i| {
            let policy = Policy::new(RESOURCE, 1_900_000_000 + i).expect("policy");
            black_box(signer.sign_cookies(&policy).expect("sign"));
        });
        println!(r#"{{"impl":"edgepass","op":"cookie set {name} cold","per_sec":{cold:.1}}}"#);

        let memo = SignatureMemo::new(1024);
        let memoised = Signer::new(key, hash).with_memo(&memo);
        let policy = Policy::new(RESOURCE, 1_900_000_000).expect("policy");
        memoised.sign_cookies(&policy).expect("warm");
        let hit = rate(budget, |_| {
            // The policy is rebuilt each time, as a request handler would.
            let policy = Policy::new(RESOURCE, black_box(1_900_000_000)).expect("policy");
            black_box(memoised.sign_cookies(&policy).expect("sign"));
        });
        println!(r#"{{"impl":"edgepass","op":"cookie set {name} memo hit","per_sec":{hit:.1}}}"#);
    }
}
