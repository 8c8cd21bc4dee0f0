//! Issue #4: interrupts. The first Ctrl-C starts nothing new, lets in-flight work finish and be
//! recorded, releases the lock and exits 130 saying how to resume; a second exits at once, leaving a
//! readable state that names everything created.

use crate::common::{Emulator, Workspace, code_of, run, stackctl};
use crate::crash::{COMPLETE, census, nothing};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const FILE: &str = "stacks/elasticache-rds.yaml";
const STATE: &str = "stacks/.stackctl/elasticache-rds.yaml.state.json";
const DELETE_SECONDS: u64 = 4;

/// Starts `down` and returns once the cache or the database is being deleted (those take time here).
fn start_down(emulator: &Emulator, ws: &Workspace) -> (Child, mpsc::Receiver<String>) {
    start_until(
        emulator,
        ws,
        &["down", "-f", FILE, "--yes"],
        &["db (rds-instance): deleting"],
    )
}

/// Starts stackctl with `args` and returns once a line of its stderr contains one of `wanted`,
/// with the rest of its stderr, line by line.
fn start_until(
    emulator: &Emulator,
    ws: &Workspace,
    args: &[&str],
    wanted: &[&str],
) -> (Child, mpsc::Receiver<String>) {
    let mut command = stackctl(&emulator.endpoint, ws.dir.path());
    command.args(args);
    spawn_until(command, wanted)
}

/// Spawns `command` and returns once a line of its stderr contains one of `wanted`, with the rest
/// of its stderr, line by line.
pub fn spawn_until(
    mut command: std::process::Command,
    wanted: &[&str],
) -> (Child, mpsc::Receiver<String>) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if wanted.iter().any(|w| line.contains(w)) => return (child, rx),
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{command:?} never printed any of {wanted:?}");
            }
        }
    }
}

fn interrupt(child: &Child) {
    signal(child, "INT");
}

pub fn signal(child: &Child, name: &str) {
    std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
}

/// Issue #9: nobody holds the state's lock (a killed or interrupted run's lock went with it).
fn assert_lock_free(ws: &Workspace) {
    let lock = stackctl::state::lock::Lock::acquire(&ws.path(STATE), "check")
        .expect("no run holds the state's lock");
    drop(lock);
}

/// The state as the next run reads it: the document with the journal of a run that exited before
/// folding it in replayed over it.
fn state(emulator: &Emulator, ws: &Workspace) -> serde_json::Value {
    let pulled =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["state", "pull", "-f", FILE]));
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    serde_json::from_str(&pulled.stdout).expect("the state stays readable")
}

#[tokio::test(flavor = "multi_thread")]
async fn first_interrupt_finishes_in_flight_work_and_second_exits_at_once() {
    let delay = DELETE_SECONDS.to_string();
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_DELETE_SECONDS", &delay)]);
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let lock = ws.path(&format!("{STATE}.lock"));
    assert_eq!(
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"])).code,
        0
    );

    // First interrupt: the deletes in flight finish and are recorded; their dependents never start.
    let (mut child, rx) = start_down(&emulator, &ws);
    interrupt(&child);
    let status = child.wait().unwrap();
    let output: Vec<String> = rx.try_iter().collect();
    let output = output.join("\n");
    assert_eq!(status.code(), Some(130), "{output}");
    assert!(output.contains("stopping: interrupted"), "{output}");
    assert!(
        output.contains("run `stackctl down -f stacks/elasticache-rds.yaml --yes` to resume"),
        "{output}"
    );
    // The web server and the database go first (nothing depends on them); the cache, which the
    // web server's settings name, waits for the web server.
    let recorded = state(&emulator, &ws);
    for gone in ["web", "db"] {
        assert!(
            recorded["resources"].get(gone).is_none(),
            "the in-flight delete of {gone} finished and was recorded"
        );
    }
    for kept in ["cache", "redis_sg", "db_sg", "cache_subnets", "db_subnets"] {
        assert!(
            recorded["resources"].get(kept).is_some(),
            "{kept} was not started after the interrupt"
        );
    }
    assert_eq!(
        code_of(
            aws.rds
                .describe_db_instances()
                .db_instance_identifier("cache-demo-db")
                .send()
                .await
        ),
        "DBInstanceNotFound"
    );
    assert!(!lock.exists(), "the lock is released");
    let resumed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", FILE, "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(census(&aws).await, nothing());

    // Second interrupt: out at once, long before the deletes in flight could finish.
    assert_eq!(
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"])).code,
        0
    );
    assert_eq!(census(&aws).await, COMPLETE);
    let (mut child, rx) = start_down(&emulator, &ws);
    let interrupted_at = Instant::now();
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(200));
    interrupt(&child);
    let status = child.wait().unwrap();
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(DELETE_SECONDS),
        "the second interrupt exits at once"
    );
    let output: Vec<String> = rx.try_iter().collect();
    assert_eq!(status.code(), Some(130), "{}", output.join("\n"));
    assert!(
        output.join("\n").contains("interrupted again: exiting now"),
        "{}",
        output.join("\n")
    );
    let recorded = state(&emulator, &ws);
    assert!(
        recorded["resources"].get("db").is_some() || recorded["resources"].get("cache").is_some(),
        "the state still names what exists"
    );
    assert_lock_free(&ws);
    // `up` right away: what AWS is still deleting is waited for before it is created again.
    let again = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"]));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("a delete was interrupted: it is finished"),
        "{}",
        again.stderr
    );
    assert_eq!(census(&aws).await, COMPLETE);
    let resumed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", FILE, "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(census(&aws).await, nothing());
}

/// Issue #9: Ctrl-C typed at the confirmation prompt, on a real terminal, means "no": exit 130,
/// nothing changed in AWS or in the state, and no lock left.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_at_the_prompt_changes_nothing_and_leaves_no_lock() {
    let emulator = Emulator::start();
    let ws = Workspace::new();
    let stackctl = stackctl(&emulator.endpoint, ws.dir.path());
    let helper = crate::common::project_root().join("tests/support/ctrl_c_at_prompt.py");
    let mut on_terminal = std::process::Command::new("python3");
    on_terminal
        .arg(helper)
        .arg("Only 'yes' will be accepted")
        .arg(stackctl.get_program())
        .args(["up", "-f", FILE])
        .current_dir(ws.dir.path())
        .env_clear();
    for (key, value) in stackctl.get_envs() {
        if let Some(value) = value {
            on_terminal.env(key, value);
        }
    }
    let output = on_terminal.output().expect("run the terminal helper");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the helper reports JSON");
    let shown = report["output"].as_str().unwrap_or_default();
    assert_eq!(report["prompted"], true, "{shown}");
    assert_eq!(report["code"], 130, "{shown}");
    assert!(shown.contains("nothing was changed"), "{shown}");
    let changes = emulator.changes();
    assert!(
        changes.is_empty(),
        "nothing was sent but reads: {changes:?}"
    );
    assert!(!ws.path(STATE).exists(), "no state was written");
    assert_lock_free(&ws);
}

/// Issue #9: GitHub Actions cancels a job with SIGINT, SIGTERM 7.5 s later and SIGKILL 2.5 s after
/// that. The run is gone before the SIGKILL, the state names what was in flight, no lock is left,
/// and the next `up` converges without `force-unlock`.
#[tokio::test(flavor = "multi_thread")]
async fn the_ci_cancel_sequence_ends_with_the_state_saved_and_no_lock() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_CREATE_SECONDS", "15")]);
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let (mut child, rx) = start_until(
        &emulator,
        &ws,
        &["up", "-f", FILE, "--yes"],
        &[
            "cache (elasticache-cluster): creating",
            "db (rds-instance): creating",
        ],
    );
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(7500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGINT waits for the creates in flight"
    );
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(2500));
    let status = child.try_wait().unwrap();
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let output: Vec<String> = rx.try_iter().collect();
    let output = output.join("\n");
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(130),
        "SIGTERM ends the run before SIGKILL would:\n{output}"
    );
    let recorded = state(&emulator, &ws);
    let in_flight: Vec<&str> = ["cache", "db"]
        .into_iter()
        .filter(|name| recorded["resources"][*name]["status"] == "creating")
        .collect();
    assert!(
        !in_flight.is_empty(),
        "the state records the creates in flight: {recorded}"
    );
    assert_lock_free(&ws);
    let resumed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(census(&aws).await, COMPLETE);
    let removed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", FILE, "--yes"]));
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert_eq!(census(&aws).await, nothing());
}

/// Issue #9: `stackctl down --yes 2>&1 | tee log`, Ctrl-C twice. The first Ctrl-C also ends `tee`,
/// so every later write to stderr fails (EPIPE): the second Ctrl-C still exits at once, with 130
/// and not a panic, and no AWS request follows.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_interrupt_behind_a_closed_pipe_exits_at_once() {
    let delay = DELETE_SECONDS.to_string();
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_DELETE_SECONDS", &delay)]);
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    assert_eq!(
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"])).code,
        0
    );
    let mut child = stackctl(&emulator.endpoint, ws.dir.path())
        .args(["down", "-f", FILE, "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut line = String::new();
    while !line.contains("): deleting") {
        assert!(Instant::now() < deadline, "down never started deleting");
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "stderr ended early"
        );
    }
    // The reader goes away, as `tee` does on the first Ctrl-C.
    drop(stderr);
    drop(child.stdout.take());
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(300));
    let interrupted_at = Instant::now();
    interrupt(&child);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if interrupted_at.elapsed() > Duration::from_secs(DELETE_SECONDS) {
            let _ = child.kill();
            panic!("the second interrupt did not end the run");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "exits 130, never a panic");
    let after_exit = emulator.requests().len();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        emulator.requests().len(),
        after_exit,
        "no AWS request after the exit"
    );
    assert_lock_free(&ws);
    let resumed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", FILE, "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(census(&aws).await, nothing());
}
