//! `stackctl validate`: checks the stack file; never calls AWS.

use super::{Failure, GlobalArgs, Printer, Status, context};

pub async fn validate(global: &GlobalArgs, printer: &Printer) -> Result<Status, Failure> {
    let stack = context::load_stack(global, printer)?;
    if printer.json {
        printer.data(&serde_json::json!({ "valid": true, "stack": stack.name, "resources": stack.resources.len(), "diagnostics": [] }).to_string());
    } else {
        let count = stack.resources.len();
        let noun = if count == 1 { "resource" } else { "resources" };
        printer.info(&format!(
            "{}: valid (stack `{}`, {count} {noun})",
            global.file.display(),
            stack.name,
        ));
    }
    Ok(Status::Success)
}
