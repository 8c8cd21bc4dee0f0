//! Issue #4: interrupts. The first Ctrl-C starts nothing new, lets in-flight work finish and be
//! recorded, releases the lock and exits 130 saying how to resume; a second exits at once, leaving a
//! readable state that names everything created.

use crate::common::{Emulator, Workspace, run, stackctl};
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
    let mut child = stackctl(&emulator.endpoint, ws.dir.path())
        .args(["down", "-f", FILE, "--yes"])
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
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line)
                if line.contains("cache (elasticache-cluster): deleting")
                    || line.contains("db (rds-instance): deleting") =>
            {
                return (child, rx);
            }
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("down never started deleting");
            }
        }
    }
}

fn interrupt(child: &Child) {
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
}

fn state(ws: &Workspace) -> serde_json::Value {
    serde_json::from_str(&ws.read(STATE)).expect("the state stays readable")
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
        output.contains("run `stackctl down` again to resume"),
        "{output}"
    );
    let recorded = state(&ws);
    for gone in ["cache", "db"] {
        assert!(
            recorded["resources"].get(gone).is_none(),
            "the in-flight delete of {gone} finished and was recorded"
        );
    }
    for kept in ["redis_sg", "db_sg", "cache_subnets", "db_subnets"] {
        assert!(
            recorded["resources"].get(kept).is_some(),
            "{kept} was not started after the interrupt"
        );
    }
    assert!(
        aws.rds
            .describe_db_instances()
            .db_instance_identifier("cache-demo-db")
            .send()
            .await
            .is_err()
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
    let recorded = state(&ws);
    assert!(
        recorded["resources"].get("db").is_some() || recorded["resources"].get("cache").is_some(),
        "the state still names what exists"
    );
    assert!(!lock.exists(), "the lock goes with the process");
    let resumed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", FILE, "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(census(&aws).await, nothing());
}
