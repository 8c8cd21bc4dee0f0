//! `stackctl force-unlock LOCK_ID`: removes a lock left by a run that was killed.

use super::args::ForceUnlockArgs;
use super::{Failure, GlobalArgs, Printer, Status, context};
use crate::state::lock::Lock;

pub async fn force_unlock(
    global: &GlobalArgs,
    args: &ForceUnlockArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let path = context::state_path(global)?;
    let info = Lock::force_unlock(&path, &args.lock_id).map_err(|e| {
        let help = e.help();
        Failure::new(e.to_string()).help(help)
    })?;
    printer.info(&format!("removed the lock held by {info}"));
    Ok(Status::Success)
}
