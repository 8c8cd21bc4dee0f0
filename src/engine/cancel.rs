//! How a run is asked to stop: the engine starts nothing new once asked, lets the steps in flight
//! finish and records them. Whoever owns the process (the CLI) decides what asks, and what a second
//! request means.

use tokio::sync::watch;

/// A request to stop, shared by everyone who needs to see it.
#[derive(Debug, Clone)]
pub struct Cancel(Option<watch::Receiver<u32>>);

impl Cancel {
    /// Follows a counter of stop requests: any count above zero means stop.
    pub fn new(requests: watch::Receiver<u32>) -> Cancel {
        Cancel(Some(requests))
    }

    /// A run nothing can stop (tests, library use without signals).
    pub fn never() -> Cancel {
        Cancel(None)
    }

    pub fn requested(&self) -> bool {
        self.0.as_ref().is_some_and(|r| *r.borrow() > 0)
    }

    /// Resolves once a stop is requested; never, if nothing can ask.
    pub async fn wait(&mut self) {
        if let Some(requests) = &mut self.0
            && requests.wait_for(|n| *n > 0).await.is_ok()
        {
            return;
        }
        std::future::pending::<()>().await
    }
}
