//! Batched describes for refresh: one DescribeSecurityGroups and one DescribeInstances for every group
//! and instance the state records, instead of one call per resource. When a batch fails (AWS answers
//! NotFound for the whole call if a single id is gone), the drivers fall back to describing one by one.

use super::{Aws, DriverError};
use aws_sdk_ec2::types::{Instance, SecurityGroup};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Prefetch {
    pub groups: HashMap<String, SecurityGroup>,
    pub instances: HashMap<String, Instance>,
}

impl Prefetch {
    pub async fn load(aws: &Aws, group_ids: Vec<String>, instance_ids: Vec<String>) -> Prefetch {
        let mut prefetch = Prefetch::default();
        if group_ids.len() > 1 {
            let found = aws
                .ec2
                .describe_security_groups()
                .set_group_ids(Some(group_ids))
                .send()
                .await;
            if let Ok(out) = found.map_err(|e| DriverError::from_sdk("DescribeSecurityGroups", e)) {
                prefetch.groups = out
                    .security_groups()
                    .iter()
                    .filter_map(|g| Some((g.group_id()?.to_string(), g.clone())))
                    .collect();
            }
        }
        if instance_ids.len() > 1 {
            let found = aws
                .ec2
                .describe_instances()
                .set_instance_ids(Some(instance_ids))
                .send()
                .await;
            if let Ok(out) = found.map_err(|e| DriverError::from_sdk("DescribeInstances", e)) {
                prefetch.instances = out
                    .reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .filter_map(|i| Some((i.instance_id()?.to_string(), i.clone())))
                    .collect();
            }
        }
        prefetch
    }
}
