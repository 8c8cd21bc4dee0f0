//! An instance's `image:` that names an SSM parameter AWS does not have stops the plan, located in
//! the file, before anything is created or replaced: not after the resources the instance waits
//! for. Checked through the AWS API.

use crate::common::{
    AL2023_PARAMETER, Emulator, Workspace, ami_of_parameter, groups_named, instances_of, run,
    stackctl,
};
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

/// `plan` and `up` of the file as it is now are both refused, pointing at the missing parameter.
fn assert_refused(emulator: &Emulator, ws: &Workspace) {
    for command in [&["plan"][..], &["up", "--yes"][..]] {
        let mut args = command.to_vec();
        args.extend(["-f", FILE]);
        let refused = run(stackctl(&emulator.endpoint, ws.dir.path()).args(&args));
        assert_eq!(
            refused.code, 1,
            "{args:?}: {}{}",
            refused.stdout, refused.stderr
        );
        for expected in [
            "`web`: the SSM parameter /aws/service/ami-amazon-linux-latest/al2099-typo does not exist in us-east-1",
            AT,
            "nothing was changed",
        ] {
            assert!(refused.stderr.contains(expected), "{}", refused.stderr);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_parameter_aws_does_not_have_fails_the_plan_before_any_change() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    ws.write(FILE, &stack(MISSING));
    assert_refused(&emulator, &ws);
    assert_eq!(
        emulator.changes(),
        Vec::<String>::new(),
        "nothing was changed"
    );
    assert_eq!(groups_named(&aws, "images-demo-web-sg").await, vec![]);

    // The alias stands for a parameter AWS has: the instance runs the AMI it names.
    ws.write(FILE, &stack("al2023"));
    let up = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "--yes", "-f", FILE]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    let ami = ami_of_parameter(&aws, AL2023_PARAMETER).await;
    let instances = instances_of(&aws, "images-demo").await;
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert_eq!(instances[0].image_id(), Some(ami.as_str()));

    // A new image replaces the instance: one AWS does not have is refused before the replacement
    // launches or deletes anything, and the running instance is left as it was.
    ws.write(FILE, &stack(MISSING));
    emulator.reset_requests();
    assert_refused(&emulator, &ws);
    assert_eq!(
        emulator.changes(),
        Vec::<String>::new(),
        "nothing was changed"
    );
    let after = instances_of(&aws, "images-demo").await;
    assert_eq!(
        after.iter().map(|i| i.instance_id()).collect::<Vec<_>>(),
        vec![instances[0].instance_id()],
        "the instance is left running"
    );

    ws.write(FILE, &stack("al2023"));
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
