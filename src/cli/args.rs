//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "stackctl",
    version,
    about = "Stand up and tear down AWS web + Redis/MySQL/MemoryDB stacks from a declarative stack file",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// The stack file.
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        default_value = "stack.yaml"
    )]
    pub file: PathBuf,
    /// Set a variable: --var name=value (repeatable). Also STACKCTL_VAR_<name>.
    #[arg(long = "var", global = true, value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Where the state is kept: a file path, or s3://BUCKET/KEY [default: the stack file's `state:`,
    /// else .stackctl/<stack file name>.state.json beside the stack file].
    #[arg(
        long,
        global = true,
        env = "STACKCTL_STATE",
        value_name = "PATH|s3://BUCKET/KEY"
    )]
    pub state: Option<String>,
    /// AWS region; overrides the stack file's `region:`.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS request to this endpoint (a local emulator). AWS_ENDPOINT_URL works too.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// How many resources may be worked on at once.
    #[arg(long, global = true, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
    /// Apply without asking for confirmation (required when not on a terminal).
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// More detail (repeat for more). STACKCTL_LOG sets a tracing filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors and requested data.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// No colours (also when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Only this resource and what it needs (for `down`: and what needs it). Repeatable. For exceptions.
    #[arg(long = "target", global = true, value_name = "NAME")]
    pub targets: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the stack file without calling AWS.
    Validate,
    /// Show what `up` (or `down`, with --destroy) would change.
    Plan(PlanArgs),
    /// Create or update everything in the stack file (or apply a plan saved with `plan -o`).
    Up(ApplyArgs),
    /// Delete everything the state records, in reverse dependency order (or apply a saved `plan --destroy -o`).
    Down(ApplyArgs),
    /// Print resource outputs (ids, addresses, ARNs) from the state.
    Outputs(OutputsArgs),
    /// Print the dependency graph in Graphviz DOT.
    Graph,
    /// Remove a lock: the lock file a finished run left (a live local lock is refused), or an S3
    /// lock, even before its lease ends, for a run that is surely gone (asks first; --yes in CI).
    ForceUnlock(ForceUnlockArgs),
    /// Record in the state a resource that exists in AWS but that this state did not create.
    Import(ImportArgs),
    /// Delete the resources tagged with this stack that no state records (after a lost state file).
    Sweep(SweepArgs),
    /// Read or change the state itself, without touching AWS.
    #[command(subcommand)]
    State(StateCommand),
    /// Print the stack file's JSON Schema (for editors; see schemas/stack.schema.json).
    Schema,
    /// Print a shell completion script: `stackctl completions bash > /etc/bash_completion.d/stackctl`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `stackctl man > stackctl.1`, or a command's: `stackctl man plan`.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command whose page to print (`plan` for stackctl-plan(1)); the main page without one.
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The resource's key in the stack file.
    #[arg(required_unless_present = "all", requires = "id")]
    pub name: Option<String>,
    /// The AWS id: a group or instance id, or the name for named resources (cluster ids, role names, secret names).
    #[arg(value_name = "AWS_ID")]
    pub id: Option<String>,
    /// Import every resource tagged with this stack whose stackctl:resource tag names a resource of the file.
    #[arg(long, conflicts_with_all = ["name", "id"])]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Also delete what this lineage (of a state that is gone for good) created; as printed, e.g. `8c849f1e`. Repeatable.
    #[arg(long = "lineage", value_name = "LINEAGE")]
    pub lineages: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the resources the state records.
    List,
    /// Show everything the state records about one resource: ids, outputs, configuration.
    Show {
        /// The key the state records.
        name: String,
    },
    /// Forget resources without deleting them: they stay in AWS, no longer managed. AWS is not touched.
    Rm {
        /// The keys the state records.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Rename a resource's key in the state (after renaming it in the stack file). AWS is not touched.
    Mv {
        /// The key the state records.
        from: String,
        /// The new key.
        to: String,
    },
    /// Print the state document on stdout: `stackctl state pull > backup.json`.
    Pull,
    /// Replace the state with a document (from `state pull`). An older one (lower serial) or one of
    /// another lineage is refused unless --force. AWS is not touched.
    Push {
        /// The state document to write.
        #[arg(value_name = "FILE")]
        document: PathBuf,
        /// Write it even when it is older than the current state or of another lineage.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan the removal of everything (what `down` would do).
    #[arg(long)]
    pub destroy: bool,
    /// Save the plan to this file, to apply exactly it later with `stackctl up FILE` (or `down FILE`).
    #[arg(short = 'o', long = "out", value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `stackctl plan -o`: apply exactly it, or refuse if anything changed since.
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OutputsArgs {
    /// A resource (`web`) or one of its outputs (`web.public_ip`).
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock id, as printed by the run that found the state locked.
    pub lock_id: String,
}
