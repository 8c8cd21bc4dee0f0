//! The S3 state backend: the state document is one object, and every write is conditional on the
//! version this run last read or wrote (`If-Match` on its ETag, `If-None-Match: *` for the first),
//! so a run that lost its lock can never overwrite a newer state. Every version written stays
//! readable: S3 keeps it where the bucket versions objects, and `KEY.history/<serial>.json` does
//! where it does not.

use super::error::DriverError;
use super::{Connection, sdk_config};
use crate::state::location::{S3Object, StateLocation};
use crate::state::store::{Backend, BoxFuture, StateError, describe};
use aws_sdk_s3::primitives::ByteStream;
use std::sync::Mutex;
use std::time::Duration;

/// How often a conditional write that met a concurrent one (409 ConditionalRequestConflict) is sent
/// again before giving up.
const CONFLICT_RETRIES: u32 = 5;

/// An S3 client for the state's bucket: the run's credentials and endpoint, the bucket's region,
/// and path-style addressing when an endpoint is given (emulators and S3-compatible stores do not
/// resolve `bucket.host` names).
pub async fn client(connection: &Connection, object: &S3Object) -> aws_sdk_s3::Client {
    let connection = Connection {
        region: object
            .region
            .clone()
            .unwrap_or_else(|| connection.region.clone()),
        ..connection.clone()
    };
    let config = sdk_config(&connection).await;
    let endpoint_given = connection.endpoint_url.is_some()
        || ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|u| !u.is_empty()));
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(endpoint_given)
            .build(),
    )
}

/// What this run knows of the stored document.
#[derive(Debug, Clone)]
enum Seen {
    /// Not read yet, or read and absent: the next write must create it.
    Nothing,
    /// The ETag of the version read or written last.
    Version(String),
}

pub struct S3State {
    client: aws_sdk_s3::Client,
    object: S3Object,
    location: StateLocation,
    seen: Mutex<Seen>,
    versioned: tokio::sync::OnceCell<bool>,
}

impl S3State {
    pub fn new(client: aws_sdk_s3::Client, object: S3Object) -> Self {
        S3State {
            client,
            location: StateLocation::S3(object.clone()),
            object,
            seen: Mutex::new(Seen::Nothing),
            versioned: tokio::sync::OnceCell::new(),
        }
    }

    fn describe(&self) -> String {
        describe(&self.location)
    }

    fn seen(&self) -> Seen {
        self.seen.lock().map(|s| s.clone()).unwrap_or(Seen::Nothing)
    }

    fn remember(&self, seen: Seen) {
        if let Ok(mut slot) = self.seen.lock() {
            *slot = seen;
        }
    }

    async fn read_now(&self) -> Result<Option<Vec<u8>>, StateError> {
        match get_object(&self.client, &self.object.bucket, &self.object.key).await {
            Ok(Some((bytes, etag))) => {
                self.remember(Seen::Version(etag));
                Ok(Some(bytes))
            }
            Ok(None) => {
                self.remember(Seen::Nothing);
                Ok(None)
            }
            Err(e) => Err(StateError::Read {
                location: self.describe(),
                message: explain(&e),
            }),
        }
    }

    async fn write_now(&self, document: Vec<u8>, serial: u64) -> Result<(), StateError> {
        let condition = self.seen();
        let mut attempt = 0;
        let etag = loop {
            let request = self
                .client
                .put_object()
                .bucket(&self.object.bucket)
                .key(&self.object.key)
                .content_type("application/json")
                .body(ByteStream::from(document.clone()));
            let request = match &condition {
                Seen::Version(etag) => request.if_match(etag),
                Seen::Nothing => request.if_none_match("*"),
            };
            match request.send().await {
                Ok(out) => break out.e_tag().unwrap_or_default().to_string(),
                Err(e) => {
                    let error = DriverError::from_sdk("PutObject", e);
                    match error.code() {
                        Some("PreconditionFailed") => {
                            return Err(StateError::Stale {
                                location: self.describe(),
                                rescued: None,
                            });
                        }
                        Some("ConditionalRequestConflict") if attempt < CONFLICT_RETRIES => {
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt)))
                                .await;
                        }
                        _ => {
                            return Err(StateError::Write {
                                location: self.describe(),
                                message: explain(&error),
                            });
                        }
                    }
                }
            }
        };
        self.remember(Seen::Version(etag));
        if !self.versioned().await {
            self.keep_in_history(document, serial).await;
        }
        Ok(())
    }

    /// Whether the bucket keeps every version of an object itself. Asked once per run; a bucket
    /// whose versioning cannot be read is taken as unversioned, so the history is written.
    async fn versioned(&self) -> bool {
        *self
            .versioned
            .get_or_init(|| async {
                let answer = self
                    .client
                    .get_bucket_versioning()
                    .bucket(&self.object.bucket)
                    .send()
                    .await;
                tracing::debug!(?answer, "bucket versioning");
                answer.ok().and_then(|out| out.status().cloned())
                    == Some(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
            })
            .await
    }

    /// Copies the version just written to `KEY.history/<serial>.json`. The state itself is already
    /// written, so a history that cannot be written is a warning, not a failed step.
    async fn keep_in_history(&self, document: Vec<u8>, serial: u64) {
        let key = self.object.history_key(serial);
        let written = self
            .client
            .put_object()
            .bucket(&self.object.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(document))
            .send()
            .await;
        if let Err(e) = written {
            tracing::warn!(
                "cannot keep serial {serial} of {} in s3://{}/{key}: {}",
                self.describe(),
                self.object.bucket,
                DriverError::from_sdk("PutObject", e)
            );
        }
    }
}

impl Backend for S3State {
    fn location(&self) -> &StateLocation {
        &self.location
    }

    fn read(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, StateError>> {
        Box::pin(self.read_now())
    }

    fn write(&self, document: Vec<u8>, serial: u64) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(self.write_now(document, serial))
    }
}

/// An S3 error, with what to do for the ones a state location can cause.
pub(super) fn explain(error: &DriverError) -> String {
    let hint = match error.code() {
        Some(
            "PermanentRedirect"
            | "AuthorizationHeaderMalformed"
            | "IllegalLocationConstraintException",
        ) => " (the bucket is in another region: add `?region=REGION` to the state location)",
        Some("NoSuchBucket") => " (create the bucket first, or correct its name)",
        Some("AccessDenied") => {
            " (a missing object also reads as AccessDenied without s3:ListBucket on the bucket)"
        }
        _ => "",
    };
    format!("{error}{hint}")
}

/// An object's bytes and ETag, or `None` when there is no such object.
pub(super) async fn get_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<(Vec<u8>, String)>, DriverError> {
    let out = match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(e) => {
            let error = DriverError::from_sdk("GetObject", e);
            return match error.code() {
                Some("NoSuchKey") => Ok(None),
                _ => Err(error),
            };
        }
    };
    let etag = out.e_tag().unwrap_or_default().to_string();
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| DriverError::Transport {
            operation: "GetObject".into(),
            message: e.to_string(),
        })?
        .into_bytes()
        .to_vec();
    Ok(Some((bytes, etag)))
}
