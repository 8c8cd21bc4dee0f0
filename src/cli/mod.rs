//! The command line: arguments, one module per command with the same signature, exit codes.

mod args;
mod completions;
mod context;
mod down;
mod force_unlock;
mod graph;
mod import;
mod interrupts;
mod man;
mod outputs;
mod plan;
mod printer;
mod progress;
mod saved_plan;
mod schema;
mod state;
mod state_access;
mod sweep;
mod up;
mod validate;

pub use args::{Cli, Command, GlobalArgs};
use clap::Parser;
pub use printer::Printer;
use std::process::ExitCode;

/// Exit codes: 0 success, 1 error, 2 changes present (`plan --detailed-exitcode`), 130 interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
    Changes,
    Interrupted,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(match status {
            Status::Success => 0,
            Status::Failure => 1,
            Status::Changes => 2,
            Status::Interrupted => 130,
        })
    }
}

/// An error for the user: what went wrong and what to do about it.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub help: Option<String>,
    /// Problems located in the stack file, shown before the message.
    pub diagnostics: Option<(
        Vec<crate::diagnostics::Diagnostic>,
        std::sync::Arc<crate::diagnostics::Sources>,
    )>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            help: None,
            diagnostics: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Failure {
        self.help = Some(help.into());
        self
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap uses 2 for usage errors; 2 means "changes present" here, so usage errors are 1.
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let printer = Printer::new(&cli.global);
    printer.init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.failure(&Failure::new(format!(
                "cannot start the async runtime: {e}"
            )));
            return Status::Failure.into();
        }
    };
    let result = runtime.block_on(async {
        interrupts::install();
        run(cli, &printer).await
    });
    match result {
        Ok(status) => status.into(),
        Err(failure) => {
            printer.failure(&failure);
            Status::Failure.into()
        }
    }
}

async fn run(cli: Cli, printer: &Printer) -> Result<Status, Failure> {
    let global = &cli.global;
    match &cli.command {
        Command::Validate => validate::validate(global, printer).await,
        Command::Plan(args) => plan::plan(global, args, printer).await,
        Command::Up(args) => up::up(global, args, printer).await,
        Command::Down(args) => down::down(global, args, printer).await,
        Command::Outputs(args) => outputs::outputs(global, args, printer).await,
        Command::Graph => graph::graph(global, printer).await,
        Command::ForceUnlock(args) => force_unlock::force_unlock(global, args, printer).await,
        Command::Import(args) => import::import(global, args, printer).await,
        Command::Sweep(args) => sweep::sweep(global, args, printer).await,
        Command::State(command) => state::state(global, command, printer).await,
        Command::Schema => schema::schema(printer).await,
        Command::Completions(args) => completions::completions(args, printer).await,
        Command::Man(args) => man::man(args, printer).await,
    }
}
