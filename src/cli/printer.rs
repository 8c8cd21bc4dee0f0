//! Where output goes: data on stdout, messages and progress on stderr. Writes to a closed pipe are
//! ignored so `stackctl outputs | head` ends quietly.

use super::{Failure, GlobalArgs};
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone)]
pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// Colour on stderr (messages, progress, diagnostics).
    pub color: bool,
    /// Colour on stdout (data): decided on its own, so `stackctl plan > plan.txt` typed at a terminal
    /// writes no escape codes into the file.
    pub stdout_color: bool,
    pub stderr_is_terminal: bool,
}

impl Printer {
    pub fn new(args: &GlobalArgs) -> Printer {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let wanted = !args.no_color && !no_color_env;
        Printer {
            json: args.json,
            quiet: args.quiet,
            verbose: args.verbose,
            color: wanted && stderr_is_terminal,
            stdout_color: wanted && std::io::stdout().is_terminal(),
            stderr_is_terminal,
        }
    }

    pub fn init_logging(&self) {
        let default = match self.verbose {
            0 => "off",
            1 => "stackctl=debug",
            2 => "stackctl=trace,aws_smithy_runtime=debug",
            _ => "trace",
        };
        let filter = tracing_subscriber::EnvFilter::try_from_env("STACKCTL_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(self.color)
            .try_init();
    }

    /// Data the user asked for.
    pub fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    pub fn json_line(&self, value: &impl serde::Serialize) {
        if let Ok(line) = serde_json::to_string(value) {
            self.data(&line);
        }
    }

    /// A message for people; hidden with --quiet.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }

    /// Something the user should know that is not an error; hidden with --quiet, like Cargo's.
    pub fn warning(&self, text: &str) {
        if self.quiet {
            return;
        }
        let label = if self.color {
            "\x1b[1;33mwarning\x1b[0m"
        } else {
            "warning"
        };
        let _ = writeln!(std::io::stderr().lock(), "{label}: {text}");
    }

    /// With -v: how many AWS requests (retries included) the command has sent so far.
    pub fn aws_calls(&self, aws: &crate::aws::Aws, stage: &str) {
        if self.verbose > 0 {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{stage}: {} AWS calls",
                aws.calls.calls()
            );
        }
    }

    pub fn failure(&self, failure: &Failure) {
        if let Some((diagnostics, sources)) = &failure.diagnostics {
            if self.json {
                self.data(&sources.to_json(diagnostics).to_string());
            }
            self.stderr(&sources.render(diagnostics, self.color));
        }
        let mut err = std::io::stderr().lock();
        let label = if self.color {
            "\x1b[1;31merror\x1b[0m"
        } else {
            "error"
        };
        let _ = writeln!(err, "{label}: {}", failure.message);
        if let Some(help) = &failure.help {
            let _ = writeln!(err, "  help: {help}");
        }
    }

    /// Raw text on stderr (rendered diagnostics).
    pub fn stderr(&self, text: &str) {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}
