//! Errors from AWS calls, carrying the service's error code so callers match on codes, never on text.

use aws_sdk_ec2::config::http::HttpResponse;
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
    pub fn from_sdk<E>(operation: &str, error: SdkError<E, HttpResponse>) -> DriverError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
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
                    None => {
                        let raw = service.raw();
                        let body = raw
                            .body()
                            .bytes()
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_default();
                        let text: String = strip_markup(&body).chars().take(200).collect();
                        DriverError::Transport {
                            operation: operation.to_string(),
                            message: format!(
                                "the service answered HTTP {} with no AWS error code: {text}",
                                raw.status().as_u16()
                            ),
                        }
                    }
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

    /// What AWS said with its error code (empty for other errors).
    pub fn message(&self) -> &str {
        match self {
            DriverError::Aws { message, .. } => message,
            _ => "",
        }
    }

    pub fn is_code(&self, codes: &[&str]) -> bool {
        self.code().is_some_and(|c| codes.contains(&c))
    }
}

/// The text of an HTML error page, tags removed and whitespace collapsed.
fn strip_markup(body: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
