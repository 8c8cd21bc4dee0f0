//! Resource drivers: one module per resource type, all built on clients made once from one `SdkConfig`.
//! Drivers take canonical JSON configurations (see `crate::resources`) and return what AWS reports in
//! the same form, so the plan can compare the two.

pub mod account_reads;
pub mod calls;
pub mod census;
pub(crate) mod driver;
pub mod ec2_instance;
pub mod elasticache_cluster;
pub mod engine_versions;
pub mod error;
pub mod iam_role;
pub mod images;
pub mod memorydb;
pub mod prefetch;
pub mod rds_instance;
pub mod replication_group;
pub mod s3_lock;
pub mod s3_state;
pub mod secrets;
pub mod security_group;
pub mod subnet_group;
pub mod tags;
pub mod vpc;
pub mod wait;

use crate::resources::ResourceKind;
use crate::state::ResourceState;
use aws_config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use driver::Driver;
pub use error::DriverError;
use serde_json::{Map, Value as Json};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How to reach AWS: region, profile and an optional endpoint (the local emulator, or a VPC endpoint).
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub region: String,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The service clients, made once per run.
#[derive(Clone, Debug)]
pub struct Aws {
    pub ec2: aws_sdk_ec2::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub iam: aws_sdk_iam::Client,
    pub memorydb: aws_sdk_memorydb::Client,
    pub rds: aws_sdk_rds::Client,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
    /// Requests sent by all of these clients.
    pub calls: calls::CallCounter,
    /// The AMI ids `ssm:` images stand for, read once per run.
    pub images: std::sync::Arc<images::Images>,
}

/// The SDK configuration every client of a run is made from: region, profile, endpoint, timeouts
/// and retries.
pub async fn sdk_config(connection: &Connection) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(connection.region.clone()))
        .timeout_config(
            TimeoutConfig::builder()
                // A TCP connect to AWS takes milliseconds: one that has not happened in 5 s
                // will not, and each retry would wait as long again.
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(profile) = &connection.profile {
        loader = loader.profile_name(profile);
    }
    // Adaptive retry slows down on throttling instead of failing a large stack. The standard
    // AWS_RETRY_MODE / AWS_MAX_ATTEMPTS settings, when given, are left to aws-config to apply.
    let user_chose = ["AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if !user_chose {
        loader = loader.retry_config(RetryConfig::adaptive().with_max_attempts(8));
    }
    if let Some(url) = &connection.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

impl Aws {
    pub async fn connect(connection: &Connection) -> Aws {
        let config = sdk_config(connection).await;
        let calls = calls::CallCounter::default();
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&config)
                        .interceptor(calls.clone())
                        .build(),
                )
            };
        }
        Aws {
            ec2: client!(aws_sdk_ec2),
            elasticache: client!(aws_sdk_elasticache),
            iam: client!(aws_sdk_iam),
            memorydb: client!(aws_sdk_memorydb),
            rds: client!(aws_sdk_rds),
            tagging: client!(aws_sdk_resourcegroupstagging),
            secrets: client!(aws_sdk_secretsmanager),
            ssm: client!(aws_sdk_ssm),
            sts: client!(aws_sdk_sts),
            region: connection.region.clone(),
            calls,
            images: Default::default(),
        }
    }

    pub async fn account_id(&self) -> Result<String, DriverError> {
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("GetCallerIdentity", e))?;
        identity
            .account
            .ok_or_else(|| DriverError::Invalid("GetCallerIdentity returned no account".into()))
    }
}

/// What a driver tells the engine while it works.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The service's own status (e.g. `pending`, `running`, `DependencyViolation: held by eni-1`).
    Status(String),
    /// AWS accepted the create and gave this id: recorded at once, before any wait.
    Created(String),
}

/// Everything a driver call needs besides its configuration.
#[derive(Clone)]
pub struct Ctx {
    pub aws: Aws,
    pub stack: String,
    /// The lineage of the state this run works for: written as the `stackctl:lineage` tag on what it
    /// creates, and required on anything it adopts, changes or deletes.
    pub lineage: String,
    pub resource: String,
    pub timeout: Duration,
    progress: Option<UnboundedSender<(String, Progress)>>,
    /// What refresh already described in batches; read before asking AWS again.
    pub prefetch: Option<std::sync::Arc<prefetch::Prefetch>>,
    /// The account-wide reads of the plan this call is part of (tags from the census among them).
    pub reads: Option<std::sync::Arc<account_reads::AccountReads>>,
}

impl Ctx {
    pub fn new(
        aws: Aws,
        owner: &crate::state::Owner,
        resource: &str,
        timeout: Duration,
        progress: Option<UnboundedSender<(String, Progress)>>,
    ) -> Ctx {
        Ctx {
            aws,
            stack: owner.stack.clone(),
            lineage: owner.lineage.clone(),
            resource: resource.to_string(),
            timeout,
            progress,
            prefetch: None,
            reads: None,
        }
    }

    pub fn with_prefetch(mut self, prefetch: std::sync::Arc<prefetch::Prefetch>) -> Ctx {
        self.prefetch = Some(prefetch);
        self
    }

    pub fn with_account_reads(mut self, reads: std::sync::Arc<account_reads::AccountReads>) -> Ctx {
        self.reads = Some(reads);
        self
    }

    /// Whether tags read from AWS say this state created the resource.
    pub fn owns(&self, tags: &std::collections::BTreeMap<String, String>) -> bool {
        tags.get(crate::resources::TAG_LINEAGE) == Some(&self.lineage)
    }

    pub fn status(&self, status: impl Into<String>) {
        if let Some(tx) = &self.progress {
            let _ = tx.send((self.resource.clone(), Progress::Status(status.into())));
        }
    }

    pub fn created(&self, id: &str) {
        if let Some(tx) = &self.progress {
            let _ = tx.send((self.resource.clone(), Progress::Created(id.to_string())));
        }
    }
}

/// A resource as AWS reports it: configuration in canonical form and the outputs references use.
#[derive(Debug, Clone)]
pub struct Observed {
    pub config: Json,
    pub outputs: Map<String, Json>,
}

/// The result of a create.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub outputs: Map<String, Json>,
}

/// Data a create or update needs but that is not part of the recorded configuration (the rendered user data).
#[derive(Debug, Clone, Default)]
pub struct Payload {
    pub user_data: Option<String>,
    /// A `secret`'s composed value.
    pub secret_value: Option<String>,
}

macro_rules! define_drivers {
    ($($variant:ident => $module:ident :: $kind:ident,)*) => {
        /// Reads a lookup (the VPC) from its configuration.
        pub async fn lookup(kind: ResourceKind, ctx: &Ctx, config: &Json) -> Result<Observed, DriverError> {
            match kind {
                $(ResourceKind::$variant => <crate::resources::$module::$kind as Driver>::lookup(ctx, config).await,)*
            }
        }

        /// Reads the resource with this id; `None` when it no longer exists.
        pub async fn read(
            kind: ResourceKind,
            ctx: &Ctx,
            id: &str,
            prior: &ResourceState,
        ) -> Result<Option<Observed>, DriverError> {
            match kind {
                $(ResourceKind::$variant => <crate::resources::$module::$kind as Driver>::read(ctx, id, prior).await,)*
            }
        }

        /// Finds a resource whose create may have happened without its id being recorded (a crash
        /// right after the call), by its deterministic name, its tags and its client token.
        pub async fn find(
            kind: ResourceKind,
            ctx: &Ctx,
            prior: &ResourceState,
        ) -> Result<Option<String>, DriverError> {
            match kind {
                $(ResourceKind::$variant => <crate::resources::$module::$kind as Driver>::find(ctx, prior).await,)*
            }
        }

        pub async fn create(
            kind: ResourceKind,
            ctx: &Ctx,
            desired: &Json,
            payload: &Payload,
            token: &str,
        ) -> Result<Created, DriverError> {
            match kind {
                $(ResourceKind::$variant => <crate::resources::$module::$kind as Driver>::create(ctx, desired, payload, token).await,)*
            }
        }

        /// Changes what can be changed in place; returns the outputs afterwards.
        pub async fn update(
            kind: ResourceKind,
            ctx: &Ctx,
            id: &str,
            observed: &Json,
            desired: &Json,
            payload: &Payload,
        ) -> Result<Map<String, Json>, DriverError> {
            match kind {
                $(ResourceKind::$variant => <crate::resources::$module::$kind as Driver>::update(ctx, id, observed, desired, payload).await,)*
            }
        }

        /// Deletes and waits until the resource is gone. Deleting what is already gone succeeds.
        pub async fn delete(
            kind: ResourceKind,
            ctx: &Ctx,
            id: &str,
            prior: &ResourceState,
        ) -> Result<(), DriverError> {
            match kind {
                $(ResourceKind::$variant => <crate::resources::$module::$kind as Driver>::delete(ctx, id, prior).await,)*
            }
        }
    };
}
crate::resources::with_kinds!(define_drivers);

/// An EC2 describe filter: `name` matching any of `values`.
pub(crate) fn ec2_filter(name: &str, values: &[impl AsRef<str>]) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(name)
        .set_values(Some(
            values.iter().map(|v| v.as_ref().to_string()).collect(),
        ))
        .build()
}

pub(crate) fn outputs(pairs: &[(&str, Json)]) -> Map<String, Json> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The running version, when the file's version is met by it (`8.0` by `8.0.43`): an update then
/// sends no version, instead of asking AWS to "change" to the family it already runs.
pub(crate) fn running_version(
    observed: &Option<String>,
    desired: &Option<String>,
) -> Option<String> {
    match (observed, desired) {
        (Some(running), Some(wanted))
            if crate::model::fields::version_satisfies(running, wanted) =>
        {
            Some(running.clone())
        }
        _ => desired.clone(),
    }
}

/// Adds one field to a modify request when the file's value differs from what AWS reports, and notes
/// that the request has something to send. `optional` fields count only when the file sets them (an
/// unset field is AWS's to choose); `list` fields are optional too and go through the `set_` form of
/// the setter.
macro_rules! set_if_changed {
    ($request:ident, $any:ident, $old:ident, $new:ident, $field:ident => $setter:ident) => {
        if $old.$field != $new.$field {
            $request = $request.$setter($new.$field.clone());
            $any = true;
        }
    };
    ($request:ident, $any:ident, $old:ident, $new:ident, optional $field:ident => $setter:ident) => {
        if let Some(value) = $new
            .$field
            .clone()
            .filter(|v| Some(v) != $old.$field.as_ref())
        {
            $request = $request.$setter(value);
            $any = true;
        }
    };
    ($request:ident, $any:ident, $old:ident, $new:ident, list $field:ident => $setter:ident) => {
        if let Some(value) = $new
            .$field
            .clone()
            .filter(|v| Some(v) != $old.$field.as_ref())
        {
            $request = $request.$setter(Some(value));
            $any = true;
        }
    };
}
pub(crate) use set_if_changed;
