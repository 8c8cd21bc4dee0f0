//! Ctrl-C, SIGTERM and SIGHUP, handled from the first moment of the process, before any lock is taken.
//!
//! Outside a change (validating, refreshing, planning, at the confirmation prompt) the first
//! interrupt ends the process at once: nothing has changed, and the kernel releases the state lock
//! with the process. While a change is applied the first interrupt asks the engine to stop starting
//! new work and to record what is in flight; the second always exits at once, whatever the run is
//! doing (the state is saved after every step, so it names everything created). That is also how
//! CI cancellation goes: SIGINT, then SIGTERM a few seconds later, then SIGKILL.
//!
//! Messages written here ignore a closed stderr: a pipe closed by the same Ctrl-C (`| tee log`)
//! must never stop the handling of the next one.

use crate::engine::Cancel;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use tokio::sync::watch;

/// Exit status of an interrupted run.
const INTERRUPTED: i32 = 130;

static CANCEL: OnceLock<Cancel> = OnceLock::new();
/// How many changes are being applied right now.
static APPLYING: AtomicUsize = AtomicUsize::new(0);
/// Whether this process has started applying a change.
static CHANGED: AtomicBool = AtomicBool::new(false);
/// Releases the S3 lock this process holds: run before an interrupt ends the process, so the next
/// run need not wait for the lease to end. (A local lock is a kernel lock: it ends with the process.)
static RELEASE: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>> = Mutex::new(None);
/// How long an exit waits for that release.
const RELEASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Starts listening; must run inside the runtime, before anything else.
pub fn install() {
    let (requests, cancel) = watch::channel(0u32);
    let _ = CANCEL.set(Cancel::new(cancel));
    let mut signals = Signals::listen();
    tokio::spawn(async move {
        let mut count = 0u32;
        loop {
            signals.next().await;
            count += 1;
            let _ = requests.send(count);
            if count >= 2 {
                exit_now(
                    "interrupted again: exiting now; the state records everything created so far, and running the same command again finishes the work",
                )
                .await;
            }
            if APPLYING.load(Ordering::SeqCst) == 0 {
                exit_now(if CHANGED.load(Ordering::SeqCst) {
                    "interrupted: the state records everything done so far"
                } else {
                    "interrupted: nothing was changed"
                })
                .await;
            }
        }
    });
}

/// The stop request the engine follows.
pub fn cancel() -> Cancel {
    CANCEL.get().cloned().unwrap_or_else(Cancel::never)
}

/// Marks the time a change is applied: the first interrupt then stops the run gracefully.
pub fn applying() -> Applying {
    CHANGED.store(true, Ordering::SeqCst);
    APPLYING.fetch_add(1, Ordering::SeqCst);
    Applying
}

pub struct Applying;

impl Drop for Applying {
    fn drop(&mut self) {
        APPLYING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `release` if an interrupt ends the process before the lock is released the usual way.
pub fn release_on_exit(release: impl Future<Output = ()> + Send + 'static) {
    if let Ok(mut slot) = RELEASE.lock() {
        *slot = Some(Box::pin(release));
    }
}

/// The lock was released the usual way: nothing to do at exit.
pub fn forget_release() {
    if let Ok(mut slot) = RELEASE.lock() {
        *slot = None;
    }
}

async fn exit_now(message: &str) -> ! {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
    // A kernel lock goes with the process; a leased one is released first, within the seconds
    // a CI runner gives between its signals.
    let release = RELEASE.lock().ok().and_then(|mut slot| slot.take());
    if let Some(release) = release {
        let _ = tokio::time::timeout(RELEASE_TIMEOUT, release).await;
    }
    std::process::exit(INTERRUPTED)
}

/// SIGINT, SIGTERM and SIGHUP (a closed terminal or a dropped SSH session).
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
                hangup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.interrupt) => {}
                () = recv(&mut self.terminate) => {}
                () = recv(&mut self.hangup) => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
