//! Issue #4: slow and flaky AWS, injected by the emulator. With 20% of requests throttled and 3%
//! answered with HTTP 5xx, resources
//! that take seconds to become available or go away, an instance profile EC2 cannot see at first, and
//! network interfaces that keep security groups busy after their instance is gone, both seed stacks go
//! up and down; stackctl shows each resource's AWS status and elapsed time while it waits. A timeout
//! names the resource, its last status and how to continue, and leaves the resource in state.

use crate::common::{Emulator, Workspace, code_of, run, stackctl};
use crate::crash::{COMPLETE, census, nothing};

const SLOW: u64 = 3;

fn faults(throttle: &str, slow: u64) -> Vec<(&'static str, String)> {
    vec![
        ("STACKCTL_EMULATOR_THROTTLE_RATE", throttle.to_string()),
        (
            "STACKCTL_EMULATOR_ERROR_RATE",
            if throttle == "0" { "0" } else { "0.03" }.to_string(),
        ),
        ("STACKCTL_EMULATOR_SEED", "7".to_string()),
        ("STACKCTL_EMULATOR_CREATE_SECONDS", slow.to_string()),
        ("STACKCTL_EMULATOR_DELETE_SECONDS", slow.to_string()),
        // Longer than a create: the instance waits for its security group (`slow` seconds), and
        // must still find the new instance profile invisible to EC2 when it launches.
        (
            "STACKCTL_EMULATOR_PROFILE_PROPAGATION_SECONDS",
            (2 * slow).to_string(),
        ),
        // Longer than the retries of a throttled DeleteSecurityGroup, so the holder is still there
        // to be named when AWS's refusal finally arrives.
        (
            "STACKCTL_EMULATOR_ENI_RELEASE_SECONDS",
            (3 * slow).to_string(),
        ),
    ]
}

fn start(env: &[(&'static str, String)]) -> Emulator {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Emulator::start_with_env(&pairs)
}

fn injected(emulator: &Emulator) -> serde_json::Value {
    use std::io::{Read, Write};
    let address = emulator.endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /_stackctl/faults HTTP/1.0\r\nHost: {address}\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    serde_json::from_str(
        response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("{}"),
    )
    .unwrap_or_default()
}

/// stackctl with the standard AWS retry settings (`AWS_RETRY_MODE`, `AWS_MAX_ATTEMPTS`), which it
/// honours: at 20% throttling the default adaptive mode also succeeds, but its client-side rate
/// limiter makes a run several times slower.
fn stackctl_retrying(emulator: &Emulator, ws: &Workspace) -> std::process::Command {
    let mut command = stackctl(&emulator.endpoint, ws.dir.path());
    command
        .env("AWS_RETRY_MODE", "standard")
        .env("AWS_MAX_ATTEMPTS", "10");
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_stacks_go_up_and_down_on_a_slow_throttled_aws() {
    let emulator = start(&faults("0.2", SLOW));
    let aws = emulator.aws().await;
    let ws = Workspace::new();

    let up = run(stackctl_retrying(&emulator, &ws).args([
        "up",
        "-f",
        "stacks/elasticache-rds.yaml",
        "--yes",
    ]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(census(&aws).await, COMPLETE, "each resource exactly once");
    for shown in ["cache: creating (", "db: creating (", "s elapsed)"] {
        assert!(
            up.stderr.contains(shown),
            "expected `{shown}` while waiting:\n{}",
            up.stderr
        );
    }
    // The instance is `pending` for 3 s, which throttled DescribeInstances calls (retried by the
    // SDK with backoff) may miss entirely; its launch waits 6 s for the instance profile, which
    // is always shown.
    assert!(
        up.stderr.contains("web: pending (")
            || up
                .stderr
                .contains("web: waiting for the instance profile to reach EC2 ("),
        "expected the web server's status while waiting:\n{}",
        up.stderr
    );
    let quiet = run(stackctl_retrying(&emulator, &ws).args([
        "plan",
        "-f",
        "stacks/elasticache-rds.yaml",
        "--detailed-exitcode",
    ]));
    assert_eq!(quiet.code, 0, "{}{}", quiet.stdout, quiet.stderr);
    let down = run(stackctl_retrying(&emulator, &ws).args([
        "down",
        "-f",
        "stacks/elasticache-rds.yaml",
        "--yes",
    ]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(down.stderr.contains("deleting ("), "{}", down.stderr);
    assert_eq!(census(&aws).await, nothing());

    let up =
        run(stackctl_retrying(&emulator, &ws).args(["up", "-f", "stacks/memorydb.yaml", "--yes"]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(up.stderr.contains("db: creating ("), "{}", up.stderr);
    let down = run(stackctl_retrying(&emulator, &ws).args([
        "down",
        "-f",
        "stacks/memorydb.yaml",
        "--yes",
    ]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(
        code_of(
            aws.memorydb
                .describe_clusters()
                .cluster_name("memorydb-demo-db")
                .send()
                .await
        ),
        "ClusterNotFoundFault"
    );
    assert!(
        aws.secrets
            .list_secrets()
            .send()
            .await
            .unwrap()
            .secret_list()
            .is_empty()
    );

    // The web tier shows the two EC2 behaviours directly: a new instance profile EC2 cannot see yet,
    // and a terminated instance's network interface keeping its security group busy.
    let up = run(stackctl_retrying(&emulator, &ws).args(["up", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(
        up.stderr
            .contains("waiting for the instance profile to reach EC2"),
        "{}",
        up.stderr
    );
    let down =
        run(stackctl_retrying(&emulator, &ws).args(["down", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(
        down.stderr.contains("DependencyViolation: held by eni-"),
        "the busy group is named while waiting:\n{}",
        down.stderr
    );

    let faults = injected(&emulator);
    let (throttled, requests) = (
        faults["throttling"].as_u64().unwrap_or_default(),
        faults["requests"].as_u64().unwrap_or(1),
    );
    let share = throttled * 100 / requests;
    assert!(
        (10..=30).contains(&share) && throttled > 20,
        "about 20% of the requests were throttled: {faults}"
    );
    let server_errors = faults["server_errors"].as_u64().unwrap_or_default();
    assert!(server_errors > 0, "some requests got HTTP 5xx: {faults}");
    println!(
        "throttled {throttled} and failed {server_errors} (HTTP 5xx) of {requests} AWS requests; every run succeeded"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_names_the_resource_and_its_last_status_and_keeps_it_in_state() {
    let emulator = start(&[
        ("STACKCTL_EMULATOR_CREATE_SECONDS", "12".to_string()),
        ("STACKCTL_EMULATOR_DELETE_SECONDS", "2".to_string()),
    ]);
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/slow.yaml";
    ws.write(
        file,
        "stack: slow\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  subnets: { type: elasticache-subnet-group }\n  cache:\n    type: elasticache-cluster\n    node_type: cache.t3.small\n    subnet_group: ${subnets.name}\n    timeouts: { create: 2s }\n",
    );
    let up = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", file, "--yes"]));
    assert_eq!(up.code, 1, "{}", up.stderr);
    for expected in [
        "cache (elasticache-cluster)",
        "timed out after 2s",
        "last status: creating",
        "run `stackctl up` again to keep waiting, or `stackctl down` to remove it",
    ] {
        assert!(
            up.stderr.contains(expected),
            "expected `{expected}` in:\n{}",
            up.stderr
        );
    }
    let state: serde_json::Value =
        serde_json::from_str(&ws.read("stacks/.stackctl/slow.yaml.state.json")).unwrap();
    assert_eq!(
        state["resources"]["cache"]["id"], "slow-cache",
        "the resource stays in state with its id"
    );
    let down = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", file, "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(
        code_of(
            aws.elasticache
                .describe_cache_clusters()
                .cache_cluster_id("slow-cache")
                .send()
                .await
        ),
        "CacheClusterNotFound"
    );
}
