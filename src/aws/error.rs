//! Errors from AWS calls, carrying the service's error code so callers match on codes, never on text.

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum DriverError {
    /// AWS answered with an error.
    #[error("{operation} failed: {code}: {message}")]
    Aws {
        operation: String,
        code: String,
        message: String,
    },
    /// AWS could not be reached or answered something that is not an AWS error.
    #[error("{operation} failed: {message}")]
    Transport { operation: String, message: String },
    /// A wait ran out of time.
    #[error("timed out after {}s waiting for {what} (last status: {last_status})", elapsed.as_secs())]
    Timeout {
        what: String,
        last_status: String,
        elapsed: Duration,
    },
    #[error("{0}")]
    Invalid(String),
}

impl DriverError {
    pub fn from_sdk<E, R>(operation: &str, error: SdkError<E, R>) -> DriverError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match &error {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                match inner.code() {
                    Some(code) => DriverError::Aws {
                        operation: operation.to_string(),
                        code: code.to_string(),
                        message: inner.message().unwrap_or("").to_string(),
                    },
                    None => DriverError::Transport {
                        operation: operation.to_string(),
                        message: format!("unexpected response: {:?}", service.raw()),
                    },
                }
            }
            other => DriverError::Transport {
                operation: operation.to_string(),
                message: render_chain(other),
            },
        }
    }

    /// The AWS error code, such as `DependencyViolation`.
    pub fn code(&self) -> Option<&str> {
        match self {
            DriverError::Aws { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_code(&self, codes: &[&str]) -> bool {
        self.code().is_some_and(|c| codes.contains(&c))
    }
}

/// An error and its causes on one line: SDK errors say little at the top level.
fn render_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}
