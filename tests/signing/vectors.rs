//! Every reference vector made by AWS's own signers: RSA reproduced byte for byte, ECDSA verified.

use std::collections::BTreeMap;

use edgepass::signing::{
    HashAlgorithm, Policy, Signer, SigningKey, SourceIp, ViewerRequest, encoding, verify,
};
use serde_json::Value;

use super::support::{ecdsa_key, rsa_key, trusted_keys, url_parts, vectors};

/// A moment when every vector is valid: after its not-before time, before its expiry.
const BEFORE_EXPIRY: u64 = 1_800_000_000;
/// The viewer address used where a policy carries the vectors' IP block.
const VIEWER_IN_BLOCK: &str = "192.0.2.10";

struct Inputs {
    canned_url: String,
    custom_resource: String,
    custom_url: String,
    expires: u64,
    not_before: u64,
    ip: String,
}

fn inputs(all: &Value) -> Inputs {
    let i = &all["inputs"];
    let text = |k: &str| i[k].as_str().expect(k).to_owned();
    Inputs {
        canned_url: text("canned_url"),
        custom_resource: text("custom_resource"),
        custom_url: text("custom_url"),
        expires: i["expires"].as_u64().expect("expires"),
        not_before: i["date_greater_than"].as_u64().expect("not before"),
        ip: text("source_ip"),
    }
}

/// What each vector signed: (URL to sign or None for cookies, policy).
fn case_for(id: &str, inputs: &Inputs) -> (Option<String>, Policy) {
    let custom = |resource: &str| {
        Policy::new(resource, inputs.expires)
            .and_then(|p| p.not_before(inputs.not_before))
            .map(|p| p.source_ip(SourceIp::parse(&inputs.ip).expect("ip")))
            .expect("custom policy")
    };
    let photo = inputs.custom_url.clone();
    match id {
        id if id.starts_with("canned-url") => (
            Some(inputs.canned_url.clone()),
            Policy::new(&inputs.canned_url, inputs.expires).expect("canned"),
        ),
        id if id.starts_with("custom-url-exact") => (Some(photo.clone()), custom(&photo)),
        id if id.starts_with("custom-url") => (Some(photo), custom(&inputs.custom_resource)),
        id if id.starts_with("canned-cookies") => {
            (None, Policy::new(&photo, inputs.expires).expect("canned"))
        }
        id if id.starts_with("custom-cookies") => (None, custom(&inputs.custom_resource)),
        other => panic!("unknown vector {other}"),
    }
}

fn key_for(vector: &Value) -> SigningKey {
    if vector.get("ecdsa").is_some() {
        ecdsa_key()
    } else {
        rsa_key()
    }
}

fn hash_of(vector: &Value) -> HashAlgorithm {
    vector["hash_algorithm"]
        .as_str()
        .expect("hash")
        .parse()
        .expect("known hash")
}

#[test]
fn every_rsa_vector_is_reproduced_byte_for_byte() {
    let all = vectors();
    let inputs = inputs(&all);
    let mut checked = 0;
    for vector in all["vectors"].as_array().expect("vectors") {
        if vector.get("ecdsa").is_some() {
            continue;
        }
        let id = vector["id"].as_str().expect("id");
        let (url, policy) = case_for(id, &inputs);
        let key = key_for(vector);
        let hash = hash_of(vector);
        let json = policy.to_json();
        assert_eq!(
            json,
            vector["policy_json"].as_str().expect("json"),
            "{id}: policy JSON"
        );
        assert_eq!(
            encoding::encode(json.as_bytes()),
            vector["policy_cf_b64"].as_str().expect("b64"),
            "{id}"
        );
        let raw = key.sign(hash, json.as_bytes()).expect("sign");
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            vector["signature_hex"].as_str().expect("hex"),
            "{id}: signature"
        );
        assert_eq!(
            encoding::encode(&raw),
            vector["signature_cf_b64"].as_str().expect("sig"),
            "{id}"
        );

        let signer = Signer::new(&key, hash);
        match url {
            Some(url) => {
                let ours = signer.sign_url(&url, &policy).expect("signed url");
                let theirs = vector["output"].as_str().expect("output");
                if hash == HashAlgorithm::Sha1 {
                    // botocore and the AWS CLI made these; edgepass follows their parameter order.
                    assert_eq!(ours, theirs, "{id}: URL");
                } else {
                    assert_eq!(url_parts(&ours), url_parts(theirs), "{id}: URL parts");
                }
            }
            None => {
                let ours: BTreeMap<&str, String> = signer
                    .sign_cookies(&policy)
                    .expect("cookies")
                    .pairs()
                    .into_iter()
                    .collect();
                let theirs = vector["output"].as_object().expect("cookie map");
                for (name, value) in theirs {
                    let value = value
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| value.to_string());
                    assert_eq!(ours.get(name.as_str()), Some(&value), "{id}: cookie {name}");
                }
                // edgepass always names the hash, SHA1 included; nothing else is added.
                assert_eq!(
                    ours.get("CloudFront-Hash-Algorithm").map(String::as_str),
                    Some(hash.as_str())
                );
                assert_eq!(ours.len(), 4, "{id}: cookie count");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 9, "all nine RSA vectors were checked");
}

fn request_at_valid_time<'a>(cookies: &'a [(&'a str, &'a str)], url: &'a str) -> ViewerRequest<'a> {
    ViewerRequest {
        url,
        cookies,
        viewer_ip: Some(VIEWER_IN_BLOCK.parse().expect("ip")),
        now: BEFORE_EXPIRY,
    }
}

#[test]
fn every_vector_made_by_aws_signers_verifies_including_ecdsa() {
    let all = vectors();
    let inputs = inputs(&all);
    let keys = trusted_keys();
    for vector in all["vectors"].as_array().expect("vectors") {
        let id = vector["id"].as_str().expect("id");
        let grant = match &vector["output"] {
            Value::String(url) => verify(&keys, &request_at_valid_time(&[], url)),
            Value::Object(map) => {
                let owned: Vec<(String, String)> = map
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect();
                let cookies: Vec<(&str, &str)> =
                    owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                verify(&keys, &request_at_valid_time(&cookies, &inputs.custom_url))
            }
            other => panic!("{id}: unexpected output {other}"),
        };
        let grant = grant.unwrap_or_else(|denial| panic!("{id}: denied: {denial}"));
        assert_eq!(grant.hash, hash_of(vector), "{id}");
        assert_eq!(grant.expires, inputs.expires, "{id}");
    }
}

#[test]
fn edgepass_ecdsa_signatures_verify_and_are_deterministic() {
    let all = vectors();
    let inputs = inputs(&all);
    let key = ecdsa_key();
    let keys = trusted_keys();
    for vector in all["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .filter(|v| v.get("ecdsa").is_some())
    {
        let id = vector["id"].as_str().expect("id");
        let (url, policy) = case_for(id, &inputs);
        let hash = hash_of(vector);
        let signer = Signer::new(&key, hash);
        assert_eq!(
            policy.to_json(),
            vector["policy_json"].as_str().expect("json"),
            "{id}"
        );
        let first = key.sign(hash, policy.to_json().as_bytes()).expect("sign");
        let second = key.sign(hash, policy.to_json().as_bytes()).expect("sign");
        assert_eq!(first, second, "{id}: RFC 6979 signatures are deterministic");
        if let Some(url) = url {
            let signed = signer.sign_url(&url, &policy).expect("url");
            verify(&keys, &request_at_valid_time(&[], &signed)).unwrap_or_else(|d| panic!("{id}: {d}"));
        }
    }
}
