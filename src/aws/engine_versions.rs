//! The engine versions a service offers in this region: one paginated describe per engine.

use super::{Aws, DriverError};
use crate::resources::engine_versions::{Engine, Service};

/// Every version AWS lists for `engine` here, as it spells them (`8.0.39`, `7.1.0`, `7.1`).
pub async fn offered(aws: &Aws, engine: &Engine) -> Result<Vec<String>, DriverError> {
    let mut versions = Vec::new();
    match engine.service {
        Service::Rds => {
            let mut pages = aws
                .rds
                .describe_db_engine_versions()
                .engine(&engine.name)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| DriverError::from_sdk("DescribeDBEngineVersions", e))?;
                versions.extend(
                    page.db_engine_versions()
                        .iter()
                        .filter_map(|v| v.engine_version().map(str::to_string)),
                );
            }
        }
        Service::Elasticache => {
            let mut pages = aws
                .elasticache
                .describe_cache_engine_versions()
                .engine(&engine.name)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| DriverError::from_sdk("DescribeCacheEngineVersions", e))?;
                versions.extend(
                    page.cache_engine_versions()
                        .iter()
                        .filter_map(|v| v.engine_version().map(str::to_string)),
                );
            }
        }
        Service::Memorydb => {
            let mut token = None;
            loop {
                let page = aws
                    .memorydb
                    .describe_engine_versions()
                    .engine(&engine.name)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| DriverError::from_sdk("DescribeEngineVersions", e))?;
                versions.extend(
                    page.engine_versions()
                        .iter()
                        .filter_map(|v| v.engine_version().map(str::to_string)),
                );
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
        }
    }
    Ok(versions)
}
