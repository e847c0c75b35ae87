//! The `edgepass` binary, driven as a shell or a script drives it: `sign url` and `sign cookies` must
//! reproduce AWS's reference vectors, `verify` must decide them as CloudFront does, and bad input must
//! end with exit status 2 and a one-line message naming the problem.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::support::{Run, edgepass, url_parts, vectors_dir};

const RSA_ID: &str = "K2JCJMDEHXQW5F";
const ECDSA_ID: &str = "K3ECDSAP256TEST";
const EXPIRES: &str = "1893456000";
const NOT_BEFORE: &str = "1767225600";
const SOURCE_IP: &str = "192.0.2.0/24";
/// A viewer inside `SOURCE_IP`.
const VIEWER_IP: &str = "192.0.2.10";
/// A moment when every vector is valid: after `NOT_BEFORE`, before `EXPIRES`.
const DURING: &str = "2028-06-01";

const DOMAIN: &str = "https://d111111abcdef8.cloudfront.net";
const CANNED_URL: &str = "https://d111111abcdef8.cloudfront.net/users/alice/photo.jpg?size=large";
const CUSTOM_URL: &str = "https://d111111abcdef8.cloudfront.net/users/alice/photo.jpg";
const CUSTOM_RESOURCE: &str = "https://d111111abcdef8.cloudfront.net/users/alice/*";
/// Canned cookies grant exactly this URL.
const CANNED_COOKIE_RESOURCE: &str = CUSTOM_URL;

fn vector_path(name: &str) -> String {
    vectors_dir().join(name).to_str().expect("UTF-8 path").to_owned()
}

fn keys_path(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
        .to_str()
        .expect("UTF-8 path")
        .to_owned()
}

fn rsa_private_key() -> String {
    vector_path("rsa2048_private_pkcs1.pem")
}

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(vectors_dir().join("vectors.json")).expect("vectors.json");
    let document: Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    document["vectors"].as_array().expect("a vectors array").clone()
}

fn vector(id: &str) -> Value {
    vectors()
        .into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
}

fn vector_url(id: &str) -> String {
    vector(id)["output"].as_str().expect("a URL vector").to_owned()
}

fn vector_cookies(id: &str) -> BTreeMap<String, String> {
    cookie_map(&vector(id)["output"])
}

fn cookie_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .expect("a cookie vector")
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().expect("string value").to_owned()))
        .collect()
}

/// Runs `edgepass` and returns its standard output, failing unless it exits 0 silently.
fn succeed<S: AsRef<str>>(args: &[S]) -> String {
    let run = edgepass(args);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    run.stdout
}

/// `sign url` for `url` until `expires` under key-pair id `id`, with `key_flags` naming the key
/// (`["--private-key", path]` or `["--private-key=PEM"]`) and any further flags.
fn sign_url_until(url: &str, id: &str, expires: &str, key_flags: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "sign",
        "url",
        "--url",
        url,
        "--key-pair-id",
        id,
        "--date-less-than",
        expires,
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(key_flags.iter().map(|s| (*s).to_owned()));
    args
}

/// `sign url` for `url` until the vectors' expiry; see [`sign_url_until`].
fn sign_url_with(url: &str, id: &str, key_flags: &[&str]) -> Vec<String> {
    sign_url_until(url, id, EXPIRES, key_flags)
}

/// `sign url` with the RSA vector key, the given URL and expiry, and further flags.
fn sign_url_args(url: &str, expires: &str, extra: &[&str]) -> Vec<String> {
    let key = rsa_private_key();
    let mut args = sign_url_until(url, RSA_ID, expires, &["--private-key", &key]);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// `sign cookies` with the RSA vector key.
fn sign_cookies_args(resource: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "sign",
        "cookies",
        "--resource",
        resource,
        "--key-pair-id",
        RSA_ID,
        "--private-key",
        &rsa_private_key(),
        "--date-less-than",
        EXPIRES,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// The flags that make the vectors' custom policy: wildcard resource, start time and IP block.
fn custom_policy_flags() -> [&'static str; 6] {
    [
        "--policy-resource",
        CUSTOM_RESOURCE,
        "--date-greater-than",
        NOT_BEFORE,
        "--ip-address",
        SOURCE_IP,
    ]
}

/// The query parameter `name` of `url`.
fn param(url: &str, name: &str) -> String {
    url_parts(url)
        .1
        .remove(name)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// `url` with the value of query parameter `name` replaced.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let old = format!("{name}={}", param(url, name));
    assert_eq!(url.matches(&old).count(), 1, "{old} in {url}");
    url.replace(&old, &format!("{name}={value}"))
}

/// `text` with one character in its middle changed to another CloudFront-base64 character.
fn tampered(text: &str) -> String {
    let middle = text.len() / 2;
    let replacement = if &text[middle..=middle] == "A" { "B" } else { "A" };
    format!("{}{replacement}{}", &text[..middle], &text[middle + 1..])
}

fn trust_both_keys() -> Vec<String> {
    vec![
        "--public-key".to_owned(),
        format!("{RSA_ID}={}", vector_path("rsa2048_public.pem")),
        "--public-key".to_owned(),
        format!("{ECDSA_ID}={}", vector_path("ecdsa_p256_public.pem")),
    ]
}

/// `verify` of `url` with `cookies`, trusting both vector keys, plus further flags.
fn verify(url: &str, cookies: &BTreeMap<String, String>, extra: &[&str]) -> Run {
    let mut args = vec!["verify".to_owned(), "--url".to_owned(), url.to_owned()];
    args.extend(trust_both_keys());
    for (name, value) in cookies {
        args.push("--cookie".to_owned());
        args.push(format!("{name}={value}"));
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    edgepass(&args)
}

fn assert_allowed(run: &Run, what: &str) {
    assert_eq!(run.stdout, "allow\n", "{what}: {run:?}");
    assert_eq!(run.code, Some(0), "{what}: {run:?}");
}

/// Asserts a `deny: <reason>` line whose reason contains `reason`, and exit status 1.
fn assert_denied(run: &Run, reason: &str, what: &str) {
    assert_eq!(run.code, Some(1), "{what}: {run:?}");
    assert!(run.stdout.starts_with("deny: "), "{what}: {run:?}");
    assert_eq!(run.stdout.lines().count(), 1, "{what}: {run:?}");
    assert!(
        run.stdout.contains(reason),
        "{what}: expected {reason:?}, got {run:?}"
    );
}

/// Asserts exit status 2, nothing on stdout, and one stderr line containing every one of `names`.
fn assert_usage_error(run: &Run, names: &[&str], what: &str) {
    assert_eq!(run.code, Some(2), "{what}: {run:?}");
    assert_eq!(run.stdout, "", "{what}: {run:?}");
    assert!(run.stderr.ends_with('\n'), "{what}: {run:?}");
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "{what}: stderr is not one line: {run:?}"
    );
    for name in names {
        assert!(
            run.stderr.contains(name),
            "{what}: stderr does not name {name:?}: {run:?}"
        );
    }
}

#[test]
fn the_inputs_used_here_are_the_inputs_of_the_vectors() {
    let text = std::fs::read_to_string(vectors_dir().join("vectors.json")).expect("vectors.json");
    let document: Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    let inputs = &document["inputs"];
    assert_eq!(inputs["domain"], DOMAIN);
    assert_eq!(inputs["rsa_key_pair_id"], RSA_ID);
    assert_eq!(inputs["ecdsa_key_pair_id"], ECDSA_ID);
    assert_eq!(inputs["expires"].to_string(), EXPIRES);
    assert_eq!(inputs["date_greater_than"].to_string(), NOT_BEFORE);
    assert_eq!(inputs["source_ip"], SOURCE_IP);
    assert_eq!(inputs["canned_url"], CANNED_URL);
    assert_eq!(inputs["custom_url"], CUSTOM_URL);
    assert_eq!(inputs["custom_resource"], CUSTOM_RESOURCE);
    assert_eq!(inputs["cookie_canned_resource"], CANNED_COOKIE_RESOURCE);
    assert_eq!(inputs["cookie_custom_resource"], CUSTOM_RESOURCE);
}

#[test]
fn sign_url_reproduces_the_canned_rsa_sha1_vector_byte_for_byte() {
    let stdout = succeed(&sign_url_args(CANNED_URL, EXPIRES, &[]));
    assert_eq!(stdout, format!("{}\n", vector_url("canned-url-rsa-sha1")));
}

#[test]
fn sign_url_reproduces_the_custom_rsa_sha1_vector_byte_for_byte() {
    let stdout = succeed(&sign_url_args(CUSTOM_URL, EXPIRES, &custom_policy_flags()));
    assert_eq!(stdout, format!("{}\n", vector_url("custom-url-rsa-sha1")));
}

#[test]
fn sign_url_reproduces_the_aws_cli_exact_resource_vector_byte_for_byte() {
    let flags = ["--date-greater-than", NOT_BEFORE, "--ip-address", SOURCE_IP];
    let stdout = succeed(&sign_url_args(CUSTOM_URL, EXPIRES, &flags));
    assert_eq!(
        stdout,
        format!("{}\n", vector_url("custom-url-exact-rsa-sha1-awscli"))
    );
}

#[test]
fn sign_url_with_sha256_matches_the_rsa_sha256_vectors_as_base_url_and_parameters() {
    let sha256 = ["--hash-algorithm", "SHA256"];
    let canned = succeed(&sign_url_args(CANNED_URL, EXPIRES, &sha256));
    assert_eq!(canned.lines().count(), 1);
    assert_eq!(
        url_parts(canned.trim_end()),
        url_parts(&vector_url("canned-url-rsa-sha256"))
    );

    let mut flags = custom_policy_flags().to_vec();
    flags.extend(sha256);
    let custom = succeed(&sign_url_args(CUSTOM_URL, EXPIRES, &flags));
    let (base, params) = url_parts(custom.trim_end());
    assert_eq!(
        (base, params.clone()),
        url_parts(&vector_url("custom-url-rsa-sha256"))
    );
    assert_eq!(params["Hash-Algorithm"], "SHA256");
}

#[test]
fn sign_url_with_explicit_sha1_gives_the_default_output() {
    let stdout = succeed(&sign_url_args(CANNED_URL, EXPIRES, &["--hash-algorithm", "SHA1"]));
    assert_eq!(stdout, format!("{}\n", vector_url("canned-url-rsa-sha1")));
}

#[test]
fn times_given_as_epoch_rfc3339_or_a_date_sign_identically() {
    let canned = format!("{}\n", vector_url("canned-url-rsa-sha1"));
    for expires in [
        "1893456000",
        "2030-01-01T00:00:00Z",
        "2030-01-01T01:00:00+01:00",
        "2029-12-31T19:00:00-05:00",
        "2030-01-01",
    ] {
        assert_eq!(
            succeed(&sign_url_args(CANNED_URL, expires, &[])),
            canned,
            "{expires}"
        );
    }
    let custom = format!("{}\n", vector_url("custom-url-exact-rsa-sha1-awscli"));
    for (expires, start) in [
        ("2030-01-01", "2026-01-01"),
        ("2030-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("1893456000", "2026-01-01T09:00:00+09:00"),
    ] {
        let flags = ["--date-greater-than", start, "--ip-address", SOURCE_IP];
        assert_eq!(
            succeed(&sign_url_args(CUSTOM_URL, expires, &flags)),
            custom,
            "{expires} / {start}"
        );
    }
}

#[test]
fn the_private_key_may_be_a_file_url_a_path_pkcs8_or_the_pem_itself() {
    let expected = format!("{}\n", vector_url("canned-url-rsa-sha1"));
    let pem = std::fs::read_to_string(rsa_private_key()).expect("key file");
    let sources = [
        format!("file://{}", rsa_private_key()),
        rsa_private_key(),
        vector_path("rsa2048_private_pkcs8.pem"),
        format!("file://{}", vector_path("rsa2048_private_pkcs8.pem")),
    ];
    for source in &sources {
        let args = sign_url_with(CANNED_URL, RSA_ID, &["--private-key", source]);
        assert_eq!(succeed(&args), expected, "{source}");
    }
    // PEM text, as an environment variable delivers it (with real or escaped line breaks).
    for text in [pem.clone(), pem.replace('\n', "\\n")] {
        let flag = format!("--private-key={text}");
        let args = sign_url_with(CANNED_URL, RSA_ID, &[flag.as_str()]);
        assert_eq!(succeed(&args), expected);
    }
}

#[test]
fn sign_cookies_prints_the_sha1_cookie_vectors_plus_the_hash_algorithm_cookie() {
    let cases = [
        ("canned-cookies-rsa-sha1", CANNED_COOKIE_RESOURCE, &[][..]),
        (
            "custom-cookies-rsa-sha1",
            CUSTOM_RESOURCE,
            &["--date-greater-than", NOT_BEFORE, "--ip-address", SOURCE_IP][..],
        ),
    ];
    for (id, resource, flags) in cases {
        let stdout = succeed(&sign_cookies_args(resource, flags));
        let printed: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{id}: {e}: {stdout}"));
        let mut ours = cookie_map(&printed);
        assert_eq!(
            ours.remove("CloudFront-Hash-Algorithm").as_deref(),
            Some("SHA1"),
            "{id}"
        );
        assert_eq!(ours, vector_cookies(id), "{id}");
    }
}

#[test]
fn sign_cookies_with_sha256_prints_exactly_the_sha256_cookie_vectors() {
    let cases = [
        (
            "canned-cookies-rsa-sha256",
            CANNED_COOKIE_RESOURCE,
            &["--hash-algorithm", "SHA256"][..],
        ),
        (
            "custom-cookies-rsa-sha256",
            CUSTOM_RESOURCE,
            &[
                "--date-greater-than",
                NOT_BEFORE,
                "--ip-address",
                SOURCE_IP,
                "--hash-algorithm",
                "SHA256",
            ][..],
        ),
    ];
    for (id, resource, flags) in cases {
        let stdout = succeed(&sign_cookies_args(resource, flags));
        let printed: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{id}: {e}: {stdout}"));
        assert_eq!(cookie_map(&printed), vector_cookies(id), "{id}");
    }
}

#[test]
fn verify_allows_every_vector_url_and_cookie_set() {
    let all = vectors();
    let ids: Vec<&str> = all.iter().filter_map(|v| v["id"].as_str()).collect();
    for id in [
        "canned-url-ecdsa-sha1",
        "canned-url-ecdsa-sha256",
        "custom-cookies-ecdsa-sha256",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for v in &all {
        let id = v["id"].as_str().expect("id");
        let run = match &v["output"] {
            Value::String(url) => verify(url, &BTreeMap::new(), &["--now", DURING, "--ip", VIEWER_IP]),
            cookies => {
                let cookies = cookie_map(cookies);
                // Canned cookies name this URL itself; custom ones a pattern covering it.
                verify(CUSTOM_URL, &cookies, &["--now", DURING, "--ip", VIEWER_IP])
            }
        };
        assert_allowed(&run, id);
    }
}

#[test]
fn verify_allows_a_policy_without_an_ip_condition_without_being_told_the_viewer_ip() {
    for id in [
        "canned-url-rsa-sha1",
        "canned-url-ecdsa-sha1",
        "canned-url-ecdsa-sha256",
    ] {
        assert_allowed(&verify(&vector_url(id), &BTreeMap::new(), &["--now", DURING]), id);
    }
    let cookies = vector_cookies("canned-cookies-rsa-sha256");
    assert_allowed(
        &verify(CUSTOM_URL, &cookies, &["--now", DURING]),
        "canned cookies",
    );
}

#[test]
fn verify_denies_an_expired_url_or_cookie_set() {
    for id in [
        "canned-url-rsa-sha1",
        "custom-url-rsa-sha256",
        "canned-url-ecdsa-sha256",
    ] {
        let url = vector_url(id);
        let run = verify(
            &url,
            &BTreeMap::new(),
            &["--now", "2031-01-01", "--ip", VIEWER_IP],
        );
        assert_denied(&run, "expired", id);
        // DateLessThan is exclusive.
        let run = verify(&url, &BTreeMap::new(), &["--now", EXPIRES, "--ip", VIEWER_IP]);
        assert_denied(&run, "expired", id);
        let run = verify(
            &url,
            &BTreeMap::new(),
            &["--now", "1893455999", "--ip", VIEWER_IP],
        );
        assert_allowed(&run, id);
    }
    let cookies = vector_cookies("custom-cookies-ecdsa-sha256");
    let run = verify(CUSTOM_URL, &cookies, &["--now", "2031-01-01", "--ip", VIEWER_IP]);
    assert_denied(&run, "expired", "custom-cookies-ecdsa-sha256");
}

#[test]
fn verify_denies_a_request_before_the_start_time() {
    let url = vector_url("custom-url-rsa-sha1");
    for now in ["2025-06-01", NOT_BEFORE] {
        let run = verify(&url, &BTreeMap::new(), &["--now", now, "--ip", VIEWER_IP]);
        assert_denied(&run, "not yet valid", now);
    }
    let run = verify(
        &url,
        &BTreeMap::new(),
        &["--now", "1767225601", "--ip", VIEWER_IP],
    );
    assert_allowed(&run, "one second after the start");
    let cookies = vector_cookies("custom-cookies-rsa-sha1");
    let run = verify(CUSTOM_URL, &cookies, &["--now", "2025-06-01", "--ip", VIEWER_IP]);
    assert_denied(&run, "not yet valid", "cookies");
}

#[test]
fn verify_denies_a_viewer_outside_the_ip_block() {
    let url = vector_url("custom-url-exact-rsa-sha1-awscli");
    for ip in ["198.51.100.7", "192.0.3.10", "2001:db8::1"] {
        let run = verify(&url, &BTreeMap::new(), &["--now", DURING, "--ip", ip]);
        assert_denied(&run, "IP", ip);
    }
    let run = verify(&url, &BTreeMap::new(), &["--now", DURING]);
    assert_denied(&run, "IP", "unknown viewer address");
    let cookies = vector_cookies("custom-cookies-ecdsa-sha256");
    let run = verify(CUSTOM_URL, &cookies, &["--now", DURING, "--ip", "198.51.100.7"]);
    assert_denied(&run, "IP", "cookies");
}

#[test]
fn verify_denies_another_users_path() {
    let bob = |url: &str| url.replacen("/users/alice/", "/users/bob/", 1);
    let now_and_ip = ["--now", DURING, "--ip", VIEWER_IP];
    // A custom policy names alice's folder: bob's is not covered.
    for id in ["custom-url-rsa-sha1", "custom-url-rsa-sha256"] {
        let run = verify(&bob(&vector_url(id)), &BTreeMap::new(), &now_and_ip);
        assert_denied(&run, "resource", id);
    }
    for id in ["custom-cookies-rsa-sha1", "custom-cookies-ecdsa-sha256"] {
        let run = verify(&bob(CUSTOM_URL), &vector_cookies(id), &now_and_ip);
        assert_denied(&run, "resource", id);
    }
    // A canned policy is rebuilt from the request URL, so another path no longer matches the signature.
    for id in ["canned-url-rsa-sha1", "canned-url-ecdsa-sha1"] {
        let run = verify(&bob(&vector_url(id)), &BTreeMap::new(), &now_and_ip);
        assert_denied(&run, "signature", id);
    }
    let run = verify(
        &bob(CUSTOM_URL),
        &vector_cookies("canned-cookies-rsa-sha1"),
        &now_and_ip,
    );
    assert_denied(&run, "signature", "canned cookies");
    // The exact-resource custom policy does not cover a sibling file either.
    let sibling = vector_url("custom-url-exact-rsa-sha1-awscli").replacen("photo.jpg", "other.jpg", 1);
    assert_denied(
        &verify(&sibling, &BTreeMap::new(), &now_and_ip),
        "resource",
        "sibling",
    );
}

#[test]
fn verify_denies_a_tampered_signature_policy_or_expiry() {
    let now_and_ip = ["--now", DURING, "--ip", VIEWER_IP];
    for v in vectors() {
        let id = v["id"].as_str().expect("id").to_owned();
        match &v["output"] {
            Value::String(url) => {
                let signature = param(url, "Signature");
                let run = verify(
                    &with_param(url, "Signature", &tampered(&signature)),
                    &BTreeMap::new(),
                    &now_and_ip,
                );
                assert_denied(&run, "signature", &id);
            }
            cookies => {
                let mut cookies = cookie_map(cookies);
                let signature = cookies["CloudFront-Signature"].clone();
                cookies.insert("CloudFront-Signature".to_owned(), tampered(&signature));
                let run = verify(CUSTOM_URL, &cookies, &now_and_ip);
                assert_denied(&run, "signature", &id);
            }
        }
    }
    // A later expiry, or a changed policy, no longer matches the signature.
    let canned = vector_url("canned-url-rsa-sha1");
    let run = verify(
        &with_param(&canned, "Expires", "1999999999"),
        &BTreeMap::new(),
        &now_and_ip,
    );
    assert_denied(&run, "signature", "extended Expires");
    let custom = vector_url("custom-url-rsa-sha1");
    let other_policy = param(&vector_url("custom-url-exact-rsa-sha1-awscli"), "Policy");
    let run = verify(
        &with_param(&custom, "Policy", &other_policy),
        &BTreeMap::new(),
        &now_and_ip,
    );
    assert_denied(&run, "signature", "swapped Policy");
    // Dropping Hash-Algorithm=SHA256 makes CloudFront check the signature as SHA-1.
    let sha256 = vector_url("canned-url-rsa-sha256");
    let without_hash = sha256.replace("&Hash-Algorithm=SHA256", "");
    assert_ne!(without_hash, sha256);
    assert_denied(
        &verify(&without_hash, &BTreeMap::new(), &now_and_ip),
        "signature",
        "hash dropped",
    );
}

#[test]
fn verify_denies_an_unknown_key_pair_id() {
    let now_and_ip = ["--now", DURING, "--ip", VIEWER_IP];
    let url = with_param(
        &vector_url("canned-url-rsa-sha1"),
        "Key-Pair-Id",
        "KUNKNOWNKEY0001",
    );
    let run = verify(&url, &BTreeMap::new(), &now_and_ip);
    assert_denied(&run, "unknown key", "unknown id in the URL");
    assert!(run.stdout.contains("KUNKNOWNKEY0001"), "{run:?}");

    // The RSA key is not trusted: only the ECDSA one is.
    let args = [
        "verify",
        "--url",
        &vector_url("custom-url-rsa-sha1"),
        "--public-key",
        &format!("{ECDSA_ID}={}", vector_path("ecdsa_p256_public.pem")),
        "--now",
        DURING,
        "--ip",
        VIEWER_IP,
    ];
    let run = edgepass(&args);
    assert_denied(&run, "unknown key", "untrusted RSA key");

    let mut cookies = vector_cookies("custom-cookies-ecdsa-sha256");
    cookies.insert("CloudFront-Key-Pair-Id".to_owned(), "KUNKNOWNKEY0001".to_owned());
    assert_denied(
        &verify(CUSTOM_URL, &cookies, &now_and_ip),
        "unknown key",
        "cookies",
    );
}

#[test]
fn verify_denies_an_unsigned_request() {
    let run = verify(CUSTOM_URL, &BTreeMap::new(), &["--now", DURING]);
    assert_denied(&run, "key-pair id", "unsigned");
}

#[test]
fn a_url_signed_by_edgepass_with_either_key_is_allowed_by_edgepass_verify() {
    for (id, key, hash) in [
        (RSA_ID, rsa_private_key(), "SHA256"),
        (ECDSA_ID, vector_path("ecdsa_p256_private_sec1.pem"), "SHA256"),
        (ECDSA_ID, vector_path("ecdsa_p256_private_pkcs8.pem"), "SHA1"),
    ] {
        let mut args = sign_url_with(CUSTOM_URL, id, &["--private-key", &key, "--hash-algorithm", hash]);
        args.extend(custom_policy_flags().map(str::to_owned));
        let signed = succeed(&args);
        let run = verify(
            signed.trim_end(),
            &BTreeMap::new(),
            &["--now", DURING, "--ip", VIEWER_IP],
        );
        assert_allowed(&run, &format!("{id} {hash}"));
    }
}

#[test]
fn verify_takes_the_public_half_of_a_private_key_file() {
    // Local mode keeps only its private key file at hand; verify accepts it for --public-key.
    for (id, key) in [
        (RSA_ID, rsa_private_key()),
        (ECDSA_ID, vector_path("ecdsa_p256_private_pkcs8.pem")),
    ] {
        let signed = succeed(&sign_url_with(CANNED_URL, id, &["--private-key", &key]));
        let trusting_the_private_file = |url: &str| {
            edgepass(&[
                "verify",
                "--url",
                url,
                "--public-key",
                &format!("{id}={key}"),
                "--now",
                DURING,
            ])
        };
        assert_allowed(&trusting_the_private_file(signed.trim_end()), id);
        let forged = with_param(
            signed.trim_end(),
            "Signature",
            &tampered(&param(signed.trim_end(), "Signature")),
        );
        assert_denied(&trusting_the_private_file(&forged), "signature", id);
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error_naming_the_flag() {
    let run = edgepass(&sign_url_args(CANNED_URL, EXPIRES, &["--frobnicate"]));
    assert_usage_error(&run, &["--frobnicate"], "sign url");
    let run = edgepass(&["verify", "--url", CUSTOM_URL, "--frobnicate"]);
    assert_usage_error(&run, &["--frobnicate"], "verify");
}

#[test]
fn a_missing_required_flag_is_a_usage_error_naming_the_flag() {
    let without_key_id = [
        "sign",
        "url",
        "--url",
        CANNED_URL,
        "--private-key",
        &rsa_private_key(),
        "--date-less-than",
        EXPIRES,
    ];
    assert_usage_error(&edgepass(&without_key_id), &["--key-pair-id"], "sign url");
    let without_expiry = [
        "sign",
        "cookies",
        "--resource",
        CUSTOM_URL,
        "--key-pair-id",
        RSA_ID,
        "--private-key",
        &rsa_private_key(),
    ];
    assert_usage_error(&edgepass(&without_expiry), &["--date-less-than"], "sign cookies");
    let without_public_key = ["verify", "--url", CUSTOM_URL];
    assert_usage_error(&edgepass(&without_public_key), &["--public-key"], "verify");
}

#[test]
fn an_unreadable_key_file_is_a_usage_error_naming_the_file() {
    let missing = "/nonexistent/edgepass/key.pem";
    let args = sign_url_with(
        CANNED_URL,
        RSA_ID,
        &["--private-key", &format!("file://{missing}")],
    );
    assert_usage_error(&edgepass(&args), &[missing], "private key");
    let args = [
        "verify",
        "--url",
        CUSTOM_URL,
        "--public-key",
        &format!("{RSA_ID}={missing}"),
    ];
    assert_usage_error(&edgepass(&args), &[missing], "public key");
}

#[test]
fn a_key_edgepass_refuses_is_a_usage_error_saying_why() {
    for (file, why) in [
        ("rsa2048_pkcs8_encrypted.pem", "encrypted"),
        ("rsa3072_pkcs8.pem", "3072"),
        ("p384_sec1.pem", "P-384"),
        ("rsa2048_public.pem", "PUBLIC KEY"),
    ] {
        let args = sign_url_with(CANNED_URL, RSA_ID, &["--private-key", &keys_path(file)]);
        assert_usage_error(&edgepass(&args), &[why], file);
    }
    let args = [
        "verify",
        "--url",
        CUSTOM_URL,
        "--public-key",
        &format!("{RSA_ID}={}", keys_path("rsa2048_certificate.pem")),
    ];
    assert_usage_error(
        &edgepass(&args),
        &["CERTIFICATE", "PUBLIC KEY", "PRIVATE KEY"],
        "a certificate as a trusted key",
    );
}

#[test]
fn a_refused_key_given_as_pem_text_is_not_echoed_back() {
    let pem = std::fs::read_to_string(keys_path("rsa3072_pkcs8.pem")).expect("fixture");
    let flag = format!("--private-key={pem}");
    let args = sign_url_with(CANNED_URL, RSA_ID, &[flag.as_str()]);
    let run = edgepass(&args);
    assert_usage_error(&run, &["3072"], "inline RSA-3072 key");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for start in 0..=body.len() - 16 {
        let run_of_body = &body[start..start + 16];
        assert!(
            !run.stderr.contains(run_of_body),
            "stderr shows key material: {}",
            run.stderr
        );
    }
}

#[test]
fn a_malformed_time_is_a_usage_error_naming_the_flag() {
    for bad in ["soon", "2030-13-01", "1969-12-31", "2030/01/01", "18934560OO"] {
        let run = edgepass(&sign_url_args(CANNED_URL, bad, &[]));
        assert_usage_error(&run, &["--date-less-than", bad], bad);
    }
    let run = edgepass(&sign_url_args(
        CUSTOM_URL,
        EXPIRES,
        &["--date-greater-than", "yesterday"],
    ));
    assert_usage_error(&run, &["--date-greater-than", "yesterday"], "start");
    let mut args = vec!["verify".to_owned(), "--url".to_owned(), CUSTOM_URL.to_owned()];
    args.extend(trust_both_keys());
    args.extend(["--now".to_owned(), "tomorrow".to_owned()]);
    assert_usage_error(&edgepass(&args), &["--now", "tomorrow"], "verify --now");
}

#[test]
fn a_start_time_not_before_the_expiry_is_a_usage_error() {
    for start in [EXPIRES, "2031-01-01"] {
        let run = edgepass(&sign_url_args(
            CUSTOM_URL,
            EXPIRES,
            &["--date-greater-than", start],
        ));
        assert_usage_error(&run, &["start"], start);
    }
}

#[test]
fn an_invalid_cidr_is_a_usage_error_naming_it() {
    for bad in [
        "192.0.2.0/33",
        "192.0.2.0/",
        "192.0.2",
        "300.0.2.1",
        "192.0.2.0/24/8",
        "example.com",
    ] {
        let run = edgepass(&sign_url_args(CUSTOM_URL, EXPIRES, &["--ip-address", bad]));
        assert_usage_error(&run, &[bad], bad);
    }
}

#[test]
fn an_ipv6_ip_address_is_a_usage_error_saying_ipv6() {
    for v6 in ["2001:db8::/32", "2001:db8::1"] {
        let run = edgepass(&sign_url_args(CUSTOM_URL, EXPIRES, &["--ip-address", v6]));
        assert_usage_error(&run, &[v6, "IPv6"], v6);
        let run = edgepass(&sign_cookies_args(CUSTOM_RESOURCE, &["--ip-address", v6]));
        assert_usage_error(&run, &[v6, "IPv6"], v6);
    }
}

#[test]
fn a_reserved_parameter_already_in_the_url_is_a_usage_error_naming_it() {
    for name in ["Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"] {
        let url = format!("{CUSTOM_URL}?size=large&{name}=1");
        let run = edgepass(&sign_url_args(&url, EXPIRES, &[]));
        assert_usage_error(&run, &[name], name);
        let run = edgepass(&sign_url_args(
            &url,
            EXPIRES,
            &["--policy-resource", CUSTOM_RESOURCE],
        ));
        assert_usage_error(&run, &[name], name);
    }
}

#[test]
fn a_url_with_a_fragment_is_a_usage_error_saying_so() {
    let url = format!("{CUSTOM_URL}#top");
    let run = edgepass(&sign_url_args(&url, EXPIRES, &[]));
    assert_usage_error(&run, &["fragment"], "canned");
    let run = edgepass(&sign_url_args(
        &url,
        EXPIRES,
        &["--policy-resource", CUSTOM_RESOURCE],
    ));
    assert_usage_error(&run, &["fragment"], "custom");
}

#[test]
fn an_unknown_hash_algorithm_is_a_usage_error_naming_it() {
    for bad in ["SHA512", "sha256", "SHA-256", ""] {
        let run = edgepass(&sign_url_args(CANNED_URL, EXPIRES, &["--hash-algorithm", bad]));
        assert_usage_error(&run, &[&format!("{bad:?}")], bad);
    }
}

#[test]
fn a_url_outside_the_policy_resource_is_a_usage_error_naming_both() {
    let url = format!("{DOMAIN}/users/bob/photo.jpg");
    let run = edgepass(&sign_url_args(
        &url,
        EXPIRES,
        &["--policy-resource", CUSTOM_RESOURCE],
    ));
    assert_usage_error(&run, &[&url, CUSTOM_RESOURCE], "bob under alice's pattern");
}

#[test]
fn an_invalid_key_pair_id_is_a_usage_error_naming_it() {
    let args = sign_url_with(CANNED_URL, "K2JC-JMDE", &["--private-key", &rsa_private_key()]);
    assert_usage_error(&edgepass(&args), &["K2JC-JMDE"], "sign");
    let args = [
        "verify",
        "--url",
        CUSTOM_URL,
        "--public-key",
        &vector_path("rsa2048_public.pem"),
    ];
    assert_usage_error(&edgepass(&args), &["KEY_PAIR_ID=FILE"], "verify without an id");
}
