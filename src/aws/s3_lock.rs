//! The lock of an S3 state: the object `KEY.lock`, created only if absent (`If-None-Match: *`),
//! naming its holder, its operation and when its lease ends. The holder renews the lease every
//! third of its length, each renewal conditional on the ETag of its own last write; a lock whose
//! lease has ended is taken over with a write conditional on the ETag read, so of two runs that
//! see it expire only one wins; and release deletes it only if it is still the holder's.
//!
//! A run killed outright (SIGKILL, a lost runner) leaves its lock for at most one lease. Leases
//! are compared on each machine's clock: machines whose clocks differ by more than a lease can
//! take over a live lock, and the conditional state writes then refuse the loser's writes.

use super::error::DriverError;
use super::s3_state::get_object;
use crate::state::location::S3Object;
use crate::state::lock::{LockError, LockInfo};
use aws_sdk_s3::primitives::ByteStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How many times acquiring starts over when the lock changed under it (released, taken over,
/// or a racing conditional write) before it gives up.
const ACQUIRE_ATTEMPTS: u32 = 6;

/// A held lease on an S3 state. Renewed in the background until released.
pub struct LeasedLock {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    pub info: LockInfo,
    /// The lock this run took over, when it found an expired one.
    pub took_over: Option<LockInfo>,
    etag: Arc<Mutex<String>>,
    lost: watch::Receiver<Option<String>>,
    renewal: tokio::task::JoinHandle<()>,
}

/// What is stored in the lock object.
fn lock_body(info: &LockInfo) -> ByteStream {
    ByteStream::from(serde_json::to_vec_pretty(info).unwrap_or_default())
}

fn remote(object: &S3Object, error: impl std::fmt::Display) -> LockError {
    LockError::Remote {
        location: format!("s3://{}/{}", object.bucket, object.lock_key()),
        message: error.to_string(),
    }
}

fn remote_aws(object: &S3Object, error: DriverError) -> LockError {
    remote(object, super::s3_state::explain(&error))
}

enum Put {
    Written(String),
    /// The condition failed: the lock object is not what we expected (412), or someone else was
    /// writing it at that instant (409).
    Refused,
}

async fn put_lock(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    info: &LockInfo,
    if_match: Option<&str>,
) -> Result<Put, DriverError> {
    let request = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(lock_body(info));
    let request = match if_match {
        Some(etag) => request.if_match(etag),
        None => request.if_none_match("*"),
    };
    match request.send().await {
        Ok(out) => Ok(Put::Written(out.e_tag().unwrap_or_default().to_string())),
        Err(e) => {
            let error = DriverError::from_sdk("PutObject", e);
            match error.code() {
                Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey") => {
                    Ok(Put::Refused)
                }
                _ => Err(error),
            }
        }
    }
}

impl LeasedLock {
    /// Takes the lock for `operation`, taking over an expired lease; fails at once, naming the
    /// holder and its lease, when another run holds a live one.
    pub async fn acquire(
        client: &aws_sdk_s3::Client,
        object: &S3Object,
        operation: &str,
        lease: Duration,
    ) -> Result<LeasedLock, LockError> {
        let bucket = object.bucket.clone();
        let key = object.lock_key();
        let mut info = LockInfo::for_this_process(operation);
        for attempt in 0..ACQUIRE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
            info.expires = Some(lease_end(lease));
            match put_lock(client, &bucket, &key, &info, None)
                .await
                .map_err(|e| remote_aws(object, e))?
            {
                Put::Written(etag) => {
                    return Ok(LeasedLock::held(
                        client, bucket, key, info, None, etag, lease,
                    ));
                }
                Put::Refused => {}
            }
            let Some((bytes, etag)) = get_object(client, &bucket, &key)
                .await
                .map_err(|e| remote_aws(object, e))?
            else {
                continue; // released in between
            };
            let Ok(holder) = serde_json::from_slice::<LockInfo>(&bytes) else {
                return Err(remote(
                    object,
                    "the lock object holds something stackctl did not write; remove it only if no run is working on this stack",
                ));
            };
            let expired = holder
                .expires
                .is_none_or(|end| end < jiff::Timestamp::now())
                || ended_here(&holder);
            if !expired {
                return Err(LockError::Held(Box::new(holder)));
            }
            info.expires = Some(lease_end(lease));
            if let Put::Written(new_etag) = put_lock(client, &bucket, &key, &info, Some(&etag))
                .await
                .map_err(|e| remote_aws(object, e))?
            {
                return Ok(LeasedLock::held(
                    client,
                    bucket,
                    key,
                    info,
                    Some(holder),
                    new_etag,
                    lease,
                ));
            }
            // Another run took it over first: look again at who holds it now.
        }
        Err(remote(
            object,
            "the lock kept changing while stackctl tried to take it",
        ))
    }

    fn held(
        client: &aws_sdk_s3::Client,
        bucket: String,
        key: String,
        info: LockInfo,
        took_over: Option<LockInfo>,
        etag: String,
        lease: Duration,
    ) -> LeasedLock {
        let etag = Arc::new(Mutex::new(etag));
        let (lost_tx, lost) = watch::channel(None);
        let renewal = tokio::spawn(renew(
            client.clone(),
            bucket.clone(),
            key.clone(),
            info.clone(),
            etag.clone(),
            lease,
            lost_tx,
        ));
        LeasedLock {
            client: client.clone(),
            bucket,
            key,
            info,
            took_over,
            etag,
            lost,
            renewal,
        }
    }

    /// Holds the reason once the lease could not be renewed.
    pub fn lost(&self) -> watch::Receiver<Option<String>> {
        self.lost.clone()
    }

    /// A future that releases this lock: for an exit that cannot wait for the run to unwind.
    pub fn releaser(&self) -> impl Future<Output = ()> + Send + 'static {
        let (client, bucket, key, etag) = (
            self.client.clone(),
            self.bucket.clone(),
            self.key.clone(),
            self.etag.clone(),
        );
        async move {
            let _ = delete_if_ours(&client, &bucket, &key, &etag).await;
        }
    }

    /// Stops renewing and deletes the lock, if it is still this run's. Returns a warning when it
    /// could not be released.
    pub async fn release(self) -> Option<String> {
        self.renewal.abort();
        if let Some(reason) = self.lost.borrow().clone() {
            return Some(format!("the lock was not released: {reason}"));
        }
        delete_if_ours(&self.client, &self.bucket, &self.key, &self.etag)
            .await
            .err()
    }

    /// Deletes the lock whose id is `id`, even with a live lease: for a run that is surely gone.
    /// Returns the holder it removed.
    pub async fn force_unlock(
        client: &aws_sdk_s3::Client,
        object: &S3Object,
        id: &str,
    ) -> Result<LockInfo, LockError> {
        let key = object.lock_key();
        // A live holder renews between our read and our delete: read again and retry while the
        // lock is still the one named.
        for _ in 0..ACQUIRE_ATTEMPTS {
            let Some((bytes, etag)) = get_object(client, &object.bucket, &key)
                .await
                .map_err(|e| remote_aws(object, e))?
            else {
                return Err(LockError::NotFound {
                    id: id.to_string(),
                    detail: format!("{object} is not locked"),
                });
            };
            let Ok(holder) = serde_json::from_slice::<LockInfo>(&bytes) else {
                return Err(remote(
                    object,
                    "the lock object holds something stackctl did not write",
                ));
            };
            if holder.id != id {
                return Err(LockError::NotFound {
                    id: id.to_string(),
                    detail: format!("the current lock is {}", holder.id),
                });
            }
            let deleted = client
                .delete_object()
                .bucket(&object.bucket)
                .key(&key)
                .if_match(&etag)
                .send()
                .await;
            match deleted {
                Ok(_) => return Ok(holder),
                Err(e) => {
                    let error = DriverError::from_sdk("DeleteObject", e);
                    if !matches!(
                        error.code(),
                        Some("PreconditionFailed" | "ConditionalRequestConflict")
                    ) {
                        return Err(remote_aws(object, error));
                    }
                }
            }
        }
        Err(remote(
            object,
            "the lock kept changing while it was being removed: run the command again",
        ))
    }
}

/// Whether the holder ran on this machine, in this process namespace, and its process is gone:
/// its lease need not be waited out. Anywhere else (another host, another container) the lease
/// decides.
fn ended_here(holder: &LockInfo) -> bool {
    let here = gethostname::gethostname().to_string_lossy().into_owned();
    let namespace = crate::state::lock::pid_namespace();
    if holder.host != here
        || namespace.is_none()
        || holder.pid_namespace != namespace
        || holder.pid == std::process::id()
    {
        return false;
    }
    !std::path::Path::new(&format!("/proc/{}", holder.pid)).exists()
}

fn lease_end(lease: Duration) -> jiff::Timestamp {
    let lease = jiff::SignedDuration::try_from(lease).unwrap_or(jiff::SignedDuration::MAX);
    jiff::Timestamp::now()
        .checked_add(lease)
        .unwrap_or(jiff::Timestamp::MAX)
}

async fn delete_if_ours(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    etag: &Mutex<String>,
) -> Result<(), String> {
    let etag = etag.lock().map(|e| e.clone()).unwrap_or_default();
    match client
        .delete_object()
        .bucket(bucket)
        .key(key)
        .if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let error = DriverError::from_sdk("DeleteObject", e);
            match error.code() {
                Some("NoSuchKey") => Ok(()),
                Some("PreconditionFailed") => Err(format!(
                    "the lock s3://{bucket}/{key} was not released: another run holds it now"
                )),
                _ => Err(format!(
                    "the lock s3://{bucket}/{key} was not released ({error}); it ends with its lease"
                )),
            }
        }
    }
}

/// Renews the lease every third of its length until aborted. The first renewal that fails ends
/// the loop and says why through `lost`: the run then starts nothing new.
async fn renew(
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    mut info: LockInfo,
    etag: Arc<Mutex<String>>,
    lease: Duration,
    lost: watch::Sender<Option<String>>,
) {
    let every = lease / 3;
    loop {
        tokio::time::sleep(every).await;
        info.expires = Some(lease_end(lease));
        let current = etag.lock().map(|e| e.clone()).unwrap_or_default();
        let mut result = put_lock(&client, &bucket, &key, &info, Some(&current)).await;
        if matches!(result, Ok(Put::Refused)) {
            // A 409 is a racing write; only a second refusal, after reading nothing new, is final.
            tokio::time::sleep(Duration::from_millis(200)).await;
            result = put_lock(&client, &bucket, &key, &info, Some(&current)).await;
        }
        let reason = match result {
            Ok(Put::Written(new)) => {
                if let Ok(mut slot) = etag.lock() {
                    *slot = new;
                }
                continue;
            }
            Ok(Put::Refused) => format!(
                "s3://{bucket}/{key} is no longer this run's lock: it was force-unlocked or taken over after its lease ran out"
            ),
            Err(e) => format!("the lease on s3://{bucket}/{key} could not be renewed: {e}"),
        };
        let _ = lost.send(Some(reason));
        return;
    }
}
