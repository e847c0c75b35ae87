//! Criterion benchmarks of the signing core: cold signatures per algorithm, memo hits, verification.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use edgepass::signing::{
    HashAlgorithm, KeyPairId, Policy, SignatureMemo, Signer, SigningKey, ViewerRequest, verify,
};

const RESOURCE: &str = "https://d111111abcdef8.cloudfront.net/users/42/*";

fn key(file: &str, id: &str) -> SigningKey {
    let path = format!("{}/tests/fixtures/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(path).expect("key fixture");
    SigningKey::from_pem(KeyPairId::parse(id).expect("id"), &pem).expect("key")
}

fn algorithms() -> Vec<(&'static str, SigningKey, HashAlgorithm)> {
    let rsa = || key("rsa2048_private_pkcs1.pem", "K2JCJMDEHXQW5F");
    let ec = || key("ecdsa_p256_private_sec1.pem", "K3ECDSAP256TEST");
    vec![
        ("rsa-sha1", rsa(), HashAlgorithm::Sha1),
        ("rsa-sha256", rsa(), HashAlgorithm::Sha256),
        ("ecdsa-sha256", ec(), HashAlgorithm::Sha256),
        ("ecdsa-sha1", ec(), HashAlgorithm::Sha1),
    ]
}

fn cold_cookie_sets(c: &mut Criterion) {
    let mut group = c.benchmark_group("cookie set, cold");
    for (name, key, hash) in algorithms() {
        let signer = Signer::new(&key, hash);
        let mut expiry = 1_900_000_000u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                // A new expiry every time, so nothing can be reused.
                expiry += 1;
                let policy = Policy::new(RESOURCE, expiry).expect("policy");
                black_box(signer.sign_cookies(&policy).expect("sign"))
            })
        });
    }
    group.finish();
}

fn memo_hits(c: &mut Criterion) {
    let mut group = c.benchmark_group("cookie set, memo hit");
    for (name, key, hash) in algorithms() {
        let memo = SignatureMemo::new(1024);
        let signer = Signer::new(&key, hash).with_memo(&memo);
        let policy = Policy::new(RESOURCE, 1_900_000_000).expect("policy");
        signer.sign_cookies(&policy).expect("warm");
        group.bench_function(name, |b| {
            b.iter(|| black_box(signer.sign_cookies(black_box(&policy)).expect("sign")))
        });
    }
    group.finish();
}

fn verification(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify cookie request");
    for (name, key, hash) in algorithms() {
        let keys = vec![key.verifying_key().expect("public key")];
        let cookies = Signer::new(&key, hash)
            .sign_cookies(&Policy::new(RESOURCE, 1_900_000_000).expect("policy"))
            .expect("sign")
            .pairs();
        let pairs: Vec<(&str, &str)> = cookies.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let request = ViewerRequest {
            url: "https://d111111abcdef8.cloudfront.net/users/42/photo.jpg",
            cookies: &pairs,
            viewer_ip: None,
            now: 1_800_000_000,
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(verify(&keys, black_box(&request)).expect("allow")))
        });
    }
    group.finish();
}

criterion_group!(benches, cold_cookie_sets, memo_hits, verification);
criterion_main!(benches);
