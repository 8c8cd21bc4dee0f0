//! Test support: a private emulator per test, a scratch copy of the project's stacks, the binary, and
//! AWS clients for checking what really exists.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const REGION: &str = "us-east-1";

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A moto-based emulator on a free port, stopped when dropped (and when the test process dies,
/// because it exits when its stdin closes).
pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    pub fn start() -> Emulator {
        Emulator::start_with_env(&[])
    }

    /// An emulator with settings such as `STACKCTL_EMULATOR_DELETE_SECONDS` (deletes that take time).
    pub fn start_with_env(env: &[(&str, &str)]) -> Emulator {
        let root = project_root();
        let python = std::env::var("STACKCTL_EMULATOR_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join("emulator/.venv/bin/python"));
        assert!(
            python.exists(),
            "emulator Python not found at {}: run `bash emulator/setup.sh` first",
            python.display()
        );
        let mut child = Command::new(python)
            .arg(root.join("emulator/server.py"))
            .args(["--port", "0", "--region", REGION, "--exit-with-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .envs(env.iter().copied())
            .spawn()
            .expect("start the emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the emulator endpoint");
        let endpoint = line.trim().to_string();
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "emulator printed {endpoint:?} instead of its endpoint"
        );
        Emulator { child, endpoint }
    }

    pub async fn aws(&self) -> Clients {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            // The emulator may be told to throttle and fail requests: the checks must get through.
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(10))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .load()
            .await;
        Clients {
            ec2: aws_sdk_ec2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            elasticache: aws_sdk_elasticache::Client::new(&config),
            rds: aws_sdk_rds::Client::new(&config),
            memorydb: aws_sdk_memorydb::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .force_path_style(true)
                    .build(),
            ),
        }
    }

    /// Forgets the requests received so far.
    pub fn reset_requests(&self) {
        use std::io::{Read, Write};
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the emulator");
        write!(stream, "POST /_stackctl/requests/reset HTTP/1.0\r\nHost: {address}\r\nContent-Length: 0\r\n\r\n").unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
    }

    /// The AWS requests received that change something: anything but `Describe*`, `Get*` and
    /// `List*`.
    pub fn changes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| {
                let action = r.split('.').nth(1).unwrap_or_default();
                !["Describe", "Get", "List"]
                    .iter()
                    .any(|read| action.starts_with(read))
            })
            .collect()
    }

    /// The AWS requests the emulator has received, as `Service.Action` strings. stackctl's probe of
    /// an explicit endpoint (is anything answering?) names no AWS action and is left out.
    pub fn requests(&self) -> Vec<String> {
        let body = http_get(&self.endpoint, "/_stackctl/requests");
        let items: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap_or_default();
        items
            .iter()
            .filter(|i| i["action"].as_str().is_some())
            .map(|i| {
                format!(
                    "{}.{}",
                    i["service"].as_str().unwrap_or("?"),
                    i["action"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }

    /// How many AWS round trips, one after another, the requests since the last reset waited
    /// for: the longest chain of requests each started after the one before it had finished.
    /// Meaningful with `STACKCTL_EMULATOR_LATENCY_SECONDS`, where every request takes that long.
    pub fn rounds(&self) -> usize {
        let body = http_get(&self.endpoint, "/_stackctl/requests");
        let items: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap_or_default();
        let mut spans: Vec<(f64, f64)> = items
            .iter()
            .filter(|i| i["service"].as_str().is_some())
            .filter_map(|i| Some((i["started"].as_f64()?, i["finished"].as_f64()?)))
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut longest: Vec<usize> = Vec::with_capacity(spans.len());
        for (i, (start, _)) in spans.iter().enumerate() {
            let before = (0..i)
                .filter(|&j| spans[j].1 <= *start)
                .map(|j| longest[j])
                .max()
                .unwrap_or(0);
            longest.push(before + 1);
        }
        longest.into_iter().max().unwrap_or(0)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(endpoint: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the emulator");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// `exists`, or the AWS error code a describe answered: a deleted resource is proven gone by the
/// code AWS gives for it (`CacheClusterNotFound`), never by any error (a dead endpoint errs too).
pub fn code_of<E: aws_sdk_ec2::error::ProvideErrorMetadata>(
    result: Result<impl Sized, E>,
) -> String {
    match result {
        Ok(_) => "exists".into(),
        Err(e) => e.code().unwrap_or("no code").to_string(),
    }
}

/// The instances tagged with `stack` that are not terminated (or terminating).
pub async fn instances_of(aws: &Clients, stack: &str) -> Vec<aws_sdk_ec2::types::Instance> {
    let filter = |name: &str, values: &[&str]| {
        values
            .iter()
            .fold(aws_sdk_ec2::types::Filter::builder().name(name), |f, v| {
                f.values(*v)
            })
            .build()
    };
    aws.ec2
        .describe_instances()
        .filters(filter("tag:stackctl:stack", &[stack]))
        .filters(filter(
            "instance-state-name",
            &["pending", "running", "stopping", "stopped"],
        ))
        .send()
        .await
        .unwrap()
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .cloned()
        .collect()
}

/// The AMI id the public SSM parameter `name` holds.
pub async fn ami_of_parameter(aws: &Clients, name: &str) -> String {
    aws.ssm
        .get_parameter()
        .name(name)
        .send()
        .await
        .unwrap()
        .parameter()
        .and_then(|p| p.value())
        .unwrap()
        .to_string()
}

/// The public SSM parameter the `al2023` image alias stands for.
pub const AL2023_PARAMETER: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/// The security groups named `name`.
pub async fn groups_named(aws: &Clients, name: &str) -> Vec<aws_sdk_ec2::types::SecurityGroup> {
    aws.ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(name)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .security_groups()
        .to_vec()
}

/// The ids of [`instances_of`] `stack`.
pub async fn live_instances(aws: &Clients, stack: &str) -> Vec<String> {
    instances_of(aws, stack)
        .await
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect()
}

pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub rds: aws_sdk_rds::Client,
    pub memorydb: aws_sdk_memorydb::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub s3: aws_sdk_s3::Client,
}

/// A scratch copy of `stacks/`, `user-data/` and `templates/`, so tests can edit stack files freely.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        for folder in ["stacks", "user-data", "templates"] {
            copy_dir(&project_root().join(folder), &dir.path().join(folder));
        }
        Workspace { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != ".stackctl" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The binary, with AWS pointed at `endpoint` and nothing taken from the developer's own AWS setup.
pub fn stackctl(endpoint: &str, cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stackctl"));
    command
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// `plan --detailed-exitcode` of `file`: exit 0 when AWS matches the file, 2 when changes remain.
pub fn detailed_plan(endpoint: &str, cwd: &Path, file: &str) -> Run {
    run(stackctl(endpoint, cwd).args(["plan", "-f", file, "--detailed-exitcode"]))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run stackctl");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}

/// A TCP listener standing in for AWS that only counts connections: proof that nothing was sent.
pub struct CallCounter {
    pub endpoint: String,
    count: Arc<AtomicUsize>,
}

impl CallCounter {
    pub fn start() -> CallCounter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        CallCounter { endpoint, count }
    }

    pub fn calls(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}
