//! `stackctl man [COMMAND]`: manual pages (roff), generated from the command-line definition: the
//! main page, or `stackctl-COMMAND(1)`, which the main page refers to.

use super::args::{Cli, ManArgs};
use super::{Failure, Printer, Status};
use clap::CommandFactory;

pub async fn man(args: &ManArgs, printer: &Printer) -> Result<Status, Failure> {
    let main = Cli::command();
    let command = match &args.command {
        None => main,
        Some(name) => {
            let Some(sub) = main.find_subcommand(name).cloned() else {
                let names: Vec<&str> = main.get_subcommands().map(|c| c.get_name()).collect();
                return Err(Failure::new(format!("no command `{name}`"))
                    .help(format!("pages exist for: {}", names.join(", "))));
            };
            // Named as the main page's SEE ALSO names it; the name lives as long as the process.
            let title: &'static str = Box::leak(format!("stackctl-{name}").into_boxed_str());
            sub.name(title)
        }
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(|e| Failure::new(format!("cannot render the manual page: {e}")))?;
    printer.data(&String::from_utf8_lossy(&page));
    Ok(Status::Success)
}
