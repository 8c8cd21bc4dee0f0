//! stackctl: stand up and tear down AWS architectures that put an in-memory store next to a web
//! application, from a declarative stack file.
//!
//! Dependencies point one way: `cli` → `engine` → (`plan`, `state`, `graph`, `spec`, `resources`) and
//! `engine` → `aws`. Everything but `aws` and `engine` is pure and makes no AWS call.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod cli;
pub mod diagnostics;
#[cfg(feature = "aws")]
pub mod engine;
pub mod graph;
pub mod model;
pub mod plan;
pub mod resolve;
pub mod resources;
pub mod spec;
pub mod state;
pub mod userdata;
