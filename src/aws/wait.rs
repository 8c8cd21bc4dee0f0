//! Polling until a resource reaches a state, reporting the service's own status as it changes.

use super::{Ctx, DriverError};
use std::future::Future;
use std::time::{Duration, Instant};

/// What one poll found.
pub enum Poll<T = ()> {
    Done(T),
    /// Not there yet; the status AWS reports.
    Pending(String),
}

/// Polls `check` with backoff (1s doubling to 10s) until it is done or `ctx.timeout` passes.
pub async fn until<T, F, Fut>(ctx: &Ctx, what: &str, mut check: F) -> Result<T, DriverError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, DriverError>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    let mut last = String::from("unknown");
    loop {
        match check().await? {
            Poll::Done(value) => return Ok(value),
            Poll::Pending(status) => {
                if status != last {
                    ctx.status(status.clone());
                    last = status;
                }
            }
        }
        if started.elapsed() >= ctx.timeout {
            return Err(DriverError::Timeout {
                what: what.to_string(),
                last_status: last,
                elapsed: started.elapsed(),
            });
        }
        tokio::time::sleep(delay.min(ctx.timeout.saturating_sub(started.elapsed()))).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
