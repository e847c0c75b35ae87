//! `public_key`: CloudFront holds the configured key's public half under `EDGEPASS_CDN_KEY_PAIR_ID`;
//! `chain`: a URL signed by the service itself verifies with that key, by CloudFront's rules.

use crate::doctor::expected::Expected;
use crate::doctor::gather::{Fact, ServiceSigning, TEST_OBJECT};
use crate::doctor::report::{Finding, Status};
use crate::signing::{KeyPairId, VerifyingKey, ViewerRequest, verify};

/// The `public_key` finding.
pub(crate) fn public_key(
    expected: &Expected,
    registered: &Fact<Option<Vec<u8>>>,
    service: &Fact<ServiceSigning>,
) -> Finding {
    const CHECK: &str = "public_key";
    let id = &expected.key_pair_id;
    let service = match service {
        Ok(service) => service,
        Err(why) => {
            return Finding::fail(
                CHECK,
                why.clone(),
                "check EDGEPASS_CDN_PRIVATE_KEY_FILE (or EDGEPASS_CDN_PRIVATE_KEY, EDGEPASS_CDN_KMS_KEY_ID)",
            );
        }
    };
    match registered {
        Err(why) => Finding::fail(
            CHECK,
            format!("the public key {id} could not be read: {why}"),
            "check that these credentials may call cloudfront:GetPublicKey",
        ),
        Ok(None) => Finding::fail(
            CHECK,
            format!("CloudFront holds no public key {id} (EDGEPASS_CDN_KEY_PAIR_ID)"),
            "register the key's public half (edgepass keys register) and set EDGEPASS_CDN_KEY_PAIR_ID to \
             the id it prints",
        ),
        Ok(Some(der)) if *der == service.public_key_der => Finding::ok(
            CHECK,
            format!("CloudFront's public key {id} is the public half of the configured signing key"),
        ),
        Ok(Some(_)) => Finding::fail(
            CHECK,
            format!(
                "CloudFront's public key {id} is not the public half of the configured signing key: CloudFront \
                 refuses every signature"
            ),
            "set EDGEPASS_CDN_KEY_PAIR_ID to the id this key's public half is registered under, or register \
             it (edgepass keys register)",
        ),
    }
}

/// The `chain` finding: run only when `public_key` passed, since it verifies with that key.
pub(crate) fn chain(
    expected: &Expected,
    public_key: &Finding,
    registered: &Fact<Option<Vec<u8>>>,
    service: &Fact<ServiceSigning>,
) -> Finding {
    const CHECK: &str = "chain";
    let (Status::Ok, Ok(Some(der)), Ok(service)) = (public_key.status, registered, service) else {
        return Finding::skip(CHECK, "not run: the public_key check failed");
    };
    let id = &expected.key_pair_id;
    let key = match KeyPairId::parse(id)
        .map_err(|e| e.to_string())
        .and_then(|key_pair_id| VerifyingKey::from_spki_der(key_pair_id, der).map_err(|e| e.to_string()))
    {
        Ok(key) => key,
        Err(why) => {
            return Finding::fail(
                CHECK,
                format!("CloudFront's public key {id} cannot verify signatures: {why}"),
                "register an RSA-2048 or ECDSA P-256 public key",
            );
        }
    };
    let request = ViewerRequest {
        url: &service.test_url,
        cookies: &[],
        viewer_ip: None,
        now: service.signed_at,
    };
    match verify(&key, &request) {
        Ok(grant) => Finding::ok(
            CHECK,
            format!(
                "a URL for {TEST_OBJECT} signed by the service ({}) verifies with CloudFront's key {id}",
                grant.hash
            ),
        ),
        Err(denial) => Finding::fail(
            CHECK,
            format!(
                "a URL for {TEST_OBJECT} signed by the service is refused with CloudFront's key {id}: {denial}"
            ),
            "compare EDGEPASS_CDN_ALGORITHM with the key, and the key with the one registered",
        ),
    }
}
