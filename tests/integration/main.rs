//! Runs the real `stackctl` binary against the local AWS emulator and checks results through the AWS API.

mod bad_input;
mod boot;
mod common;
mod crash;
mod data_tier;
mod engine_versions;
mod images;
mod in_place;
mod interrupt;
mod ownership;
mod pipeline;
mod replacement;
mod s3_state;
mod slow_aws;
mod web_stack;
mod yaml_features;
