//! Issue #11: a state kept in S3, shared by runs that share nothing else. The deploy pipeline's
//! steps run from separate working directories; a second run is refused while the first holds the
//! lease; a killed holder's lease runs out and the next run takes over; a run that cannot renew
//! starts nothing new; a run that lost its lock cannot overwrite a newer state. Everything is
//! checked through the AWS API (EC2 describes, S3 objects), never through stackctl's own output.

use crate::common::{CallCounter, Emulator, Run, Workspace, run, stackctl};
use crate::interrupt::{signal, spawn_until};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BUCKET: &str = "team-state";
const KEY: &str = "stacks/web.json";
const FILE: &str = "stacks/web.yaml";

/// The web stack with its state in S3, named by the stack file itself.
fn s3_workspace() -> Workspace {
    let ws = Workspace::new();
    let text = ws.read(FILE);
    ws.write(
        FILE,
        &text.replace(
            "stack: web-demo\n",
            &format!("stack: web-demo\nstate: s3://{BUCKET}/{KEY}\n"),
        ),
    );
    ws
}

/// The web stack plus a group that waits for the instance: work left to start while the
/// instance is created.
fn workspace_with_a_later_step() -> Workspace {
    let ws = s3_workspace();
    let text = ws.read(FILE);
    ws.write(
        FILE,
        &format!(
            "{text}\n  after_web:\n    type: security-group\n    description: created once the web server is\n    vpc: ${{vpc.id}}\n    depends_on: [web]\n"
        ),
    );
    ws
}

async fn create_bucket(emulator: &Emulator) -> aws_sdk_s3::Client {
    let s3 = emulator.aws().await.s3;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    s3
}

async fn object(s3: &aws_sdk_s3::Client, key: &str) -> Option<Vec<u8>> {
    match s3.get_object().bucket(BUCKET).key(key).send().await {
        Ok(out) => Some(out.body.collect().await.unwrap().into_bytes().to_vec()),
        Err(e) => {
            let error = e.into_service_error();
            assert!(error.is_no_such_key(), "{error:?}");
            None
        }
    }
}

async fn state_json(s3: &aws_sdk_s3::Client) -> serde_json::Value {
    serde_json::from_slice(&object(s3, KEY).await.expect("the state object")).unwrap()
}

async fn keys(s3: &aws_sdk_s3::Client) -> Vec<String> {
    s3.list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

/// Waits until the lock object exists and returns what it holds.
async fn wait_for_lock(s3: &aws_sdk_s3::Client) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(bytes) = object(s3, &format!("{KEY}.lock")).await {
            return serde_json::from_slice(&bytes).unwrap();
        }
        assert!(Instant::now() < deadline, "no lock object appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn groups_named(emulator: &Emulator, name: &str) -> usize {
    crate::common::groups_named(&emulator.aws().await, name)
        .await
        .len()
}

async fn live_instances(emulator: &Emulator) -> usize {
    crate::common::live_instances(&emulator.aws().await, "web-demo")
        .await
        .len()
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap().map(Result::unwrap) {
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                found.push(
                    entry
                        .path()
                        .strip_prefix(dir)
                        .unwrap()
                        .display()
                        .to_string(),
                );
            }
        }
    }
    found
}

fn no_local_state(ws: &Workspace) {
    let local: Vec<String> = files_under(ws.dir.path())
        .into_iter()
        .filter(|f| f.contains(".stackctl") || f.contains("state"))
        .collect();
    assert!(
        local.is_empty(),
        "local state files were written: {local:?}"
    );
}

fn wait_output(child: Child, rest: mpsc::Receiver<String>) -> Run {
    let output = child.wait_with_output().unwrap();
    let stderr: Vec<String> = rest.iter().collect();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into(),
        stderr: stderr.join("\n"),
    }
}

/// The deploy pipeline of examples/ci/deploy.yml: each job on its own runner, sharing nothing but
/// the bucket. Then the state commands on the shared state, and `down` from yet another place.
#[tokio::test(flavor = "multi_thread")]
async fn the_pipeline_runs_from_separate_directories_sharing_only_s3() {
    let emulator = Emulator::start();
    let s3 = create_bucket(&emulator).await;
    let (pr, merge, nightly) = (s3_workspace(), s3_workspace(), s3_workspace());
    let ctl = |ws: &Workspace| stackctl(&emulator.endpoint, ws.dir.path());

    // Pull request: a saved plan with changes.
    let planned =
        run(ctl(&pr).args(["plan", "-f", FILE, "--detailed-exitcode", "-o", "plan.json"]));
    assert_eq!(planned.code, 2, "{}", planned.stderr);
    let saved: serde_json::Value = serde_json::from_str(&pr.read("plan.json")).unwrap();
    assert_eq!(saved["state_file"], format!("s3://{BUCKET}/{KEY}"));

    // Merge: another runner applies exactly that plan, handed over as an artifact.
    merge.write("plan.json", &pr.read("plan.json"));
    let applied = run(ctl(&merge).args(["up", "plan.json", "--yes"]));
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(groups_named(&emulator, "web-demo-web-sg").await, 1);
    assert_eq!(live_instances(&emulator).await, 1);
    let state = state_json(&s3).await;
    assert_eq!(state["stack"], "web-demo");
    let serial = state["serial"].as_u64().unwrap();
    let stored = keys(&s3).await;
    assert!(
        !stored.contains(&format!("{KEY}.lock")),
        "the lock was released: {stored:?}"
    );
    // Each document written is kept in the history; the steps between went to the journal,
    // folded into the document at the end of the run and then removed.
    let history = format!("{KEY}.history/{serial:010}.json");
    assert!(
        stored.contains(&history),
        "{history} missing from {stored:?}"
    );
    let kept = stored.iter().filter(|k| k.contains(".history/")).count();
    assert!(
        kept < serial as usize,
        "{kept} documents written for {serial} steps: {stored:?}"
    );
    assert!(
        stored.iter().all(|k| !k.contains(".journal/")),
        "the journal is gone after the run: {stored:?}"
    );

    // Nightly drift check from a third runner: nothing to do.
    let drift = run(ctl(&nightly).args(["plan", "-f", FILE, "--detailed-exitcode"]));
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    // A run that changes nothing writes nothing: a plan saved before it still applies.
    let before = state_json(&s3).await["serial"].clone();
    let saved = run(ctl(&nightly).args(["plan", "-f", FILE, "-o", "again.json"]));
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let noop = run(ctl(&nightly).args(["up", "-f", FILE, "--yes"]));
    assert_eq!(noop.code, 0, "{}", noop.stderr);
    assert_eq!(state_json(&s3).await["serial"], before, "no new version");
    // The saved plan names its state: applied against another, it is refused for that reason.
    let elsewhere = run(ctl(&nightly).args([
        "up",
        "again.json",
        "--yes",
        "--state",
        &format!("s3://{BUCKET}/other.json"),
    ]));
    assert_eq!(elsewhere.code, 1, "{}", elsewhere.stderr);
    assert!(
        elsewhere.stderr.contains(&format!(
            "the saved plan was made against the state s3://{BUCKET}/{KEY}, but this run's state is s3://{BUCKET}/other.json"
        )),
        "{}",
        elsewhere.stderr
    );
    let applied_again = run(ctl(&nightly).args(["up", "again.json", "--yes"]));
    assert_eq!(applied_again.code, 0, "{}", applied_again.stderr);

    // A mistyped key finds no state, and says so before suggesting to adopt what AWS holds.
    let typo = run(ctl(&nightly).args([
        "plan",
        "-f",
        FILE,
        "--state",
        &format!("s3://{BUCKET}/stacks/wbe.json"),
    ]));
    assert_eq!(typo.code, 1, "{}", typo.stderr);
    assert!(
        typo.stderr.contains(&format!(
            "there is no state at s3://{BUCKET}/stacks/wbe.json"
        )),
        "{}",
        typo.stderr
    );
    // A local state left beside a stack file whose state moved to S3 is pointed out.
    let leftover = nightly.write("stacks/.stackctl/web.yaml.state.json", "{}");
    let warned = run(ctl(&nightly).args(["state", "list", "-f", FILE]));
    assert!(
        warned
            .stderr
            .contains("stacks/.stackctl/web.yaml.state.json is another state of this stack file"),
        "{}",
        warned.stderr
    );
    std::fs::remove_dir_all(leftover.parent().unwrap()).unwrap();

    // The state commands work on the shared state.
    let list = run(ctl(&nightly).args(["state", "list", "-f", FILE]));
    assert!(
        list.stdout.contains("web\tec2-instance\ti-"),
        "{}",
        list.stdout
    );
    let shown = run(ctl(&nightly).args(["state", "show", "web", "-f", FILE, "--json"]));
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let entry: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(entry["type"], "ec2-instance");
    assert_eq!(entry["id"], state["resources"]["web"]["id"]);
    let pulled = run(ctl(&nightly).args(["state", "pull", "-f", FILE]));
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    let pulled_json: serde_json::Value = serde_json::from_str(&pulled.stdout).unwrap();
    assert_eq!(pulled_json, state);
    nightly.write("old.json", &pulled.stdout);

    // Forgetting a resource leaves it in AWS, and says so.
    let forgot = run(ctl(&nightly).args(["state", "rm", "web_sg", "-f", FILE]));
    assert_eq!(forgot.code, 0, "{}", forgot.stderr);
    assert!(
        forgot.stderr.contains("AWS was not touched"),
        "{}",
        forgot.stderr
    );
    assert!(state_json(&s3).await["resources"].get("web_sg").is_none());
    assert_eq!(groups_named(&emulator, "web-demo-web-sg").await, 1);

    // Pushing back the older document is refused; so is another lineage; --force writes it.
    let older = run(ctl(&nightly).args(["state", "push", "old.json", "-f", FILE]));
    assert_eq!(older.code, 1, "{}", older.stderr);
    assert!(
        older.stderr.contains("it is older (serial"),
        "{}",
        older.stderr
    );
    let foreign = pulled.stdout.replace(
        state["lineage"].as_str().unwrap(),
        "00000000-0000-4000-8000-000000000000",
    );
    nightly.write("foreign.json", &foreign);
    let refused = run(ctl(&nightly).args(["state", "push", "foreign.json", "-f", FILE]));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("another lineage"),
        "{}",
        refused.stderr
    );
    assert!(state_json(&s3).await["resources"].get("web_sg").is_none());
    let forced = run(ctl(&nightly).args(["state", "push", "old.json", "--force", "-f", FILE]));
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let restored = state_json(&s3).await;
    assert!(restored["resources"].get("web_sg").is_some());
    assert!(restored["serial"].as_u64().unwrap() > serial + 1);

    // Teardown from the third runner.
    let down = run(ctl(&nightly).args(["down", "-f", FILE, "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(groups_named(&emulator, "web-demo-web-sg").await, 0);
    assert_eq!(live_instances(&emulator).await, 0);
    for ws in [&pr, &merge, &nightly] {
        no_local_state(ws);
    }
}

/// A bucket that versions objects keeps every state version itself: no history objects.
#[tokio::test(flavor = "multi_thread")]
async fn a_versioned_bucket_keeps_the_versions_itself() {
    let emulator = Emulator::start();
    let s3 = create_bucket(&emulator).await;
    s3.put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ws = s3_workspace();
    let up = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    let serial = state_json(&s3).await["serial"].as_u64().unwrap();
    let versions = s3
        .list_object_versions()
        .bucket(BUCKET)
        .prefix(KEY)
        .send()
        .await
        .unwrap();
    let of_state = versions
        .versions()
        .iter()
        .filter(|v| v.key() == Some(KEY))
        .count();
    // The first save and the end of the run write the document; the steps between are journal
    // records (KEY.journal/<serial>), removed once the document holds them.
    assert_eq!(
        of_state, 2,
        "the document is written twice, not once per step"
    );
    assert!(serial > 2, "the run saved {serial} steps");
    assert!(
        keys(&s3).await.iter().all(|k| !k.contains(".journal/")),
        "the journal is gone after the run"
    );
    assert!(
        keys(&s3).await.iter().all(|k| !k.contains(".history/")),
        "no history objects in a versioned bucket"
    );
}

/// A second run against a locked S3 state fails at once, naming the holder and its lease; the
/// first one finishes undisturbed.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_is_refused_while_the_first_holds_the_lease() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_CREATE_SECONDS", "4")]);
    let s3 = create_bucket(&emulator).await;
    let (first_ws, second_ws) = (s3_workspace(), s3_workspace());
    let mut first = stackctl(&emulator.endpoint, first_ws.dir.path());
    first.args(["up", "-f", FILE, "--yes"]);
    let (child, rest) = spawn_until(first, &["web (ec2-instance): creating"]);
    let lock = wait_for_lock(&s3).await;

    let started = Instant::now();
    let second =
        run(stackctl(&emulator.endpoint, second_ws.dir.path()).args(["up", "-f", FILE, "--yes"]));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the second run waited"
    );
    assert_eq!(second.code, 1, "{}", second.stderr);
    for expected in [
        "the state is locked: `up` by pid",
        &format!("lock id {}", lock["id"].as_str().unwrap()),
        "lease until",
        "force-unlock",
    ] {
        assert!(
            second.stderr.contains(expected),
            "{expected}: {}",
            second.stderr
        );
    }

    let first = wait_output(child, rest);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(live_instances(&emulator).await, 1, "created once");
    assert!(
        object(&s3, &format!("{KEY}.lock")).await.is_none(),
        "released"
    );
}

/// A holder on another machine (a lost CI runner) keeps its lock only until its lease ends; then
/// the next run takes it over. Two machines are simulated by the lock's own record of its holder.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_runners_lease_runs_out_and_the_next_run_takes_over() {
    let emulator = Emulator::start();
    let s3 = create_bucket(&emulator).await;
    let ws = s3_workspace();
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(4);
    let lost = serde_json::json!({
        "id": "5d2b8f00-0000-4000-8000-00000000c1a0",
        "pid": 4242,
        "host": "ci-runner-17",
        "operation": "up",
        "since": jiff::Timestamp::now().to_string(),
        "expires": expires.to_string(),
    });
    s3.put_object()
        .bucket(BUCKET)
        .key(format!("{KEY}.lock"))
        .body(serde_json::to_vec(&lost).unwrap().into())
        .send()
        .await
        .unwrap();

    let locked = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"]));
    assert_eq!(locked.code, 1, "the lease still runs: {}", locked.stderr);
    assert!(
        locked.stderr.contains("by pid 4242 on ci-runner-17")
            && locked.stderr.contains("lease until"),
        "{}",
        locked.stderr
    );
    assert_eq!(live_instances(&emulator).await, 0, "nothing was created");

    let wait = expires.duration_since(jiff::Timestamp::now());
    tokio::time::sleep(Duration::try_from(wait).unwrap_or_default() + Duration::from_millis(500))
        .await;
    let resumed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert!(
        resumed.stderr.contains("took over the lock") && resumed.stderr.contains("ci-runner-17"),
        "{}",
        resumed.stderr
    );
    assert_eq!(live_instances(&emulator).await, 1);
    assert!(object(&s3, &format!("{KEY}.lock")).await.is_none());
}

/// A holder killed outright on this machine: the next run sees its process is gone and takes its
/// lock over at once, without waiting out the lease, and converges, finding what the killed run
/// created instead of creating it twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_holders_lock_is_taken_over_and_the_run_converges() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_CREATE_SECONDS", "3")]);
    let s3 = create_bucket(&emulator).await;
    let ws = s3_workspace();
    let mut first = stackctl(&emulator.endpoint, ws.dir.path());
    first.args(["up", "-f", FILE, "--yes"]);
    let (child, _rest) = spawn_until(first, &["web (ec2-instance): creating"]);
    let lock = wait_for_lock(&s3).await;
    signal(&child, "KILL");
    let mut child = child;
    child.wait().unwrap();
    assert!(
        object(&s3, &format!("{KEY}.lock")).await.is_some(),
        "SIGKILL leaves the lock"
    );
    let journal: Vec<String> = keys(&s3)
        .await
        .into_iter()
        .filter(|k| k.starts_with(&format!("{KEY}.journal/")))
        .collect();
    assert!(
        !journal.is_empty(),
        "the killed run's steps are in its journal"
    );
    // What the next run reads: the document with the journal replayed over it.
    let pulled =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["state", "pull", "-f", FILE]));
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    let pulled: serde_json::Value = serde_json::from_str(&pulled.stdout).unwrap();
    assert!(
        pulled["serial"].as_u64() > state_json(&s3).await["serial"].as_u64(),
        "the journal's steps come after the stored document"
    );
    assert!(
        pulled["resources"]["web_sg"]["id"].is_string(),
        "the group the killed run created is recorded: {pulled}"
    );

    let started = Instant::now();
    let resumed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the 120 s lease was not waited out"
    );
    assert!(
        resumed.stderr.contains("took over the lock")
            && resumed.stderr.contains(lock["id"].as_str().unwrap()),
        "{}",
        resumed.stderr
    );
    assert_eq!(
        live_instances(&emulator).await,
        1,
        "the killed run's instance was found, not made twice"
    );
    assert_eq!(groups_named(&emulator, "web-demo-web-sg").await, 1);
    let drift = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
        "plan",
        "-f",
        FILE,
        "--detailed-exitcode",
    ]));
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
    assert!(object(&s3, &format!("{KEY}.lock")).await.is_none());
    assert!(
        keys(&s3).await.iter().all(|k| !k.contains(".journal/")),
        "the converged run folded the journal into the document"
    );
    no_local_state(&ws);
}

/// A run whose lease cannot be renewed (here: force-unlocked by someone who thought it dead)
/// finishes what is in flight, starts nothing new, and says why.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_cannot_renew_its_lease_starts_nothing_new() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_CREATE_SECONDS", "5")]);
    let s3 = create_bucket(&emulator).await;
    let ws = workspace_with_a_later_step();
    let mut first = stackctl(&emulator.endpoint, ws.dir.path());
    first
        .env("STACKCTL_LOCK_LEASE_SECONDS", "3")
        .args(["up", "-f", FILE, "--yes"]);
    let (child, rest) = spawn_until(first, &["web (ec2-instance): creating"]);
    let lock = wait_for_lock(&s3).await;
    let id = lock["id"].as_str().unwrap();
    let unlocked = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
        "force-unlock",
        id,
        "-f",
        FILE,
        "--yes",
    ]));
    assert_eq!(unlocked.code, 0, "{}", unlocked.stderr);
    assert!(
        unlocked.stderr.contains("starts nothing new"),
        "{}",
        unlocked.stderr
    );

    let first = wait_output(child, rest);
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(
        first.stderr.contains("the state lock was lost"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("no longer this run's lock"),
        "{}",
        first.stderr
    );
    assert_eq!(
        live_instances(&emulator).await,
        1,
        "the step in flight finished"
    );
    assert_eq!(
        groups_named(&emulator, "web-demo-after-web").await,
        0,
        "nothing new was started after the lease was lost"
    );
    // What finished is recorded: the next run converges without creating anything twice.
    let resumed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(live_instances(&emulator).await, 1);
    assert_eq!(groups_named(&emulator, "web-demo-after-web").await, 1);
}

/// A run paused past its lease (a suspended laptop, a stalled runner) while another run takes
/// over and writes: its next write is refused, the newer state stays, and its own view is kept
/// in a rescue file.
#[tokio::test(flavor = "multi_thread")]
async fn a_stale_write_is_refused_and_the_writers_view_rescued() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_CREATE_SECONDS", "4")]);
    let s3 = create_bucket(&emulator).await;
    let (paused_ws, other_ws) = (s3_workspace(), s3_workspace());
    let mut paused = stackctl(&emulator.endpoint, paused_ws.dir.path());
    paused
        .env("STACKCTL_LOCK_LEASE_SECONDS", "3")
        .args(["up", "-f", FILE, "--yes"]);
    let (child, rest) = spawn_until(paused, &["web (ec2-instance): creating"]);
    wait_for_lock(&s3).await;
    signal(&child, "STOP");
    tokio::time::sleep(Duration::from_secs(4)).await;

    // Another run takes over the expired lease and writes a newer state.
    let moved = run(stackctl(&emulator.endpoint, other_ws.dir.path()).args([
        "state",
        "mv",
        "web_role",
        "web_role_renamed",
        "-f",
        FILE,
    ]));
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    assert!(
        moved.stderr.contains("took over the lock"),
        "{}",
        moved.stderr
    );
    let newer = state_json(&s3).await;

    signal(&child, "CONT");
    let paused = wait_output(child, rest);
    assert_eq!(paused.code, 1, "{}", paused.stderr);
    assert!(
        paused
            .stderr
            .contains("was changed by another run since this one read it"),
        "{}",
        paused.stderr
    );
    assert!(
        paused.stderr.contains("help: this run lost its lock"),
        "says what to do: {}",
        paused.stderr
    );
    assert_eq!(
        state_json(&s3).await,
        newer,
        "the newer state was not overwritten"
    );
    let rescued: Vec<String> = files_under(paused_ws.dir.path())
        .into_iter()
        .filter(|f| f.starts_with("stackctl-rescue-web-demo-"))
        .collect();
    assert_eq!(rescued.len(), 1, "{rescued:?}");
    assert!(
        paused.stderr.contains(&rescued[0]),
        "the error names the rescue file: {}",
        paused.stderr
    );
    let view: serde_json::Value = serde_json::from_str(&paused_ws.read(&rescued[0])).unwrap();
    assert_eq!(view["lineage"], newer["lineage"]);
    assert!(
        view["resources"].get("web").is_some(),
        "the rescue holds the paused run's view"
    );
}

/// A bad state location is refused before any AWS call, naming what is wrong; in the stack file,
/// at its line and column.
#[test]
fn bad_state_locations_are_refused_before_any_aws_call() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    for (location, problem) in [
        ("s3://team-state", "no key"),
        ("s3://Team_State/web.json", "lowercase"),
        ("gs://team-state/web.json", "not a state backend"),
    ] {
        for command in ["plan", "up", "down", "outputs"] {
            let refused = run(stackctl(&counter.endpoint, ws.dir.path())
                .args([command, "-f", FILE, "--state", location, "--yes"]));
            assert_eq!(refused.code, 1, "{command} {location}: {}", refused.stderr);
            assert!(
                refused.stderr.contains(problem),
                "{command} {location}: {}",
                refused.stderr
            );
        }
    }
    let text = ws.read(FILE);
    ws.write(
        FILE,
        &text.replace(
            "stack: web-demo\n",
            "stack: web-demo\nstate: s3://team-state\n",
        ),
    );
    for command in ["validate", "plan", "down"] {
        let refused =
            run(stackctl(&counter.endpoint, ws.dir.path()).args([command, "-f", FILE, "--yes"]));
        assert_eq!(refused.code, 1, "{command}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("┌─ stacks/web.yaml:6:8"),
            "{command}: {}",
            refused.stderr
        );
        assert!(
            refused.stderr.contains("no key"),
            "{command}: {}",
            refused.stderr
        );
    }
    ws.write(FILE, &text);
    for (flag, env) in [(Some(""), None), (None, Some("")), (None, Some("  "))] {
        let mut command = stackctl(&counter.endpoint, ws.dir.path());
        command.args(["up", "-f", FILE, "--yes"]);
        if let Some(value) = flag {
            command.args(["--state", value]);
        }
        if let Some(value) = env {
            command.env("STACKCTL_STATE", value);
        }
        let empty = run(&mut command);
        assert_eq!(empty.code, 1, "{flag:?} {env:?}: {}", empty.stderr);
        let source = if flag.is_some() {
            "--state"
        } else {
            "STACKCTL_STATE"
        };
        assert!(
            empty.stderr.contains(&format!("{source} is set but empty")),
            "{}",
            empty.stderr
        );
    }
    let lease = run(stackctl(&counter.endpoint, ws.dir.path())
        .env("STACKCTL_LOCK_LEASE_SECONDS", "soon")
        .args([
            "up",
            "-f",
            FILE,
            "--state",
            "s3://team-state/web.json",
            "--yes",
        ]));
    assert_eq!(lease.code, 1, "{}", lease.stderr);
    assert!(
        lease.stderr.contains("STACKCTL_LOCK_LEASE_SECONDS"),
        "{}",
        lease.stderr
    );
    assert_eq!(counter.calls(), 0, "no AWS call was made");
}

/// The `run:` steps of one job of examples/ci/deploy.yml that call stackctl (building it is the
/// test's own business), and the workflow's `env:`.
fn workflow_job(job: &str) -> (Vec<String>, Vec<(String, String)>) {
    use yaml_rust2::YamlLoader;
    let text =
        std::fs::read_to_string(crate::common::project_root().join("examples/ci/deploy.yml"))
            .unwrap();
    let workflow = &YamlLoader::load_from_str(&text).unwrap()[0];
    let env = workflow["env"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.as_str().unwrap().to_string(),
            )
        })
        .collect();
    let steps = workflow["jobs"][job]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|step| step["run"].as_str())
        .filter(|script| script.contains("stackctl ") && !script.contains("cargo install"))
        .map(str::to_string)
        .collect();
    (steps, env)
}

/// Runs a job's stackctl steps as a runner would: bash, the workflow's env, stackctl on PATH.
fn run_job(emulator: &Emulator, ws: &Workspace, job: &str) -> Vec<Run> {
    let (steps, env) = workflow_job(job);
    assert!(!steps.is_empty(), "job {job} runs stackctl");
    let bin = Path::new(env!("CARGO_BIN_EXE_stackctl"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    steps
        .iter()
        .map(|script| {
            let mut command = stackctl(&emulator.endpoint, ws.dir.path());
            let command = command
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .env("PATH", &path)
                .env("GITHUB_OUTPUT", ws.path("github_output"));
            let mut bash = Command::new("bash");
            bash.args(["-e", "-c", script])
                .current_dir(ws.dir.path())
                .env_clear()
                .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))));
            let step = run(&mut bash);
            assert_eq!(
                step.code, 0,
                "job {job}, step {script}: {}{}",
                step.stdout, step.stderr
            );
            step
        })
        .collect()
}

/// The workflow of examples/ci/deploy.yml itself, job by job, each in its own directory: the
/// pull request's plan, the merge's apply of that saved plan, the nightly drift check. The state
/// lives only in the bucket its STACKCTL_STATE names.
#[tokio::test(flavor = "multi_thread")]
async fn the_example_workflow_deploys_with_its_state_in_s3() {
    let emulator = Emulator::start();
    let (_, env) = workflow_job("plan");
    let state = env
        .iter()
        .find(|(k, _)| k == "STACKCTL_STATE")
        .expect("the workflow names its state")
        .1
        .clone();
    let (bucket, key) = state.trim_start_matches("s3://").split_once('/').unwrap();
    let s3 = emulator.aws().await.s3;
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    let (pr, merge, nightly) = (Workspace::new(), Workspace::new(), Workspace::new());

    run_job(&emulator, &pr, "plan");
    assert!(
        pr.read("github_output").contains("changes=true"),
        "{}",
        pr.read("github_output")
    );
    merge.write("plan.json", &pr.read("plan.json"));
    let applied = run_job(&emulator, &merge, "apply");
    let outputs: serde_json::Value = serde_json::from_str(&applied[1].stdout).unwrap();
    let cache_id = outputs["cache"]["id"]
        .as_str()
        .expect("the cache's id")
        .to_string();
    run_job(&emulator, &nightly, "drift");

    let aws = emulator.aws().await;
    let clusters = aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id(&cache_id)
        .send()
        .await
        .unwrap();
    assert_eq!(clusters.cache_clusters().len(), 1);
    let stored = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let stored: serde_json::Value =
        serde_json::from_slice(&stored.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(stored["resources"]["cache"]["id"], cache_id.as_str());
    for ws in [&pr, &merge, &nightly] {
        no_local_state(ws);
    }
    let down = run(stackctl(&emulator.endpoint, nightly.dir.path())
        .env("STACKCTL_STATE", &state)
        .args(["down", "-f", "stacks/elasticache-rds.yaml", "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(
        crate::common::code_of(
            aws.elasticache
                .describe_cache_clusters()
                .cache_cluster_id(&cache_id)
                .send()
                .await
        ),
        "CacheClusterNotFound"
    );
}

/// A run interrupted twice (the second interrupt exits at once, as a CI runner's SIGINT then
/// SIGTERM) releases its S3 lock before it exits: the next run need not wait for the lease.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_releases_its_lease_before_exiting() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_CREATE_SECONDS", "30")]);
    let s3 = create_bucket(&emulator).await;
    let ws = s3_workspace();
    let mut first = stackctl(&emulator.endpoint, ws.dir.path());
    first.args(["up", "-f", FILE, "--yes"]);
    let (child, rest) = spawn_until(first, &["web (ec2-instance): creating"]);
    wait_for_lock(&s3).await;
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    let interrupted = wait_output(child, rest);
    assert_eq!(interrupted.code, 130, "{}", interrupted.stderr);
    assert!(
        object(&s3, &format!("{KEY}.lock")).await.is_none(),
        "the lock was released before the exit"
    );
    let state = state_json(&s3).await;
    assert!(
        state["resources"].get("web").is_some(),
        "the state records the create in flight: {state}"
    );
}
