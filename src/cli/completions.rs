//! `stackctl completions SHELL`: a completion script generated from the command-line definition.

use super::args::{Cli, CompletionsArgs};
use super::{Failure, Printer, Status};
use clap::CommandFactory;

pub async fn completions(args: &CompletionsArgs, printer: &Printer) -> Result<Status, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "stackctl", &mut script);
    printer.data(&String::from_utf8_lossy(&script));
    Ok(Status::Success)
}
