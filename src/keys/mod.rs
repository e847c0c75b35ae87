//! Signing keys outside the running service: key files on disk ([`files`]) and the rules for bringing a
//! key into the key group and retiring one ([`rotation`]).

pub mod files;
pub mod rotation;
