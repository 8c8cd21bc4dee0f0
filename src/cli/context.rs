//! Setup shared by commands: loading the stack file, the region, connecting to AWS, consent.
//! Finding and locking the state is `state_access`.

use super::{Failure, GlobalArgs, Printer};
use crate::aws::{Aws, Connection};
use crate::diagnostics::Sources;
use crate::spec::Stack;
use crate::spec::variables::VarInputs;
use std::io::{BufRead, IsTerminal, Write};

/// Loads and validates the stack file, printing every problem found. Makes no AWS call.
pub fn load_stack(global: &GlobalArgs, printer: &Printer) -> Result<Stack, Failure> {
    let inputs = VarInputs::gather(&global.vars)
        .map_err(|e| Failure::new(e).help("variables are given as --var name=value"))?;
    let mut sources = Sources::default();
    match crate::spec::load::load(&global.file, &inputs, &mut sources) {
        Ok(stack) => Ok(stack),
        Err(diagnostics) => {
            if printer.json {
                printer.data(&sources.to_json(&diagnostics).to_string());
            }
            printer.stderr(&sources.render(&diagnostics, printer.color));
            let count = diagnostics.len();
            Err(Failure::new(format!(
                "{} is not valid: {count} problem{} found",
                global.file.display(),
                if count == 1 { "" } else { "s" }
            ))
            .help("fix the problems above; nothing was sent to AWS"))
        }
    }
}

/// Region: `--region`, then the stack file's `region:`, then the AWS configuration (AWS_REGION, profile).
pub async fn region(global: &GlobalArgs, stack_region: Option<&str>) -> Result<String, Failure> {
    if let Some(region) = global.region.as_deref().or(stack_region) {
        return Ok(region.to_string());
    }
    let mut provider = aws_config::meta::region::RegionProviderChain::default_provider();
    if let Some(profile) = &global.profile {
        provider = aws_config::meta::region::RegionProviderChain::first_try(
            aws_config::profile::ProfileFileRegionProvider::builder()
                .profile_name(profile)
                .build(),
        )
        .or_else(aws_config::meta::region::RegionProviderChain::default_provider());
    }
    provider
        .region()
        .await
        .map(|r| r.to_string())
        .ok_or_else(|| {
            Failure::new("no AWS region")
                .help("add `region:` to the stack file, pass --region, or set AWS_REGION")
        })
}

pub async fn connect(global: &GlobalArgs, region: &str) -> Result<Aws, Failure> {
    // Building the clients (configuration files, credentials, root certificates) sends nothing,
    // so it is done while the endpoint is probed.
    let connection = Connection {
        region: region.to_string(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let (answered, aws) = tokio::join!(check_endpoint(global), Aws::connect(&connection));
    answered?;
    Ok(aws)
}

/// How long an explicit endpoint may take to accept a connection.
const ENDPOINT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// An explicit endpoint (`--endpoint-url` or `AWS_ENDPOINT_URL`) where nothing listens fails in
/// seconds, naming it, instead of after every retry the SDK would make; an endpoint that answers,
/// however slowly, still gets those retries.
pub(super) async fn check_endpoint(global: &GlobalArgs) -> Result<(), Failure> {
    // Once per process: the S3 state client and the service clients share the endpoint.
    static ANSWERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if ANSWERED.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    probe_endpoint(global).await?;
    ANSWERED.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

async fn probe_endpoint(global: &GlobalArgs) -> Result<(), Failure> {
    let from_env = std::env::var("AWS_ENDPOINT_URL").ok();
    let Some(endpoint) = global.endpoint_url.clone().or(from_env) else {
        return Ok(());
    };
    let endpoint = endpoint.trim().to_string();
    if endpoint.is_empty() {
        return Err(Failure::new("AWS_ENDPOINT_URL is set but empty").help(
            "unset it to use AWS, or give the endpoint's URL, such as http://127.0.0.1:4566",
        ));
    }
    let not_a_url = |why: String| {
        Failure::new(format!("the AWS endpoint `{endpoint}` is not a URL: {why}"))
            .help("write it as http://host:port or https://host")
    };
    let parsed = url::Url::parse(&endpoint).map_err(|e| not_a_url(e.to_string()))?;
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return Err(not_a_url("it names no host".into()));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let unreachable = |why: String| {
        Failure::new(format!("cannot reach the AWS endpoint {endpoint}: {why}")).help(
            "start what should answer there, or correct --endpoint-url / AWS_ENDPOINT_URL; nothing was changed",
        )
    };
    let mut stream = match tokio::time::timeout(
        ENDPOINT_CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(unreachable(e.to_string())),
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {} s",
                ENDPOINT_CONNECT_TIMEOUT.as_secs()
            )));
        }
    };
    // A server that accepts connections but never answers would hold every request for the SDK's
    // whole timeout, retries included: ask once, and take any reaction (an HTTP answer, a TLS
    // alert, a close) as a live endpoint.
    let answered = tokio::time::timeout(ENDPOINT_CONNECT_TIMEOUT, async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = format!("HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        if stream.write_all(request.as_bytes()).await.is_ok() {
            let mut byte = [0u8; 1];
            let _ = stream.read(&mut byte).await;
        }
    })
    .await;
    match answered {
        Ok(()) => Ok(()),
        Err(_) => Err(unreachable(format!(
            "it accepts connections but does not answer within {} s",
            ENDPOINT_CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Refuses to change infrastructure without a yes: `--yes`, or typing `yes` at a terminal.
pub fn require_consent_possible(global: &GlobalArgs, command: &str) -> Result<(), Failure> {
    if global.yes || std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(Failure::new(format!("`stackctl {command}` changes infrastructure and needs confirmation, but stdin is not a terminal"))
        .help(format!("in CI and scripts, pass --yes: `stackctl {command} --yes`")))
}

/// Asks on the terminal; true only for `yes`.
pub fn confirm(global: &GlobalArgs, question: &str) -> bool {
    if global.yes {
        return true;
    }
    {
        // Not held while waiting for the answer: an interrupt must be able to write its message.
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question}\n  Only 'yes' will be accepted: ");
        let _ = err.flush();
    }
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    answer.trim() == "yes"
}
