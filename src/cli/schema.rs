//! `stackctl schema`: the stack file's JSON Schema, generated from the resource kinds, for editors.

use super::{Failure, Printer, Status};

pub async fn schema(printer: &Printer) -> Result<Status, Failure> {
    printer.data(&crate::spec::json_schema::rendered());
    Ok(Status::Success)
}
