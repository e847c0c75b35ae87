//! `edgepass keys register` and `edgepass keys retire` against moto's CloudFront API: the binary as an
//! operator runs it, configured through the same `EDGEPASS_*` variables as the service.
//!
//! moto 5.2.5 creates and reads key groups but has no UpdateKeyGroup, answers 500 for an unknown group and
//! drops a group's comment; `tests/aws/moto_key_groups.py` adds those to its server as CloudFront documents
//! them (whole-configuration updates guarded by `If-Match`), and these tests run against that. The retry
//! after a concurrent change is tested against a fake group in `src/aws/cloudfront/key_groups.rs`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{KeyGroupConfig, PublicKeyConfig};

use crate::moto::Moto;

const RSA_PUBLIC: &str = "throwaway-example-rsa2048-public.pem";
const ECDSA_PUBLIC: &str = "throwaway-example-ecdsa-p256-public.pem";
const ECDSA_PRIVATE: &str = "throwaway-example-ecdsa-p256-private.pem";

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("keys.example")
        .join(name)
}

fn example_text(name: &str) -> String {
    std::fs::read_to_string(example(name)).expect("example key")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

async fn client(moto: &Moto) -> Client {
    edgepass::aws::cloudfront::api_client(Some(moto.endpoint()), Some(("testing", "testing"))).await
}

/// Registers a public key straight through the API, as `infra/` does for the first key.
pub(crate) async fn create_public_key(client: &Client, name: &str, pem: &str) -> String {
    let config = PublicKeyConfig::builder()
        .name(name)
        .caller_reference(name)
        .encoded_key(pem)
        .build()
        .expect("public key config");
    let created = client
        .create_public_key()
        .public_key_config(config)
        .send()
        .await
        .expect("CreatePublicKey");
    created.public_key().expect("public key").id().to_owned()
}

async fn create_key_group(client: &Client, items: &[&str]) -> String {
    create_key_group_named(client, "edgepass-signers", items).await
}

async fn create_key_group_named(client: &Client, name: &str, items: &[&str]) -> String {
    let config = KeyGroupConfig::builder()
        .name(name)
        .comment("tests")
        .set_items(Some(items.iter().map(|s| (*s).to_owned()).collect()))
        .build()
        .expect("key group config");
    let created = client
        .create_key_group()
        .key_group_config(config)
        .send()
        .await
        .expect("CreateKeyGroup");
    created.key_group().expect("key group").id().to_owned()
}

async fn group_items(client: &Client, group: &str) -> Vec<String> {
    let output = client
        .get_key_group()
        .id(group)
        .send()
        .await
        .expect("GetKeyGroup");
    let config = output
        .key_group()
        .and_then(|g| g.key_group_config())
        .expect("key group config");
    assert_eq!(config.name(), "edgepass-signers", "the name survives updates");
    assert_eq!(config.comment(), Some("tests"), "the comment survives updates");
    config.items().to_vec()
}

async fn public_key_count(client: &Client) -> usize {
    let output = client.list_public_keys().send().await.expect("ListPublicKeys");
    output.public_key_list().map_or(0, |list| list.items().len())
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `edgepass keys …` with only the given `EDGEPASS_*` variables, plus moto's endpoint and
/// credentials.
async fn edgepass(moto: &Moto, env: &[(&str, String)], args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgepass"))
        .arg("keys")
        .args(args)
        .env_clear()
        .env("EDGEPASS_CLOUDFRONT_ENDPOINT_URL", moto.endpoint())
        .env("EDGEPASS_AWS_ACCESS_KEY_ID", "testing")
        .env("EDGEPASS_AWS_SECRET_ACCESS_KEY", "testing")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .expect("the edgepass binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// The service's configuration with `active` as its signing key.
fn signing_with(active: &str) -> Vec<(&'static str, String)> {
    vec![
        ("EDGEPASS_CDN_KEY_PAIR_ID", active.to_owned()),
        (
            "EDGEPASS_CDN_PRIVATE_KEY_FILE",
            example(ECDSA_PRIVATE).to_str().expect("path").to_owned(),
        ),
    ]
}

fn assert_one_line_refusal(run: &Run, needle: &str) {
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stdout, "", "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains(needle), "expected {needle:?}: {run:?}");
}

/// A key group trusting the RSA example key (`old`) and the ECDSA one (`new`).
async fn group_of_two(client: &Client) -> (String, String, String) {
    let old = create_public_key(client, "old", &example_text(RSA_PUBLIC)).await;
    let new = create_public_key(client, "new", &example_text(ECDSA_PUBLIC)).await;
    let group = create_key_group(client, &[&old, &new]).await;
    (group, old, new)
}

fn retire_args<'a>(key: &'a str, group: &'a str, stopped: &'a str) -> Vec<&'a str> {
    vec![
        "retire",
        "--key-pair-id",
        key,
        "--key-group",
        group,
        "--stopped-signing-at",
        stopped,
    ]
}

#[tokio::test]
async fn register_adds_the_public_key_to_the_key_group_and_prints_its_id() {
    let moto = Moto::start_with_key_groups().await;
    let client = client(&moto).await;
    let old = create_public_key(&client, "old", &example_text(RSA_PUBLIC)).await;
    let group = create_key_group(&client, &[&old]).await;

    let public = example(ECDSA_PUBLIC);
    let run = edgepass(
        &moto,
        &[],
        &[
            "register",
            "--public-key",
            public.to_str().expect("path"),
            "--key-group",
            &group,
            "--name",
            "edgepass-test-new",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let new = run.stdout.trim().to_owned();
    assert_eq!(run.stdout, format!("{new}\n"), "only the id on standard output");
    assert_ne!(new, old);

    assert_eq!(group_items(&client, &group).await, [old, new.clone()]);
    let stored = client
        .get_public_key()
        .id(&new)
        .send()
        .await
        .expect("GetPublicKey");
    let config = stored
        .public_key()
        .and_then(|k| k.public_key_config())
        .expect("public key config");
    assert_eq!(config.name(), "edgepass-test-new");
    assert_eq!(config.encoded_key().trim(), example_text(ECDSA_PUBLIC).trim());
}

#[tokio::test]
async fn register_with_a_kms_key_id_registers_the_kms_keys_public_half() {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    use base64::Engine;

    let moto = Moto::start_with_key_groups().await;
    let client = client(&moto).await;
    let old = create_public_key(&client, "old", &example_text(RSA_PUBLIC)).await;
    let group = create_key_group(&client, &[&old]).await;
    let kms_key = crate::kms::create_key(&moto, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let kms_env = [("EDGEPASS_KMS_ENDPOINT_URL", moto.endpoint().to_owned())];

    let run = edgepass(
        &moto,
        &kms_env,
        &["register", "--kms-key-id", &kms_key, "--key-group", &group],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let new = run.stdout.trim().to_owned();
    assert!(
        run.stderr.contains(&format!(
            "EDGEPASS_CDN_KMS_KEY_ID={kms_key} EDGEPASS_CDN_KEY_PAIR_ID={new}"
        )),
        "{run:?}"
    );
    assert_eq!(group_items(&client, &group).await, [old, new.clone()]);
    let stored = client
        .get_public_key()
        .id(&new)
        .send()
        .await
        .expect("GetPublicKey");
    let pem = stored
        .public_key()
        .and_then(|k| k.public_key_config())
        .expect("config")
        .encoded_key()
        .to_owned();
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    let registered = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    let kms = crate::kms::kms_client(&moto).await;
    let public = kms
        .get_public_key()
        .key_id(&kms_key)
        .send()
        .await
        .expect("KMS GetPublicKey");
    assert_eq!(
        registered,
        public.public_key().expect("DER").as_ref(),
        "the KMS key's public half"
    );

    // A key meant for encryption is refused before anything is registered.
    let encryption =
        crate::kms::create_key(&moto, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    let refused = edgepass(
        &moto,
        &kms_env,
        &["register", "--kms-key-id", &encryption, "--key-group", &group],
    )
    .await;
    assert_one_line_refusal(&refused, "SIGN_VERIFY");
    assert_eq!(group_items(&client, &group).await.len(), 2);
}

#[tokio::test]
async fn register_refuses_a_private_key_and_an_unknown_group_without_creating_a_key() {
    let moto = Moto::start_with_key_groups().await;
    let client = client(&moto).await;
    let old = create_public_key(&client, "old", &example_text(RSA_PUBLIC)).await;
    let group = create_key_group(&client, &[&old]).await;
    let before = public_key_count(&client).await;

    let private = example(ECDSA_PRIVATE);
    let run = edgepass(
        &moto,
        &[],
        &[
            "register",
            "--public-key",
            private.to_str().expect("path"),
            "--key-group",
            &group,
        ],
    )
    .await;
    assert_one_line_refusal(&run, "expected a public key");
    assert!(
        !run.stderr.contains("MIG"),
        "no key material in the message: {run:?}"
    );

    let public = example(ECDSA_PUBLIC);
    let run = edgepass(
        &moto,
        &[],
        &[
            "register",
            "--public-key",
            public.to_str().expect("path"),
            "--key-group",
            "00000000-0000-4000-8000-000000000000",
        ],
    )
    .await;
    assert_one_line_refusal(&run, "no key group 00000000-0000-4000-8000-000000000000");

    assert_eq!(public_key_count(&client).await, before);
    assert_eq!(group_items(&client, &group).await, [old]);
}

#[tokio::test]
async fn retire_removes_a_key_that_stopped_signing_longer_ago_than_any_signature_lives() {
    let moto = Moto::start_with_key_groups().await;
    let client = client(&moto).await;
    let (group, old, new) = group_of_two(&client).await;

    // Defaults: cookies live 3600 s, plus a 300 s window and a 300 s margin.
    let stopped = (now() - 4300).to_string();
    let run = edgepass(&moto, &signing_with(&new), &retire_args(&old, &group, &stopped)).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains(&format!("retired {old}")), "{run:?}");
    assert_eq!(group_items(&client, &group).await, [new]);
}

#[tokio::test]
async fn retire_refuses_the_configured_signing_key_and_a_missing_stop_time() {
    let moto = Moto::start_with_key_groups().await;
    let client = client(&moto).await;
    let (group, old, new) = group_of_two(&client).await;
    let long_ago = "2020-01-01T00:00:00Z";

    let active = edgepass(&moto, &signing_with(&old), &retire_args(&old, &group, long_ago)).await;
    assert_one_line_refusal(&active, "is the configured signing key");

    let unconfigured = edgepass(&moto, &[], &retire_args(&old, &group, long_ago)).await;
    assert_one_line_refusal(&unconfigured, "EDGEPASS_CDN_KEY_PAIR_ID is not set");

    let no_time = edgepass(
        &moto,
        &signing_with(&new),
        &["retire", "--key-pair-id", &old, "--key-group", &group],
    )
    .await;
    assert_one_line_refusal(&no_time, "--stopped-signing-at is required");

    assert_eq!(group_items(&client, &group).await, [old, new]);
}

#[tokio::test]
async fn retire_refuses_while_signatures_may_be_unexpired_and_force_overrides_it() {
    let moto = Moto::start_with_key_groups().await;
    let client = client(&moto).await;
    let (group, old, new) = group_of_two(&client).await;

    let stopped = (now() - 600).to_string();
    let longer_cookies = {
        let mut env = signing_with(&new);
        env.push(("EDGEPASS_CDN_COOKIE_TTL_SECS", "60".to_owned()));
        env.push(("EDGEPASS_SHARE_LINK_URL_TTL_SECS", "7200".to_owned()));
        env
    };
    let run = edgepass(&moto, &longer_cookies, &retire_args(&old, &group, &stopped)).await;
    assert_one_line_refusal(&run, "may be valid until");
    assert!(run.stderr.contains("signatures live up to 7500s"), "{run:?}");
    assert_eq!(group_items(&client, &group).await, [old.clone(), new.clone()]);

    let mut forced = retire_args(&old, &group, &stopped);
    forced.push("--force");
    let run = edgepass(&moto, &longer_cookies, &forced).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.starts_with("warning: --force overrides"), "{run:?}");
    assert_eq!(group_items(&client, &group).await, [new]);
}

#[tokio::test]
async fn retire_refuses_a_key_not_in_the_group_and_the_group_s_last_key() {
    let moto = Moto::start_with_key_groups().await;
    let client = client(&moto).await;
    let (group, old, new) = group_of_two(&client).await;
    let long_ago = "2020-01-01";

    let unknown = edgepass(
        &moto,
        &signing_with(&new),
        &retire_args("KNOTREGISTERED", &group, long_ago),
    )
    .await;
    assert_one_line_refusal(&unknown, "key KNOTREGISTERED is not in key group");

    let lone = create_key_group_named(&client, "edgepass-lone", &[&old]).await;
    let last = edgepass(&moto, &signing_with(&new), &retire_args(&old, &lone, long_ago)).await;
    assert_one_line_refusal(&last, "is the only key in key group");

    let no_group = edgepass(
        &moto,
        &signing_with(&new),
        &retire_args(&old, "00000000-0000-4000-8000-000000000000", long_ago),
    )
    .await;
    assert_one_line_refusal(&no_group, "there is no key group");

    assert_eq!(group_items(&client, &group).await, [old, new]);
}

#[tokio::test]
async fn registrations_at_the_same_time_both_end_up_in_the_group() {
    let moto = Moto::start_with_key_groups().await;
    let client = client(&moto).await;
    let old = create_public_key(&client, "old", &example_text(RSA_PUBLIC)).await;
    let group = create_key_group(&client, &[&old]).await;

    let public = example(ECDSA_PUBLIC);
    let public = public.to_str().expect("path");
    let register = |name: &'static str| {
        let args = [
            "register",
            "--public-key",
            public,
            "--key-group",
            &group,
            "--name",
            name,
        ];
        let moto = &moto;
        async move { edgepass(moto, &[], &args).await }
    };
    let (a, b) = tokio::join!(register("edgepass-a"), register("edgepass-b"));
    assert_eq!(a.code, Some(0), "{a:?}");
    assert_eq!(b.code, Some(0), "{b:?}");
    let mut items = group_items(&client, &group).await;
    items.sort();
    let mut expected = vec![old, a.stdout.trim().to_owned(), b.stdout.trim().to_owned()];
    expected.sort();
    assert_eq!(items, expected, "neither registration overwrote the other");
}

#[tokio::test]
async fn register_without_credentials_prints_one_short_readable_line() {
    // No AWS credentials anywhere (no variables, an empty home, no instance metadata) and a CloudFront
    // endpoint nothing listens on: the SDK's error has several layers of causes.
    let home = tempfile::tempdir().expect("an empty home");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgepass"))
        .args(["keys", "register", "--key-group", "KG1", "--public-key"])
        .arg(example(ECDSA_PUBLIC))
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "EDGEPASS_CLOUDFRONT_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", crate::moto::free_port()),
        )
        .output()
        .await
        .expect("the edgepass binary runs");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty(), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: CloudFront GetKeyGroup: "), "{stderr}");
    assert!(
        stderr.contains("no AWS credentials found (tried Environment, "),
        "the cause is named: {stderr}"
    );
    // The SDK's debug dump ran to about 900 characters of nested structs.
    assert!(stderr.len() < 250, "{} characters: {stderr}", stderr.len());
    for dump in ["{", "source:", "ConnectorError", "kind:"] {
        assert!(!stderr.contains(dump), "{dump:?} in {stderr}");
    }
}
