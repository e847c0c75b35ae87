//! RSA-2048 PKCS#1 v1.5 signing through AWS-LC.
//!
//! AWS-LC signs RSA-2048 about five times faster than the pure-Rust `rsa` crate, with constant-time
//! modular exponentiation and blinding. Its safe Rust wrapper (aws-lc-rs) refuses to *sign* with SHA-1,
//! which is CloudFront's default hash, so this module calls `RSA_sign` directly. The unsafe surface
//! is kept to four calls, each commented with what makes it sound.

use std::ptr::NonNull;

use aws_lc_rs::digest;
use aws_lc_sys as ffi;

use super::HashAlgorithm;
use super::error::{KeyError, SignError};

/// The only RSA size CloudFront key groups accept.
const REQUIRED_BITS: u32 = 2048;

/// An RSA-2048 private key owned by AWS-LC.
pub(crate) struct RsaPrivateKey {
    rsa: NonNull<ffi::RSA>,
}

// SAFETY: AWS-LC's RSA objects are immutable after parsing except for internal caches (Montgomery
// contexts, blinding), which AWS-LC guards with the object's own lock; concurrent `RSA_sign` calls on
// one key are supported.
unsafe impl Send for RsaPrivateKey {}
// SAFETY: see `Send` above.
unsafe impl Sync for RsaPrivateKey {}

impl RsaPrivateKey {
    /// Parses a PKCS#1 `RSAPrivateKey` DER structure and checks that it is a consistent 2048-bit key.
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        // SAFETY: the pointer and length describe a live slice; AWS-LC copies what it needs and returns
        // either null or a key we now own.
        let raw = unsafe { ffi::RSA_private_key_from_bytes(der.as_ptr(), der.len()) };
        let rsa = NonNull::new(raw).ok_or(KeyError::MalformedKey("not an RSA private key"))?;
        let key = Self { rsa };
        // SAFETY: `key.rsa` is a valid key for the lifetime of `key`.
        let (bits, consistent) = unsafe {
            (
                ffi::RSA_bits(key.rsa.as_ptr()),
                ffi::RSA_check_key(key.rsa.as_ptr()) == 1,
            )
        };
        if !consistent {
            return Err(KeyError::MalformedKey("RSA key components are inconsistent"));
        }
        if bits != REQUIRED_BITS {
            return Err(KeyError::RsaKeySize(bits));
        }
        Ok(key)
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 over the given hash; the result is 256 bytes.
    pub(crate) fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let (algorithm, nid) = match hash {
            HashAlgorithm::Sha1 => (&digest::SHA1_FOR_LEGACY_USE_ONLY, ffi::NID_sha1),
            HashAlgorithm::Sha256 => (&digest::SHA256, ffi::NID_sha256),
        };
        let digest = digest::digest(algorithm, message);
        let digest = digest.as_ref();
        let mut signature = vec![0u8; (REQUIRED_BITS / 8) as usize];
        let mut written: std::os::raw::c_uint = 0;
        // SAFETY: `signature` has room for RSA_size(rsa) = 256 bytes, the digest slice is live, and the
        // key is valid; AWS-LC writes at most RSA_size bytes and reports how many in `written`.
        let ok = unsafe {
            ffi::RSA_sign(
                nid,
                digest.as_ptr(),
                digest.len(),
                signature.as_mut_ptr(),
                &mut written,
                self.rsa.as_ptr(),
            )
        };
        if ok != 1 || written as usize != signature.len() {
            return Err(SignError::Backend);
        }
        Ok(signature)
    }

    /// The public half as a PKCS#1 `RSAPublicKey` DER structure.
    pub(crate) fn public_key_der(&self) -> Result<Vec<u8>, KeyError> {
        let mut out: *mut u8 = std::ptr::null_mut();
        let mut len: usize = 0;
        // SAFETY: AWS-LC allocates `out` and sets `len` on success; the key is valid.
        let ok = unsafe { ffi::RSA_public_key_to_bytes(&mut out, &mut len, self.rsa.as_ptr()) };
        if ok != 1 || out.is_null() {
            return Err(KeyError::MalformedKey("cannot encode the RSA public key"));
        }
        // SAFETY: on success `out` points to `len` initialised bytes that we copy, then free with the
        // allocator that produced them.
        let der = unsafe {
            let der = std::slice::from_raw_parts(out, len).to_vec();
            ffi::OPENSSL_free(out.cast());
            der
        };
        Ok(der)
    }
}

impl Drop for RsaPrivateKey {
    fn drop(&mut self) {
        // SAFETY: we own the only reference to this key.
        unsafe { ffi::RSA_free(self.rsa.as_ptr()) }
    }
}
