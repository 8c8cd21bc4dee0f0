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

/// The shortest gap between two polls: what a status check costs AWS is worth spending this often
/// while a change is young, and most changes to small resources finish within a few seconds.
const MIN_POLL_GAP: Duration = Duration::from_millis(250);
/// The longest gap: a 10-minute database create is polled a few times a minute, never less often.
const MAX_POLL_GAP: Duration = Duration::from_secs(10);

/// How long to wait before the next poll, `waited` into a wait: a twentieth of the time waited so
/// far, so a change is noticed at most 5% (and at most 10 s) after it happens, with a number of
/// calls that grows with the logarithm of the wait until the 10 s cap. Half of the 10% a user
/// would accept: a stack's creates come one after another on its critical path (a cache, then the
/// instance that is given its address), and each one's lateness adds up.
pub fn next_poll_gap(waited: Duration) -> Duration {
    (waited / 20).clamp(MIN_POLL_GAP, MAX_POLL_GAP)
}

/// How often a status that has not changed is reported again: where progress is printed as lines
/// (CI logs), a 20-minute create would otherwise show one line and then nothing until it ends.
const STATUS_REPEAT: Duration = Duration::from_secs(30);

/// Whether a poll's status is worth reporting: it changed, or it was last reported a while ago.
fn worth_reporting(status: &str, last: &str, since_reported: Duration) -> bool {
    status != last || since_reported >= STATUS_REPEAT
}

/// Polls `check` until it is done or `ctx.timeout` passes, at the gaps [`next_poll_gap`] gives.
pub async fn until<T, F, Fut>(ctx: &Ctx, what: &str, mut check: F) -> Result<T, DriverError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, DriverError>>,
{
    let started = Instant::now();
    let mut last = String::from("unknown");
    let mut reported = started;
    loop {
        match check().await? {
            Poll::Done(value) => return Ok(value),
            Poll::Pending(status) => {
                if worth_reporting(&status, &last, reported.elapsed()) {
                    ctx.status(status.clone());
                    last = status;
                    reported = Instant::now();
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
        let delay = next_poll_gap(started.elapsed());
        tokio::time::sleep(delay.min(ctx.timeout.saturating_sub(started.elapsed()))).await;
    }
}

/// Waits until `describe` finds the resource with the status `ready`, and returns what it found.
pub async fn until_status<T, F, Fut>(
    ctx: &Ctx,
    what: &str,
    ready: &str,
    describe: F,
    status_of: fn(&T) -> Option<&str>,
) -> Result<T, DriverError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<T>, DriverError>>,
{
    until(ctx, &format!("{what} to be {ready}"), || async {
        let Some(found) = describe().await? else {
            return Ok(Poll::Pending("not visible yet".into()));
        };
        Ok(match status_of(&found) {
            Some(status) if status == ready => Poll::Done(found),
            Some(status) => Poll::Pending(status.to_string()),
            None => Poll::Pending("unknown".into()),
        })
    })
    .await
}

/// Waits until `describe` finds the resource with the status `ready` and `applied` sees the change
/// asked for: right after a Modify call AWS may report the old status, and the old values, for a while
/// before the change begins, so a status alone would end the wait too early.
pub async fn until_applied<T, F, Fut, A>(
    ctx: &Ctx,
    what: &str,
    ready: &str,
    describe: F,
    status_of: fn(&T) -> Option<&str>,
    applied: A,
) -> Result<T, DriverError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<T>, DriverError>>,
    A: Fn(&T) -> bool,
{
    until(ctx, &format!("{what} to apply the change"), || async {
        let Some(found) = describe().await? else {
            return Ok(Poll::Pending("not visible yet".into()));
        };
        Ok(match status_of(&found) {
            Some(status) if status == ready && applied(&found) => Poll::Done(found),
            Some(status) if status == ready => {
                Poll::Pending(format!("{status}, the change not begun yet"))
            }
            Some(status) => Poll::Pending(status.to_string()),
            None => Poll::Pending("unknown".into()),
        })
    })
    .await
}

/// Waits until `describe` no longer finds the resource, showing its status meanwhile.
pub async fn until_gone<T, F, Fut>(
    ctx: &Ctx,
    what: &str,
    describe: F,
    status_of: fn(&T) -> Option<&str>,
) -> Result<(), DriverError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<T>, DriverError>>,
{
    until(ctx, &format!("{what} to be deleted"), || async {
        Ok(match describe().await? {
            None => Poll::Done(()),
            Some(found) => Poll::Pending(status_of(&found).unwrap_or("deleting").to_string()),
        })
    })
    .await
}

/// Deletes a resource that AWS may not let go of yet — still being created or modified, or in use —
/// and waits until it is gone. Each poll looks at the resource: gone ends the wait; `deleting` keeps
/// waiting; any other status asks for the delete again, and `busy` error codes mean "not yet".
pub async fn delete_when_ready<T, D, DFut, X, XFut>(
    ctx: &Ctx,
    what: &str,
    describe: D,
    status_of: fn(&T) -> Option<&str>,
    delete: X,
    busy: &[&str],
) -> Result<(), DriverError>
where
    D: Fn() -> DFut,
    DFut: Future<Output = Result<Option<T>, DriverError>>,
    X: Fn() -> XFut,
    XFut: Future<Output = Result<(), DriverError>>,
{
    until(ctx, &format!("{what} to be deleted"), || async {
        let Some(found) = describe().await? else {
            return Ok(Poll::Done(()));
        };
        let status = status_of(&found).unwrap_or("unknown").to_string();
        if status == "deleting" {
            return Ok(Poll::Pending(status));
        }
        match delete().await {
            Ok(()) => Ok(Poll::Pending("deleting".into())),
            Err(error) if error.is_code(busy) => Ok(Poll::Pending(format!(
                "{status} (AWS cannot delete it yet)"
            ))),
            Err(error) => Err(error),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates a wait for a change that takes `takes`: how late it is noticed and how many polls
    /// that costs.
    fn noticed(takes: Duration) -> (Duration, usize) {
        let mut now = Duration::ZERO;
        let mut polls = 1;
        while now < takes {
            now += next_poll_gap(now);
            polls += 1;
        }
        (now - takes, polls)
    }

    #[test]
    fn a_change_is_noticed_within_a_twentieth_of_the_wait_and_ten_seconds() {
        for millis in (100..3_600_000).step_by(997) {
            let takes = Duration::from_millis(millis);
            let (late, _) = noticed(takes);
            assert!(
                late <= MIN_POLL_GAP.max(takes / 20).min(MAX_POLL_GAP),
                "a change after {takes:?} noticed {late:?} late"
            );
        }
    }

    #[test]
    fn a_status_is_reported_when_it_changes_and_every_half_minute() {
        let second = Duration::from_secs(1);
        assert!(worth_reporting("creating", "unknown", Duration::ZERO));
        assert!(!worth_reporting("creating", "creating", 29 * second));
        assert!(worth_reporting("creating", "creating", 30 * second));
        assert!(worth_reporting("backing-up", "creating", second));
    }

    #[test]
    fn a_ten_minute_create_costs_a_few_polls_a_minute() {
        let (_, first_five_minutes) = noticed(Duration::from_secs(300));
        let (_, polls) = noticed(Duration::from_secs(600));
        assert!(polls <= 140, "{polls} polls in 10 minutes");
        // Once a create has run for minutes, at most one poll every 10 s.
        let last_five_minutes = polls - first_five_minutes;
        assert!(
            last_five_minutes <= 31,
            "{last_five_minutes} polls in minutes 5-10"
        );
        let (_, polls) = noticed(Duration::from_secs(3600));
        assert!(polls <= 140 + 300, "{polls} polls in an hour");
    }
}
