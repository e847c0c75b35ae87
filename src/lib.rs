//! edgepass keeps users' images private in S3 and lets browsers load them through CloudFront with
//! signed cookies and signed URLs.

pub mod cli;
pub mod signing;
