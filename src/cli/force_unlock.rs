//! `stackctl force-unlock LOCK_ID`: clears a lock. A local lock is a kernel lock that ends with its
//! process, so this only tidies the file a killed run left, and refuses a live lock. An S3 lock is
//! a lease: this removes it even before the lease ends, for a run that is surely gone.

use super::args::ForceUnlockArgs;
use super::state_access;
use super::{Failure, GlobalArgs, Printer, Status};

pub async fn force_unlock(
    global: &GlobalArgs,
    args: &ForceUnlockArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let ended = state_access::force_unlock(global, printer, &args.lock_id).await?;
    match ended {
        Some(info) if info.expires.is_some() => printer.info(&format!(
            "removed the lock {info}. If that run is still alive, it notices at its next renewal (within a third of its lease) and starts nothing new; once another run has written the state, its writes are refused"
        )),
        Some(info) => printer.info(&format!(
            "the run that held the lock has ended ({info}); its lock file is removed"
        )),
        None => printer.info("nobody held the lock; its file is removed"),
    }
    Ok(Status::Success)
}
