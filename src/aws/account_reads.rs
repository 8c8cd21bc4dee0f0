//! Account-wide reads that a plan needs twice — once to find what AWS holds under the stack's tag
//! (the census), once to refresh what the state records — made once and shared by both.

use super::{Aws, DriverError};
use crate::resources::TAG_STACK;
use aws_sdk_iam::types::{EntityType, RoleDetail};
use aws_sdk_resourcegroupstagging::types::TagFilter;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SecretListEntry};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::OnceCell;

/// Tags by ARN.
pub type TagsByArn = HashMap<String, BTreeMap<String, String>>;

/// Lives for one plan: what it holds is what AWS said at the start of that plan.
#[derive(Debug, Default)]
pub struct AccountReads {
    secrets: OnceCell<Vec<SecretListEntry>>,
    roles: OnceCell<Vec<RoleDetail>>,
    tagged: OnceCell<TagsByArn>,
}

impl AccountReads {
    /// Secrets tagged with the stack's name as a value (ListSecrets, paginated), scheduled
    /// deletions included (the caller decides what they mean).
    pub async fn stack_secrets(
        &self,
        aws: &Aws,
        stack: &str,
    ) -> Result<&[SecretListEntry], DriverError> {
        let found = self
            .secrets
            .get_or_try_init(|| async {
                let mut pages = aws
                    .secrets
                    .list_secrets()
                    .filters(
                        Filter::builder()
                            .key(FilterNameStringType::TagValue)
                            .values(stack)
                            .build(),
                    )
                    .into_paginator()
                    .send();
                let mut found = Vec::new();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| DriverError::from_sdk("ListSecrets", e))?;
                    found.extend(page.secret_list().iter().cloned());
                }
                Ok::<_, DriverError>(found)
            })
            .await?;
        Ok(found)
    }

    /// Every resource the Resource Groups Tagging API lists under the stack's tag, with all its
    /// tags (GetResources, paginated).
    pub async fn stack_tagged(&self, aws: &Aws, stack: &str) -> Result<&TagsByArn, DriverError> {
        self.tagged
            .get_or_try_init(|| async {
                let mut pages = aws
                    .tagging
                    .get_resources()
                    .tag_filters(TagFilter::builder().key(TAG_STACK).values(stack).build())
                    .resources_per_page(100)
                    .into_paginator()
                    .send();
                let mut found = TagsByArn::new();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| DriverError::from_sdk("GetResources", e))?;
                    for mapping in page.resource_tag_mapping_list() {
                        let Some(arn) = mapping.resource_arn() else {
                            continue;
                        };
                        let tags = mapping
                            .tags()
                            .iter()
                            .map(|t| (t.key().to_string(), t.value().to_string()))
                            .collect();
                        found.insert(arn.to_string(), tags);
                    }
                }
                Ok::<_, DriverError>(found)
            })
            .await
    }

    /// Every role of the account with its policies, tags and instance profiles
    /// (GetAccountAuthorizationDetails, paginated).
    pub async fn role_details(&self, aws: &Aws) -> Result<&[RoleDetail], DriverError> {
        let found = self
            .roles
            .get_or_try_init(|| async {
                let mut pages = aws
                    .iam
                    .get_account_authorization_details()
                    .filter(EntityType::Role)
                    .max_items(1000)
                    .into_paginator()
                    .send();
                let mut found = Vec::new();
                while let Some(page) = pages.next().await {
                    let page = page
                        .map_err(|e| DriverError::from_sdk("GetAccountAuthorizationDetails", e))?;
                    found.extend(page.role_detail_list().iter().cloned());
                }
                Ok::<_, DriverError>(found)
            })
            .await?;
        Ok(found)
    }
}
