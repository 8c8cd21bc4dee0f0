//! An instance's `image:` that names an SSM parameter AWS does not have stops the plan, located in
//! the file, before anything is created: not after the resources the instance waits for. Checked
//! through the AWS API.

use crate::common::{Emulator, Workspace, run, stackctl};
use aws_sdk_ec2::error::ProvideErrorMetadata;

const FILE: &str = "stacks/images.yaml";

fn stack(image: &str) -> String {
    format!(
        "stack: images-demo
region: us-east-1
resources:
  vpc: {{ type: vpc, name: demo-vpc }}
  web_sg:
    type: security-group
    description: web
    vpc: ${{vpc.id}}
  web:
    type: ec2-instance
    instance_type: t3.micro
    image: \"{image}\"
    subnet: ${{vpc.public_subnets[0]}}
    security_groups: [\"${{web_sg.id}}\"]
"
    )
}

/// The location of the `image` value in [`stack`].
const AT: &str = "stacks/images.yaml:12:13";
const MISSING: &str = "ssm:/aws/service/ami-amazon-linux-latest/al2099-typo";

#[tokio::test(flavor = "multi_thread")]
async fn an_image_parameter_aws_does_not_have_fails_the_plan_before_any_change() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    ws.write(FILE, &stack(MISSING));
    for command in [&["plan"][..], &["up", "--yes"][..]] {
        let mut args = command.to_vec();
        args.extend(["-f", FILE]);
        let refused = run(stackctl(&emulator.endpoint, ws.dir.path()).args(&args));
        assert_eq!(refused.code, 1, "{args:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains(
                "`web`: the SSM parameter /aws/service/ami-amazon-linux-latest/al2099-typo does not exist in us-east-1"
            ),
            "{}",
            refused.stderr
        );
        assert!(refused.stderr.contains(AT), "{}", refused.stderr);
        assert!(
            refused.stderr.contains("nothing was changed"),
            "{}",
            refused.stderr
        );
    }
    assert_eq!(
        emulator.changes(),
        Vec::<String>::new(),
        "nothing was changed"
    );
    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("images-demo-web-sg")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(groups.security_groups().is_empty(), "{groups:?}");

    // The alias stands for a parameter AWS has: the instance runs the AMI it names.
    ws.write(FILE, &stack("al2023"));
    let up = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "--yes", "-f", FILE]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    let ami = aws
        .ssm
        .get_parameter()
        .name("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
        .send()
        .await
        .unwrap()
        .parameter()
        .and_then(|p| p.value())
        .unwrap()
        .to_string();
    let running = aws
        .ec2
        .describe_instances()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:stackctl:resource")
                .values("web")
                .build(),
        )
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("instance-state-name")
                .values("running")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let instances: Vec<_> = running
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    assert_eq!(instances.len(), 1, "{running:?}");
    assert_eq!(instances[0].image_id(), Some(ami.as_str()));

    let down = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "--yes", "-f", FILE]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    // The group, by id: AWS answers InvalidGroup.NotFound once it is deleted.
    let gone = aws
        .ec2
        .describe_security_groups()
        .group_ids(instances[0].security_groups()[0].group_id().unwrap())
        .send()
        .await
        .expect_err("the group is deleted");
    assert_eq!(gone.code(), Some("InvalidGroup.NotFound"), "{gone:?}");
}
