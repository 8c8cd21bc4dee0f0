//! Issue #4: a crash at any point. The emulator kills stackctl with SIGKILL right after the N-th
//! mutating AWS request has been handled — before stackctl can read the answer — for every N of an
//! `up` and of a `down` of the seed stack. After each crash the next run must finish with every
//! resource existing exactly once, and `down` must leave nothing behind.

use crate::common::{Clients, Emulator, Workspace, run, stackctl};
use aws_sdk_ec2::types::Filter;
use std::process::Command;
use std::time::{Duration, Instant};

const FILE: &str = "stacks/elasticache-rds.yaml";
const STACK: &str = "cache-demo";

fn post(endpoint: &str, path: &str, body: &str) -> String {
    http(
        endpoint,
        &format!(
            "POST {path} HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn http(endpoint: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

pub(crate) fn mutations(endpoint: &str) -> usize {
    let body = http(endpoint, "GET /_stackctl/crash HTTP/1.0\r\n\r\n");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["mutations"]
        .as_u64()
        .unwrap() as usize
}

fn arm(endpoint: &str, pid: Option<u32>, after: usize) {
    let pid = pid.map(|p| p.to_string()).unwrap_or_else(|| "null".into());
    post(
        endpoint,
        "/_stackctl/crash",
        &format!("{{\"pid\": {pid}, \"after\": {after}}}"),
    );
}

/// Runs stackctl so that the emulator may kill it after the `after`-th mutating request. The process
/// starts stopped, so the trigger is armed with its pid before it sends anything.
pub(crate) fn run_with_crash(
    emulator: &Emulator,
    ws: &Workspace,
    args: &[&str],
    after: usize,
) -> Option<i32> {
    let command = stackctl(&emulator.endpoint, ws.dir.path());
    // The same program and environment, behind a shell that stops itself and then becomes stackctl.
    let envs: Vec<(std::ffi::OsString, std::ffi::OsString)> = command
        .get_envs()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
        .collect();
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg("kill -STOP $$; exec \"$0\" \"$@\"")
        .arg(command.get_program())
        .args(args)
        .env_clear()
        .envs(envs)
        .current_dir(ws.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = shell.spawn().unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !is_stopped(pid) {
        assert!(Instant::now() < deadline, "the child never stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    arm(&emulator.endpoint, Some(pid), after);
    Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    arm(&emulator.endpoint, None, 0);
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

fn is_stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('T')
        })
        .unwrap_or(false)
}

/// Issue #9: a killed run leaves no lock: the kernel released it with the process, so the next
/// run needs no `force-unlock`.
fn assert_lock_free(ws: &Workspace) {
    let state = ws.path("stacks/.stackctl/elasticache-rds.yaml.state.json");
    let lock = stackctl::state::lock::Lock::acquire(&state, "check")
        .expect("the killed run's lock went with it");
    drop(lock);
}

/// How many of each resource of the stack exist, read from AWS.
pub async fn census(aws: &Clients) -> Vec<(&'static str, usize)> {
    let tag = |key: &str, value: &str| {
        Filter::builder()
            .name(format!("tag:{key}"))
            .values(value)
            .build()
    };
    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(tag("stackctl:stack", STACK))
        .send()
        .await
        .unwrap()
        .security_groups()
        .len();
    let instances = crate::common::instances_of(aws, STACK).await.len();
    let clusters = aws
        .elasticache
        .describe_cache_clusters()
        .send()
        .await
        .unwrap()
        .cache_clusters()
        .len();
    let cache_subnets = aws
        .elasticache
        .describe_cache_subnet_groups()
        .send()
        .await
        .unwrap()
        .cache_subnet_groups()
        .iter()
        .filter(|g| g.cache_subnet_group_name() != Some("default"))
        .count();
    let databases = aws
        .rds
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .len();
    let db_subnets = aws
        .rds
        .describe_db_subnet_groups()
        .send()
        .await
        .unwrap()
        .db_subnet_groups()
        .iter()
        .filter(|g| g.db_subnet_group_name() != Some("default"))
        .count();
    let secrets = aws
        .secrets
        .list_secrets()
        .send()
        .await
        .unwrap()
        .secret_list()
        .len();
    let roles = aws
        .iam
        .list_roles()
        .send()
        .await
        .unwrap()
        .roles()
        .iter()
        .filter(|r| r.role_name().starts_with(STACK))
        .count();
    let profiles = aws
        .iam
        .list_instance_profiles()
        .send()
        .await
        .unwrap()
        .instance_profiles()
        .iter()
        .filter(|p| p.instance_profile_name().starts_with(STACK))
        .count();
    vec![
        ("security groups", groups),
        ("instances", instances),
        ("cache clusters", clusters),
        ("cache subnet groups", cache_subnets),
        ("databases", databases),
        ("db subnet groups", db_subnets),
        ("secrets", secrets),
        ("roles", roles),
        ("instance profiles", profiles),
    ]
}

pub const COMPLETE: &[(&str, usize)] = &[
    ("security groups", 3),
    ("instances", 1),
    ("cache clusters", 1),
    ("cache subnet groups", 1),
    ("databases", 1),
    ("db subnet groups", 1),
    ("secrets", 1),
    ("roles", 1),
    ("instance profiles", 1),
];

pub fn nothing() -> Vec<(&'static str, usize)> {
    COMPLETE.iter().map(|(what, _)| (*what, 0)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_at_every_mutating_request_of_up_and_down() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let up = ["up", "-f", FILE, "--yes"];
    let down = ["down", "-f", FILE, "--yes"];

    // How many crash points each command has.
    arm(&emulator.endpoint, None, 0);
    assert_eq!(
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(up)).code,
        0
    );
    let up_points = mutations(&emulator.endpoint);
    arm(&emulator.endpoint, None, 0);
    assert_eq!(
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(down)).code,
        0
    );
    let down_points = mutations(&emulator.endpoint);
    assert!(
        up_points > 10 && down_points > 5,
        "{up_points} / {down_points}"
    );

    let mut survived = 0;
    for n in 1..=up_points {
        assert_eq!(
            run_with_crash(&emulator, &ws, &up, n),
            Some(9),
            "up was not killed at crash point {n}"
        );
        assert_lock_free(&ws);
        emulator.reset_requests();
        let again = run(stackctl(&emulator.endpoint, ws.dir.path()).args(up));
        assert_eq!(
            again.code, 0,
            "up after a crash at point {n} of up:\n{}",
            again.stderr
        );
        // Finishing what the crash interrupted never replaces what it made.
        let undone: Vec<String> = emulator
            .changes()
            .into_iter()
            .filter(|r| r.contains(".Delete") || r.contains(".Terminate"))
            .collect();
        assert!(
            undone.is_empty(),
            "up after a crash at point {n} of up deleted {undone:?}:\n{}",
            again.stderr
        );
        assert_eq!(
            census(&aws).await,
            COMPLETE,
            "after a crash at point {n} of up, each resource exists exactly once"
        );
        let plan = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
            "plan",
            "-f",
            FILE,
            "--detailed-exitcode",
        ]));
        assert_eq!(
            plan.code, 0,
            "plan converges after a crash at point {n} of up:\n{}",
            plan.stdout
        );
        let removed = run(stackctl(&emulator.endpoint, ws.dir.path()).args(down));
        assert_eq!(
            removed.code, 0,
            "down after a crash at point {n} of up:\n{}",
            removed.stderr
        );
        assert_eq!(
            census(&aws).await,
            nothing(),
            "down leaves nothing after a crash at point {n} of up"
        );
        survived += 1;
    }
    for n in 1..=down_points {
        assert_eq!(
            run(stackctl(&emulator.endpoint, ws.dir.path()).args(up)).code,
            0
        );
        assert_eq!(
            run_with_crash(&emulator, &ws, &down, n),
            Some(9),
            "down was not killed at crash point {n}"
        );
        assert_lock_free(&ws);
        let again = run(stackctl(&emulator.endpoint, ws.dir.path()).args(down));
        assert_eq!(
            again.code, 0,
            "down after a crash at point {n} of down:\n{}",
            again.stderr
        );
        assert_eq!(
            census(&aws).await,
            nothing(),
            "down leaves nothing after a crash at point {n} of down"
        );
        survived += 1;
    }
    println!(
        "crash points survived: {survived} of {} ({up_points} in up, {down_points} in down)",
        up_points + down_points
    );
}
