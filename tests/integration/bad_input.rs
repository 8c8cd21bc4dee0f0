//! Issue #2: every class of bad stack file is refused with a message naming file:line:column and what
//! to do, exit code 1, not a single AWS call, and the state file byte-for-byte unchanged.

use crate::common::{CallCounter, Workspace, run, stackctl};

struct Case {
    name: &'static str,
    yaml: &'static str,
    message: &'static str,
    location: &'static str,
}

const HEAD: &str = "stack: bad-demo\nregion: us-east-1\n";

const CASES: &[Case] = &[
    Case {
        name: "yaml syntax",
        yaml: "resources:\n  vpc: { type: vpc\n",
        message: "YAML syntax error",
        location: "stack.yaml:4:18",
    },
    Case {
        name: "unknown top-level field",
        yaml: "resource:\n  vpc: { type: vpc }\n",
        message: "unknown top-level field `resource`",
        location: "stack.yaml:3:1",
    },
    Case {
        name: "unknown resource field",
        yaml: "resources:\n  vpc: { type: vpc }\n  sg:\n    type: security-group\n    vpc: ${vpc.id}\n    ingres: []\n",
        message: "unknown field `ingres` in security-group `sg`",
        location: "stack.yaml:8:5",
    },
    Case {
        name: "unknown resource type",
        yaml: "resources:\n  db:\n    type: rds-instanse\n",
        message: "unknown resource type `rds-instanse`",
        location: "stack.yaml:5:11",
    },
    Case {
        name: "missing required field",
        yaml: "resources:\n  sg:\n    type: security-group\n",
        message: "security-group `sg` is missing required field `vpc`",
        location: "stack.yaml:4:3",
    },
    Case {
        name: "wrong value type",
        yaml: "resources:\n  vpc: { type: vpc }\n  sg:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress: { port: 80, from: 0.0.0.0/0 }\n",
        message: "`ingress` must be a list of mappings, found a mapping",
        location: "stack.yaml:8:14",
    },
    Case {
        name: "reference to unknown resource",
        yaml: "resources:\n  sg:\n    type: security-group\n    vpc: ${network.id}\n",
        message: "`sg` refers to unknown resource `network`",
        location: "stack.yaml:6:10",
    },
    Case {
        name: "reference to unknown variable",
        yaml: "resources:\n  vpc:\n    type: vpc\n    name: ${var.vpc_nam}\n",
        message: "unknown variable `vpc_nam`",
        location: "stack.yaml:6:11",
    },
    Case {
        name: "reference to unknown attribute",
        yaml: "resources:\n  vpc: { type: vpc }\n  sg:\n    type: security-group\n    vpc: ${vpc.vpc_id}\n",
        message: "vpc `vpc` has no attribute `vpc_id`",
        location: "stack.yaml:7:10",
    },
    Case {
        name: "invalid cidr",
        yaml: "resources:\n  vpc: { type: vpc }\n  sg:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress:\n      - { port: 80, from: 10.0.0.256/8 }\n",
        message: "`10.0.0.256/8` is neither a CIDR block nor a security group",
        location: "stack.yaml:9:27",
    },
    Case {
        name: "invalid port",
        yaml: "resources:\n  vpc: { type: vpc }\n  sg:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress:\n      - { port: 70000, from: 0.0.0.0/0 }\n",
        message: "`port` is 70000, outside 0 to 65535",
        location: "stack.yaml:9:17",
    },
    Case {
        name: "name AWS rejects",
        yaml: "resources:\n  vpc: { type: vpc }\n  sg:\n    type: security-group\n    name: sg-web\n    vpc: ${vpc.id}\n",
        message: "security group names cannot start with `sg-`",
        location: "stack.yaml:7:11",
    },
    Case {
        name: "name too long",
        yaml: "resources:\n  role:\n    type: iam-role\n    assumed_by: ec2.amazonaws.com\n    name: a-role-name-that-is-far-too-long-for-iam-because-iam-allows-sixty-four\n",
        message: "IAM role names are 1 to 64 characters",
        location: "stack.yaml:7:11",
    },
    Case {
        name: "dependency cycle",
        yaml: "resources:\n  vpc: { type: vpc }\n  a:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress: [ { port: 1, from: \"${b.id}\" } ]\n  b:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress: [ { port: 1, from: \"${a.id}\" } ]\n",
        message: "dependency cycle: a -> b -> a",
        location: "stack.yaml:",
    },
    Case {
        name: "duplicate key",
        yaml: "resources:\n  vpc: { type: vpc }\n  vpc: { type: vpc }\n",
        message: "duplicate key `vpc`",
        location: "stack.yaml:5:3",
    },
    Case {
        name: "variable without value",
        yaml: "variables:\n  vpc_name: { type: string }\nresources:\n  vpc: { type: vpc, name: \"${var.vpc_name}\" }\n",
        message: "variable `vpc_name` has no value",
        location: "stack.yaml:4:3",
    },
    Case {
        name: "wrong enum value",
        yaml: "resources:\n  vpc: { type: vpc }\n  sg:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress: [ { protocol: tpc, port: 1, from: 0.0.0.0/0 } ]\n",
        message: "`tpc` is not a valid `protocol`",
        location: "stack.yaml:8:28",
    },
    Case {
        name: "list attribute used as a single value",
        yaml: "resources:\n  vpc: { type: vpc }\n  web:\n    type: ec2-instance\n    instance_type: t3.small\n    image: al2023\n    subnet: ${vpc.public_subnets}\n",
        message: "`vpc.public_subnets` is a list and cannot be used as a single value here",
        location: "stack.yaml:9:13",
    },
    Case {
        name: "missing user data file",
        yaml: "resources:\n  vpc: { type: vpc }\n  web:\n    type: ec2-instance\n    instance_type: t3.small\n    image: al2023\n    subnet: ${vpc.public_subnets[0]}\n    user_data: { file: nope.sh }\n",
        message: "nope.sh not found",
        location: "stack.yaml:10:24",
    },
];

const STATE: &str = "{\n  \"format_version\": 1,\n  \"stack\": \"bad-demo\",\n  \"region\": \"us-east-1\",\n  \"lineage\": \"x\",\n  \"serial\": 7,\n  \"resources\": {}\n}\n";

fn assert_refused(
    case_name: &str,
    ws: &Workspace,
    counter: &CallCounter,
    args: &[&str],
    message: &str,
    location: &str,
) {
    let before = ws.read("stacks/.stackctl/stack.state.json");
    let result = run(stackctl(&counter.endpoint, ws.dir.path()).args(args));
    assert_eq!(
        result.code, 1,
        "[{case_name}] {args:?} must exit 1:\n{}",
        result.stderr
    );
    assert!(
        result.stderr.contains(message),
        "[{case_name}] expected `{message}` in:\n{}",
        result.stderr
    );
    assert!(
        result.stderr.contains(location),
        "[{case_name}] expected location `{location}` in:\n{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("help:"),
        "[{case_name}] expected a help line in:\n{}",
        result.stderr
    );
    assert_eq!(counter.calls(), 0, "[{case_name}] no AWS call may be made");
    assert_eq!(
        ws.read("stacks/.stackctl/stack.state.json"),
        before,
        "[{case_name}] the state must be unchanged"
    );
}

#[test]
fn every_class_of_bad_stack_file_is_refused_before_any_aws_call() {
    let counter = CallCounter::start();
    for case in CASES {
        let ws = Workspace::new();
        ws.write("stacks/stack.yaml", &format!("{HEAD}{}", case.yaml));
        ws.write("stacks/.stackctl/stack.state.json", STATE);
        for command in [&["validate"][..], &["plan"][..], &["up", "--yes"][..]] {
            let mut args = command.to_vec();
            args.extend(["-f", "stacks/stack.yaml"]);
            assert_refused(case.name, &ws, &counter, &args, case.message, case.location);
        }
    }
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    ws.write(
        "stacks/stack.yaml",
        &format!("{HEAD}colour: red\nresources:\n  vpc: {{ type: vpc }}\n  sg:\n    type: security-group\n    vpc: ${{vpc.idd}}\n    ingress: [ {{ port: 99999, from: 1.2.3.4/99 }} ]\n"),
    );
    ws.write("stacks/.stackctl/stack.state.json", STATE);
    let result = run(stackctl(&counter.endpoint, ws.dir.path()).args([
        "validate",
        "-f",
        "stacks/stack.yaml",
    ]));
    assert_eq!(result.code, 1);
    for expected in [
        "unknown top-level field `colour`",
        "no attribute `idd`",
        "outside 0 to 65535",
        "neither a CIDR block",
    ] {
        assert!(
            result.stderr.contains(expected),
            "expected `{expected}` in:\n{}",
            result.stderr
        );
    }
    assert!(
        result.stderr.contains("4 problems found"),
        "{}",
        result.stderr
    );
    assert_eq!(counter.calls(), 0);
}

#[test]
fn unreadable_files_are_refused_clearly() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    ws.write("stacks/.stackctl/stack.state.json", STATE);
    ws.write("stacks/stack.yaml", "");
    assert_refused(
        "empty file",
        &ws,
        &counter,
        &["up", "--yes", "-f", "stacks/stack.yaml"],
        "stacks/stack.yaml is empty",
        "stack.yaml",
    );
    std::fs::write(ws.path("stacks/stack.yaml"), [0xff, 0xfe, 0x00, 0x13, 0x37]).unwrap();
    assert_refused(
        "binary garbage",
        &ws,
        &counter,
        &["up", "--yes", "-f", "stacks/stack.yaml"],
        "not UTF-8 text",
        "stack.yaml",
    );
    let missing =
        run(stackctl(&counter.endpoint, ws.dir.path()).args(["plan", "-f", "stacks/missing.yaml"]));
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("cannot read stack file stacks/missing.yaml"),
        "{}",
        missing.stderr
    );
    let bad_var = run(stackctl(&counter.endpoint, ws.dir.path()).args([
        "plan",
        "-f",
        "stacks/web.yaml",
        "--var",
        "nosuch=1",
    ]));
    assert_eq!(bad_var.code, 1);
    assert!(
        bad_var
            .stderr
            .contains("the stack declares no variable `nosuch`"),
        "{}",
        bad_var.stderr
    );
    let no_tty =
        run(stackctl(&counter.endpoint, ws.dir.path()).args(["up", "-f", "stacks/web.yaml"]));
    assert_eq!(no_tty.code, 1);
    assert!(no_tty.stderr.contains("pass --yes"), "{}", no_tty.stderr);
    assert_eq!(counter.calls(), 0);
}
