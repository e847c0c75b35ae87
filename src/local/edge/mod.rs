//! The local edge: local mode's stand-in for the CloudFront distribution, on a loopback port of its own.
//!
//! It has the distribution's behaviors (`users/*` needs a valid signed URL or signed cookies, `public/*`
//! needs nothing, anything else is denied), decides signatures with the signing core's verifier as
//! CloudFront does, answers refusals with CloudFront's 403 and XML body, and streams allowed objects
//! from the store with their validators, conditional requests and single byte ranges.
//!
//! The URL whose signature is checked and the object that is served both come from the request target
//! alone ([`resolve`]): the CDN base URL plus the path and query as received, and that path decoded.
//! The `Host` header takes no part, so no viewer can choose what the signature is checked against.

mod behavior;
mod conditional;
mod denial;
mod object;
mod redact;
mod server;
mod target;

pub use behavior::{BadPath, Behavior, is_servable, object_key};
pub use conditional::{Precondition, Span, Validators, preconditions, span};
pub use denial::Refusal;
pub use server::{Edge, bind};
pub use target::{BadTarget, Target, resolve};

use crate::cdn_signer::CdnSigner;
use crate::signing::{Denial, Grant, KeyLookup, ViewerRequest, verify};

/// The keys the edge trusts, asked at every request, so a ring that gains or retires keys (rotation)
/// is followed without restarting the edge.
pub trait TrustedKeys: Send + Sync + 'static {
    /// Decides `request` against the keys trusted now.
    fn decide(&self, request: &ViewerRequest<'_>) -> Result<Grant, Denial>;
}

/// The service's key ring: every key in it verifies, whichever one signs.
impl TrustedKeys for CdnSigner {
    fn decide(&self, request: &ViewerRequest<'_>) -> Result<Grant, Denial> {
        verify(self.keys(), request)
    }
}

/// Any fixed set of keys (a `KeyRing`, a list of public keys).
impl<K: KeyLookup + Send + Sync + 'static> TrustedKeys for K {
    fn decide(&self, request: &ViewerRequest<'_>) -> Result<Grant, Denial> {
        verify(self, request)
    }
}
