//! The S3 state backend: the state document is one object, and every write is conditional on the
//! version this run last read or wrote (`If-Match` on its ETag, `If-None-Match: *` for the first),
//! so a run that lost its lock can never overwrite a newer state. Every version written stays
//! readable: S3 keeps it where the bucket versions objects, and `KEY.history/<serial>.json` does
//! where it does not.
//!
//! A step is saved as one small object, `KEY.journal/<serial>`, created only if absent, so a step
//! costs the same whatever the size of the stack. Two runs that both believe they hold the state
//! cannot both write the same serial; and a step written after another run rewrote the document is
//! caught by reading the document's ETag right after. The document is rewritten at the end of a
//! run and the journal objects it covers are deleted.

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
        let history = async {
            if !self.versioned().await {
                self.keep_in_history(document, serial).await;
            }
        };
        tokio::join!(history, self.drop_journal_through(serial));
        Ok(())
    }

    async fn append_now(&self, record: Vec<u8>, serial: u64) -> Result<(), StateError> {
        let key = self.object.journal_key(serial);
        let stale = || StateError::Stale {
            location: self.describe(),
            rescued: None,
        };
        let written = self
            .client
            .put_object()
            .bucket(&self.object.bucket)
            .key(&key)
            .content_type("application/x-ndjson")
            .if_none_match("*")
            .body(ByteStream::from(record))
            .send()
            .await;
        if let Err(e) = written {
            let error = DriverError::from_sdk("PutObject", e);
            return Err(match error.code() {
                // Another run recorded this serial: the state moved on without this run.
                Some("PreconditionFailed" | "ConditionalRequestConflict") => stale(),
                _ => StateError::Write {
                    location: format!("{} (its journal)", self.describe()),
                    message: explain(&error),
                },
            });
        }
        // A document rewritten by another run since this one read it makes this record one the
        // next reader skips: said now, like a refused write of the document.
        let head = self
            .client
            .head_object()
            .bucket(&self.object.bucket)
            .key(&self.object.key)
            .send()
            .await;
        let current = match head {
            Ok(out) => Some(out.e_tag().unwrap_or_default().to_string()),
            Err(e) => {
                let error = DriverError::from_sdk("HeadObject", e);
                match error.code() {
                    Some("NotFound" | "NoSuchKey") => None,
                    _ => {
                        return Err(StateError::Read {
                            location: self.describe(),
                            message: explain(&error),
                        });
                    }
                }
            }
        };
        match (self.seen(), current) {
            (Seen::Version(seen), Some(current)) if seen == current => Ok(()),
            (Seen::Nothing, None) => Ok(()),
            _ => Err(stale()),
        }
    }

    /// The journal's records, in serial order, as one journal; `None` when there are none. A record
    /// deleted between the listing and its read was folded into the document by then.
    async fn read_journal_now(&self) -> Result<Option<Vec<u8>>, StateError> {
        let read_error = |error: DriverError| StateError::Read {
            location: format!("{} (its journal)", self.describe()),
            message: explain(&error),
        };
        let keys = self.journal_keys().await.map_err(read_error)?;
        if keys.is_empty() {
            return Ok(None);
        }
        let reads = keys
            .iter()
            .map(|(_, key)| get_object(&self.client, &self.object.bucket, key));
        let mut journal = Vec::new();
        for found in futures_util::future::join_all(reads).await {
            if let Some((bytes, _)) = found.map_err(read_error)? {
                journal.extend_from_slice(&bytes);
            }
        }
        Ok(Some(journal))
    }

    /// The journal's objects, with the serial each brings the state to, in serial order.
    async fn journal_keys(&self) -> Result<Vec<(u64, String)>, DriverError> {
        let prefix = self.object.journal_prefix();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.object.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| DriverError::from_sdk("ListObjectsV2", e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                // Anything else under the prefix is not stackctl's: left alone.
                if let Ok(serial) = key[prefix.len()..].parse::<u64>() {
                    keys.push((serial, key.to_string()));
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Deletes the journal records the document of `serial` holds. The document is written, so
    /// records left behind are only skipped by readers: a warning, not a failed step.
    async fn drop_journal_through(&self, serial: u64) {
        let keys = match self.journal_keys().await {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!("cannot list the journal of {}: {error}", self.describe());
                return;
            }
        };
        let covered: Vec<String> = keys
            .into_iter()
            .filter(|(recorded, _)| *recorded <= serial)
            .map(|(_, key)| key)
            .collect();
        // DeleteObjects takes at most 1,000 keys a call.
        for chunk in covered.chunks(1000) {
            let objects: Vec<aws_sdk_s3::types::ObjectIdentifier> = chunk
                .iter()
                .filter_map(|key| {
                    aws_sdk_s3::types::ObjectIdentifier::builder()
                        .key(key)
                        .build()
                        .ok()
                })
                .collect();
            let Ok(delete) = aws_sdk_s3::types::Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
            else {
                return;
            };
            let deleted = self
                .client
                .delete_objects()
                .bucket(&self.object.bucket)
                .delete(delete)
                .send()
                .await;
            if let Err(e) = deleted {
                tracing::warn!(
                    "cannot delete the journal records of {} it now holds: {}",
                    self.describe(),
                    DriverError::from_sdk("DeleteObjects", e)
                );
                return;
            }
        }
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

    fn keeps_journal(&self) -> bool {
        true
    }

    fn append(&self, record: Vec<u8>, serial: u64) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(self.append_now(record, serial))
    }

    fn read_journal(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, StateError>> {
        Box::pin(self.read_journal_now())
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
