//! The AWS side of a resource kind: how it is looked up, read, found again after a crash, created,
//! changed in place and deleted. One implementation per kind (in this folder, for the kind's type in
//! `resources`), dispatched from the registry of kinds.

use super::{Created, Ctx, DriverError, Observed, Payload};
use crate::state::ResourceState;
use serde_json::{Map, Value as Json};

pub(crate) trait Driver {
    /// Reads a lookup (the VPC) from its configuration; other kinds are never looked up.
    async fn lookup(_ctx: &Ctx, _config: &Json) -> Result<Observed, DriverError> {
        Err(DriverError::Invalid(
            "only a lookup kind is read from its configuration".into(),
        ))
    }

    /// Reads the resource with this id; `None` when it no longer exists.
    async fn read(
        ctx: &Ctx,
        id: &str,
        prior: &ResourceState,
    ) -> Result<Option<Observed>, DriverError>;

    /// Finds a resource whose create may have happened without its id being recorded (a crash
    /// right after the call). By default the kind is named: its id is its deterministic name (AWS
    /// stores it in lower case), and `read` tells whether it exists.
    async fn find(_ctx: &Ctx, prior: &ResourceState) -> Result<Option<String>, DriverError> {
        Ok(prior.physical_name.as_ref().map(|n| n.to_lowercase()))
    }

    async fn create(
        ctx: &Ctx,
        desired: &Json,
        payload: &Payload,
        token: &str,
    ) -> Result<Created, DriverError>;

    /// Changes what can be changed in place; returns the outputs afterwards.
    async fn update(
        ctx: &Ctx,
        id: &str,
        observed: &Json,
        desired: &Json,
        payload: &Payload,
    ) -> Result<Map<String, Json>, DriverError>;

    /// Deletes and waits until the resource is gone. Deleting what is already gone succeeds.
    async fn delete(ctx: &Ctx, id: &str, prior: &ResourceState) -> Result<(), DriverError>;
}
