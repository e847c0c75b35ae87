//! `edgepass doctor`: is this deployment going to work?
//!
//! A CloudFront signed-cookie deployment that is wrong shows viewers a bare 403 and the operator
//! nothing. The doctor reads the service's own configuration ([`expected`]), reads the real deployment
//! through the CloudFront and S3 APIs and signs a test URL with the service's own signer ([`gather`]),
//! and compares the two in pure checks ([`checks`]) whose findings make the [`report`].

pub mod checks;
pub mod expected;
pub mod gather;
pub mod report;

pub use expected::{Expected, NotADeployment};
pub use gather::Deployment;
pub use report::{Finding, Report, Status};

use crate::clock::Clock;
use crate::config::Config;

/// Checks the deployment `config` describes, with `clock` as the local clock.
pub async fn examine(config: &Config, clock: &dyn Clock) -> Result<Report, NotADeployment> {
    let expected = Expected::of(config)?;
    let deployment = gather::gather(&expected, config, clock).await;
    Ok(Report {
        checks: checks::run(&expected, &deployment),
    })
}
