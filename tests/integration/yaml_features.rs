//! Issue #10: a stack file is YAML as users know it. Anchors under `x-` keys, aliases and merge keys
//! shape what is created, checked through the AWS API after `up`, and gone after `down`.

use crate::common::{Emulator, Workspace, run, stackctl};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::Filter;

const FILE: &str = "stacks/anchors.yaml";

/// Windows line ends and a byte-order mark too: the file as some editors save it.
const STACK: &str = "\u{feff}stack: anchors-demo\r
region: us-east-1\r
x-team-tags: &team { team: payments, cost-center: \"42\" }\r
x-group: &group\r
  type: security-group\r
  vpc: ${vpc.id}\r
  tags: *team\r
resources:\r
  vpc: { type: vpc, name: demo-vpc }\r
  web_sg:\r
    <<: *group\r
    description: web tier\r
    ingress: [ { port: 8080, from: 0.0.0.0/0 } ]\r
  app_sg:\r
    <<: *group\r
    description: app tier\r
    ingress: [ { port: 9000, from: \"${web_sg.id}\" } ]\r
";

#[tokio::test(flavor = "multi_thread")]
async fn anchors_aliases_and_merge_keys_shape_what_is_created() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    ws.write(FILE, STACK);

    let up = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "--yes", "-f", FILE]));
    assert_eq!(up.code, 0, "{}", up.stderr);

    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("tag:stackctl:stack")
                .values("anchors-demo")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut seen: Vec<(String, i32, String, String)> = groups
        .security_groups()
        .iter()
        .map(|group| {
            let tag = |key: &str| {
                group
                    .tags()
                    .iter()
                    .find(|t| t.key() == Some(key))
                    .and_then(|t| t.value())
                    .unwrap_or_default()
                    .to_string()
            };
            let port = group.ip_permissions()[0].from_port().unwrap_or(-1);
            (
                group.description().unwrap_or_default().to_string(),
                port,
                tag("team"),
                tag("cost-center"),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("app tier".into(), 9000, "payments".into(), "42".into()),
            ("web tier".into(), 8080, "payments".into(), "42".into()),
        ]
    );
    let ids: Vec<String> = groups
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();

    let down = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "--yes", "-f", FILE]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    for id in ids {
        let gone = aws
            .ec2
            .describe_security_groups()
            .group_ids(&id)
            .send()
            .await
            .expect_err("the group is deleted");
        assert_eq!(gone.code(), Some("InvalidGroup.NotFound"), "{id}");
    }
}
