//! `stackctl force-unlock LOCK_ID`: clears the record of a lock. A local lock is a kernel lock that
//! ends with its process, so this only tidies the file a killed run left; it refuses a live lock.

use super::args::ForceUnlockArgs;
use super::{Failure, GlobalArgs, Printer, Status, context};
use crate::state::lock::Lock;

pub async fn force_unlock(
    global: &GlobalArgs,
    args: &ForceUnlockArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let path = context::state_path(global)?;
    let ended = Lock::force_unlock(&path, &args.lock_id).map_err(|e| {
        let help = e.help();
        Failure::new(e.to_string()).help(help)
    })?;
    match ended {
        Some(info) => printer.info(&format!(
            "the run that held the lock has ended ({info}); its lock file is removed"
        )),
        None => printer.info("nobody held the lock; its file is removed"),
    }
    Ok(Status::Success)
}
