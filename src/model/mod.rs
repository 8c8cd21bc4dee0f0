//! The vocabulary stack files and resource kinds share: field types, naming rules, located values and
//! `${...}` templates. It depends on nothing else in stackctl, so both the kinds and the stack file
//! loader build on it without depending on each other's internals.

pub mod fields;
pub mod names;
pub mod template;
pub mod value;
