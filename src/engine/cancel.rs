//! How a run is asked to stop: the engine starts nothing new once asked, lets the steps in flight
//! finish and records them. Whoever owns the process (the CLI) decides what asks, and what a second
//! request means. Two things ask: the user (Ctrl-C, SIGTERM) and the state lock, when the run can
//! no longer renew its lease and so no longer knows that it alone works on the stack.

use tokio::sync::watch;

/// A request to stop, shared by everyone who needs to see it.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    /// A counter of interrupts: any count above zero means stop.
    interrupts: Option<watch::Receiver<u32>>,
    /// Why the state lock was lost, once it is.
    lock: Option<watch::Receiver<Option<String>>>,
}

impl Cancel {
    /// Follows a counter of stop requests: any count above zero means stop.
    pub fn new(requests: watch::Receiver<u32>) -> Cancel {
        Cancel {
            interrupts: Some(requests),
            lock: None,
        }
    }

    /// A run nothing can stop (tests, library use without signals).
    pub fn never() -> Cancel {
        Cancel::default()
    }

    /// Also stops when the lock behind `lost` is lost (it then holds the reason).
    pub fn with_lock(mut self, lost: watch::Receiver<Option<String>>) -> Cancel {
        self.lock = Some(lost);
        self
    }

    pub fn requested(&self) -> bool {
        self.interrupts.as_ref().is_some_and(|r| *r.borrow() > 0)
    }

    /// Why the lock was lost, if it was.
    pub fn lock_lost(&self) -> Option<String> {
        self.lock.as_ref().and_then(|r| r.borrow().clone())
    }

    /// Resolves once an interrupt is requested; never, if nothing can ask.
    pub async fn wait(&mut self) {
        if let Some(requests) = &mut self.interrupts
            && requests.wait_for(|n| *n > 0).await.is_ok()
        {
            return;
        }
        std::future::pending::<()>().await
    }

    /// Resolves with the reason once the lock is lost; never, for a lock that cannot be lost.
    pub async fn wait_lock_lost(&mut self) -> String {
        if let Some(lost) = &mut self.lock
            && let Ok(reason) = lost.wait_for(Option::is_some).await
        {
            return reason.clone().unwrap_or_default();
        }
        std::future::pending::<String>().await
    }
}
