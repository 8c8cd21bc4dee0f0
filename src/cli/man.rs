//! `stackctl man`: the manual page (roff), generated from the command-line definition.

use super::args::Cli;
use super::{Failure, Printer, Status};
use clap::CommandFactory;

pub async fn man(printer: &Printer) -> Result<Status, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Failure::new(format!("cannot render the manual page: {e}")))?;
    printer.data(&String::from_utf8_lossy(&page));
    Ok(Status::Success)
}
