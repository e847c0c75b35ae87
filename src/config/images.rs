//! Image lifecycle timing: `EDGEPASS_IMAGE_LEASE_SECS` and `EDGEPASS_IMAGE_SWEEP_SECS`.

use super::settings::{ConfigError, Settings};
use crate::images::lifecycle::LEASE_SECS;

/// How long a visibility move or deletion may hold an image, and how often unfinished ones are swept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageConfig {
    /// How long one change holds an image's lease. A change that outlives it may interleave with the
    /// next one, so it must outlast the slowest copy of the largest image; an instance that dies
    /// mid-change blocks the image this long.
    pub lease_secs: u64,
    /// How often abandoned uploads are swept and interrupted changes finished.
    pub sweep_every_secs: u64,
}

impl ImageConfig {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Self {
            lease_secs: s.positive("EDGEPASS_IMAGE_LEASE_SECS", LEASE_SECS)?,
            sweep_every_secs: s.positive("EDGEPASS_IMAGE_SWEEP_SECS", 300)?,
        })
    }
}
