//! `edgepass explain` on the HAR files Chromium recorded against the local edge
//! (`tests/fixtures/har`, made by `tests/browser/har.mjs`): the decisions and their reasons, and what
//! a changed signature byte or a swapped hash algorithm in a recording turns into.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::support::{Run, edgepass_configured};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/har")
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).expect("a fixture")
}

/// `ID=FILE` of the key that signed the recordings.
fn key_flag() -> String {
    format!(
        "{}={}",
        fixture_text("cdn-key-pair-id").trim(),
        fixtures().join("cdn-public.pem").display()
    )
}

fn edge() -> String {
    fixture_text("cdn-origin").trim().to_owned()
}

/// `edgepass explain` on the HAR file `har` with the recording key and edge.
fn explain(har: &Path, extra: &[&str]) -> Run {
    let key = key_flag();
    let edge = edge();
    let har = har.to_str().expect("UTF-8 path");
    let mut args = vec!["explain", "--har", har, "--public-key", &key, "--cdn", &edge];
    args.extend_from_slice(extra);
    edgepass_configured(&args, &[])
}

fn explain_fixture(name: &str) -> Run {
    explain(&fixtures().join(format!("{name}.har")), &[])
}

fn lines<'a>(run: &'a Run, prefix: &str) -> Vec<&'a str> {
    run.stdout.lines().filter(|l| l.starts_with(prefix)).collect()
}

/// The recording `name` with every occurrence of `from` replaced by `to`, in a temporary file.
fn changed_fixture(name: &str, from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    let text = fixture_text(&format!("{name}.har"));
    assert!(text.contains(from), "{name}.har holds {from}");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(format!("{name}.har"));
    std::fs::write(&path, text.replace(from, to)).expect("write");
    (dir, path)
}

/// The value of the first `CloudFront-Signature` a request of `name` sent.
fn sent_signature(name: &str) -> String {
    let har: Value = serde_json::from_str(&fixture_text(&format!("{name}.har"))).expect("JSON");
    har["log"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .flat_map(|entry| {
            entry["request"]["headers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|header| {
            header["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("cookie"))
        })
        .filter_map(|header| header["value"].as_str().map(str::to_owned))
        .flat_map(|value| {
            value
                .split(';')
                .map(|pair| pair.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .find_map(|pair| pair.strip_prefix("CloudFront-Signature=").map(str::to_owned))
        .expect("a signature was sent")
}

#[test]
fn a_good_page_load_is_allowed_throughout() {
    let run = explain_fixture("good");
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(lines(&run, "DENY").is_empty(), "{run:?}");
    let allowed = lines(&run, "ALLOW GET");
    assert!(!allowed.is_empty(), "{run:?}");
    assert!(
        allowed
            .iter()
            .all(|l| l.contains("/users/1/") && l.contains("cookies at Path=/users/1/")),
        "{run:?}"
    );
    assert!(run.stdout.contains("0 denied"), "{run:?}");
}

#[test]
fn an_expired_set_is_denied_with_how_long_before_the_request_it_ended() {
    let run = explain_fixture("expired");
    assert_eq!(run.code, Some(1), "{run:?}");
    let denied = lines(&run, "DENY");
    let [line] = denied.as_slice() else {
        panic!("one denial: {run:?}");
    };
    let seconds: u64 = line
        .split("expired ")
        .nth(1)
        .and_then(|rest| rest.split(" s before the request").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("expired N s before the request: {line}"));
    assert!((1..60).contains(&seconds), "{line}");
    assert!(line.contains("by the response's Date"), "{line}");
    // The loads before the policy ended were allowed.
    assert!(!lines(&run, "ALLOW").is_empty(), "{run:?}");
}

#[test]
fn a_logged_out_browser_sent_no_cookie_set_and_holds_none() {
    let run = explain_fixture("logged-out");
    assert_eq!(run.code, Some(1), "{run:?}");
    let denied = lines(&run, "DENY");
    assert_eq!(denied.len(), 1, "{run:?}");
    assert!(denied[0].contains("no CloudFront cookie set"), "{run:?}");
    assert!(
        denied[0].contains("the browser holds no CloudFront cookie set"),
        "{run:?}"
    );
}

#[test]
fn another_users_image_shows_the_held_set_its_resource_and_the_url() {
    let run = explain_fixture("other-user");
    assert_eq!(run.code, Some(1), "{run:?}");
    let denied = lines(&run, "DENY");
    let [line] = denied.as_slice() else {
        panic!("one denial: {run:?}");
    };
    let url = line
        .split_whitespace()
        .nth(2)
        .and_then(|u| u.strip_suffix(':'))
        .expect("the URL");
    assert!(url.contains("/users/1/"), "Alice's image: {line}");
    assert!(
        line.contains(
            "held at Path=/users/2/ but not sent for this URL: Path=/users/2/ does not cover /users/1/"
        ),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "resource mismatch: the policy's Resource {}/users/2/* does not cover this URL",
            edge()
        )),
        "{line}"
    );
}

#[test]
fn a_wrong_cookie_path_shows_the_set_held_at_it_and_the_url_it_does_not_cover() {
    let run = explain_fixture("wrong-path");
    assert_eq!(run.code, Some(1), "{run:?}");
    let denied = lines(&run, "DENY");
    assert!(!denied.is_empty(), "{run:?}");
    for line in denied {
        assert!(
            line.contains("held at Path=/api/users/1/ but not sent for this URL: Path=/api/users/1/ does not cover /users/1/"),
            "{line}"
        );
        assert!(line.ends_with("(sent, it would be allowed)"), "{line}");
    }
}

#[test]
fn a_changed_signature_byte_is_a_bad_signature() {
    let signature = sent_signature("good");
    let middle = signature.len() / 2;
    let replacement = if &signature[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    let changed = format!(
        "{}{replacement}{}",
        &signature[..middle],
        &signature[middle + 1..]
    );
    let (_dir, har) = changed_fixture("good", &signature, &changed);
    let run = explain(&har, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let denied = lines(&run, "DENY");
    assert!(!denied.is_empty(), "{run:?}");
    assert!(denied.iter().all(|l| l.contains("bad signature")), "{run:?}");
}

#[test]
fn a_swapped_hash_algorithm_is_named_as_such() {
    let (_dir, har) = changed_fixture(
        "good",
        "CloudFront-Hash-Algorithm=SHA256",
        "CloudFront-Hash-Algorithm=SHA1",
    );
    let run = explain(&har, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let denied = lines(&run, "DENY");
    assert!(!denied.is_empty(), "{run:?}");
    assert!(
        denied.iter().all(|l| l
            .contains("hash algorithm mismatch: the signature is over SHA256, but the request says SHA1")),
        "{run:?}"
    );
}

#[test]
fn the_verbose_report_shows_the_policy_and_never_a_whole_signature_or_session() {
    let run = explain(&fixtures().join("good.har"), &["--verbose"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains(r#"custom policy: {"Statement":[{"Resource":""#),
        "{run:?}"
    );
    assert!(run.stdout.contains("sent set 1: Path=/users/1/"), "{run:?}");
    assert!(run.stdout.contains("CloudFront reads: sent set 1"), "{run:?}");
    assert!(!run.stdout.contains(&sent_signature("good")), "{run:?}");
    assert!(!run.stdout.contains("edgepass_session"), "{run:?}");
}

#[test]
fn without_flags_the_configured_key_is_used_and_cdn_requests_are_recognised() {
    let data = tempfile::tempdir().expect("dir");
    for file in ["cdn-public.pem", "cdn-key-pair-id"] {
        std::fs::copy(fixtures().join(file), data.path().join(file)).expect("copy");
    }
    let data_dir = data.path().to_str().expect("UTF-8 path");
    let har = fixtures().join("other-user.har");
    let run = edgepass_configured(
        &["explain", "--har", har.to_str().expect("UTF-8 path")],
        &[("EDGEPASS_DATA_DIR", data_dir)],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    // The configured edge (127.0.0.1:8081) is not the recording's: requests are picked by what they ask for.
    assert!(
        run.stderr
            .contains("no request in the HAR goes to the configured CDN"),
        "{run:?}"
    );
    assert_eq!(lines(&run, "DENY"), lines(&explain_fixture("other-user"), "DENY"));
    assert!(
        !data.path().join("cdn-signing-key.pem").exists(),
        "explain made no key"
    );
}

#[test]
fn an_unknown_key_id_lists_the_trusted_ones() {
    let pem = fixtures().join("cdn-public.pem");
    let key = format!("KOTHERKEY1234={}", pem.display());
    let har = fixtures().join("good.har");
    let edge = edge();
    let run = edgepass_configured(
        &[
            "explain",
            "--har",
            har.to_str().expect("UTF-8 path"),
            "--public-key",
            &key,
            "--cdn",
            &edge,
        ],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    let id = fixture_text("cdn-key-pair-id");
    assert!(
        lines(&run, "DENY")
            .iter()
            .all(|l| l.contains(&format!("unknown key id {} (trusted: KOTHERKEY1234)", id.trim()))),
        "{run:?}"
    );
}

#[test]
fn a_file_that_is_not_a_har_is_a_usage_error_on_one_line() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("page.html");
    std::fs::write(&path, "<html></html>").expect("write");
    let key = key_flag();
    for har in [path.to_str().expect("UTF-8 path"), "/no/such/file.har"] {
        let run = edgepass_configured(&["explain", "--har", har, "--public-key", &key], &[]);
        assert_eq!(run.code, Some(2), "{run:?}");
        assert_eq!(run.stdout, "", "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert!(run.stderr.starts_with("error: "), "{run:?}");
    }
}
