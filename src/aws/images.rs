//! The AMI ids that `ssm:` images stand for, read once per run.
//!
//! A plan starts these reads for the instances it is about to create, alongside its other first
//! reads, so the create that follows finds the answer instead of waiting one more round trip on
//! the critical path. A read that failed is made again by the create, which reports its error.

use super::DriverError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

#[derive(Debug, Default)]
pub struct Images {
    by_parameter: Mutex<HashMap<String, Arc<OnceCell<String>>>>,
}

impl Images {
    /// The AMI id the SSM parameter holds: read once, then the same answer for the rest of the run.
    pub async fn resolve(
        &self,
        ssm: &aws_sdk_ssm::Client,
        parameter: &str,
    ) -> Result<String, DriverError> {
        let cell = self
            .by_parameter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(parameter.to_string())
            .or_default()
            .clone();
        let ami = cell
            .get_or_try_init(|| async {
                let out = ssm
                    .get_parameter()
                    .name(parameter)
                    .send()
                    .await
                    .map_err(|e| DriverError::from_sdk("GetParameter", e))?;
                out.parameter()
                    .and_then(|p| p.value())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        DriverError::Invalid(format!("SSM parameter {parameter} holds no AMI id"))
                    })
            })
            .await?;
        Ok(ami.clone())
    }
}
