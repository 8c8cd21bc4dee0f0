//! Issues #2 and #4: every bad stack file and every bad state file is refused with a message naming
//! what is wrong and where (file:line:column for stack files) and what to do, exit code 1, not a
//! single AWS call, and the state file byte-for-byte unchanged.

use crate::common::{CallCounter, Workspace, project_root, run, stackctl};

const STATE: &str = "{\n  \"format_version\": 1,\n  \"stack\": \"bad-demo\",\n  \"region\": \"us-east-1\",\n  \"lineage\": \"x\",\n  \"serial\": 7,\n  \"resources\": {}\n}\n";

/// Where a refusal must point.
#[derive(Clone, Copy, Debug)]
enum At<'a> {
    /// A line and column: `file:line:column`.
    Line(&'a str),
    /// The whole file, named in the message (an empty, binary or oversized file).
    Whole(&'a str),
}

/// Runs stackctl and checks it refused: exit 1, the message, the location, a help line, no
/// connection to AWS, and the state file unchanged.
fn assert_refused(
    case: &str,
    ws: &Workspace,
    counter: &CallCounter,
    args: &[&str],
    message: &str,
    location: At,
    state: &str,
) {
    let before = std::fs::read(ws.path(state)).unwrap();
    let result = run(stackctl(&counter.endpoint, ws.dir.path()).args(args));
    assert_eq!(
        result.code, 1,
        "[{case}] {args:?} must exit 1:\n{}",
        result.stderr
    );
    assert!(
        result.stderr.contains(message),
        "[{case}] expected `{message}` in:\n{}",
        result.stderr
    );
    let located = match location {
        // A diagnostic's own `┌─ path:line:column` line, ending exactly there: a file name in a
        // message, or `:4:100` for `:4:10`, does not count.
        At::Line(location) => result.stderr.lines().any(|line| {
            line.trim_start().starts_with("┌─ ")
                && (line.ends_with(&format!("/{location}"))
                    || line.ends_with(&format!(" {location}")))
        }),
        At::Whole(file) => result.stderr.contains(file),
    };
    assert!(
        located,
        "[{case}] expected a diagnostic located at {location:?} in:\n{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("help:"),
        "[{case}] expected a help line in:\n{}",
        result.stderr
    );
    assert_eq!(counter.calls(), 0, "[{case}] no AWS call may be made");
    assert_eq!(
        std::fs::read(ws.path(state)).unwrap(),
        before,
        "[{case}] the state must be byte-for-byte unchanged"
    );
}

/// The corpus in tests/bad-input/: each file's first line says what the error must say and where,
/// as `# expect: <message> | at: <line>:<column>` (or `at: <other file>:<line>:<column>`).
#[test]
fn every_file_of_the_bad_input_corpus_is_refused_before_any_aws_call() {
    let counter = CallCounter::start();
    let mut files: Vec<_> = std::fs::read_dir(project_root().join("tests/bad-input"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus holds at least 40 malformed stack files"
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let header = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{name}: no `# expect:` line"));
        let (message, at) = header
            .split_once(" | at: ")
            .unwrap_or_else(|| panic!("{name}: no `| at:` part"));
        let location = if at.matches(':').count() == 2 {
            at.to_string()
        } else {
            format!("{name}:{at}")
        };
        let ws = Workspace::new();
        let file = format!("stacks/{name}");
        ws.write(&file, &text);
        let state = format!("stacks/.stackctl/{name}.state.json");
        ws.write(&state, STATE);
        for command in [&["validate"][..], &["plan"][..], &["up", "--yes"][..]] {
            let mut args = command.to_vec();
            args.extend(["-f", file.as_str()]);
            assert_refused(
                &name,
                &ws,
                &counter,
                &args,
                message,
                At::Line(&location),
                &state,
            );
        }
    }
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    ws.write(
        "stacks/stack.yaml",
        "stack: bad-demo\nregion: us-east-1\ncolour: red\nresources:\n  vpc: { type: vpc }\n  sg:\n    type: security-group\n    vpc: ${vpc.idd}\n    ingress: [ { port: 99999, from: 1.2.3.4/99 } ]\n",
    );
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
    let json = run(stackctl(&counter.endpoint, ws.dir.path()).args([
        "validate",
        "-f",
        "stacks/stack.yaml",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["diagnostics"].as_array().unwrap().len(), 4);
    assert_eq!(json["diagnostics"][0]["line"], 3);
    assert_eq!(counter.calls(), 0);
}

#[test]
fn empty_huge_binary_and_missing_files_are_refused_clearly() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    let state = "stacks/.stackctl/stack.yaml.state.json";
    ws.write(state, STATE);
    let up = ["up", "--yes", "-f", "stacks/stack.yaml"];
    ws.write("stacks/stack.yaml", "");
    assert_refused(
        "empty file",
        &ws,
        &counter,
        &up,
        "stacks/stack.yaml is empty",
        At::Whole("stacks/stack.yaml"),
        state,
    );
    ws.write("stacks/stack.yaml", "   \n\n# only a comment\n");
    assert_refused(
        "blank file",
        &ws,
        &counter,
        &up,
        "the stack file is empty",
        At::Line("stacks/stack.yaml:1:1"),
        state,
    );
    std::fs::write(ws.path("stacks/stack.yaml"), [0xff, 0xfe, 0x00, 0x13, 0x37]).unwrap();
    assert_refused(
        "binary garbage",
        &ws,
        &counter,
        &up,
        "not UTF-8 text",
        At::Whole("stacks/stack.yaml"),
        state,
    );
    std::fs::write(ws.path("stacks/stack.yaml"), b"stack: a\x00\x01\x02\n").unwrap();
    assert_refused(
        "NUL bytes",
        &ws,
        &counter,
        &up,
        "holds NUL bytes",
        At::Whole("stacks/stack.yaml"),
        state,
    );
    let huge = format!(
        "stack: big\nresources:\n{}",
        "  # padding padding padding padding padding padding padding padding\n".repeat(20_000)
    );
    ws.write("stacks/stack.yaml", &huge);
    assert_refused(
        "huge file",
        &ws,
        &counter,
        &up,
        "the limit is 1048576",
        At::Whole("stacks/stack.yaml"),
        state,
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

/// Issue #4: malformed state files stop every command that reads state, before any AWS call, and
/// are left exactly as they were.
#[test]
fn malformed_state_files_are_refused_and_left_untouched() {
    let counter = CallCounter::start();
    let cases: &[(&str, &str, &str)] = &[
        (
            "truncated JSON",
            "{\n  \"format_version\": 1,\n  \"stack\": \"web-de",
            "not valid JSON at line 3",
        ),
        ("not JSON at all", "\u{1}\u{2}garbage", "not valid JSON"),
        (
            "a saved plan",
            "{\"kind\": \"stackctl-plan\", \"format_version\": 1}",
            "is not a stackctl state: it is a saved plan",
        ),
        (
            "unknown format_version",
            "{\"format_version\": 99, \"stack\": \"web-demo\"}",
            "format_version 99",
        ),
        (
            "no format_version",
            "{\"stack\": \"web-demo\"}",
            "is not a stackctl state: it has no `format_version`",
        ),
        (
            "another stack's state",
            "{\"format_version\": 1, \"stack\": \"other\", \"region\": \"us-east-1\", \"lineage\": \"x\", \"serial\": 1, \"resources\": {}}",
            "belongs to stack `other`, not `web-demo`",
        ),
        (
            "wrong field types",
            "{\"format_version\": 1, \"stack\": \"web-demo\", \"region\": 5, \"lineage\": \"x\", \"serial\": 1, \"resources\": {}}",
            "is not a stackctl state: invalid type: integer `5`",
        ),
    ];
    for (case, content, message) in cases {
        let ws = Workspace::new();
        let state = "stacks/.stackctl/web.yaml.state.json";
        ws.write(state, content);
        for command in [
            &["plan"][..],
            &["up", "--yes"][..],
            &["down", "--yes"][..],
            &["outputs"][..],
        ] {
            let mut args = command.to_vec();
            args.extend(["-f", "stacks/web.yaml"]);
            assert_refused(
                case,
                &ws,
                &counter,
                &args,
                message,
                At::Whole("state file stacks/.stackctl/web.yaml.state.json"),
                state,
            );
        }
    }
}

/// Issue #10: a `--var` value of the wrong type is exactly one error, naming the variable, its type
/// and the value, at the declaration; never also "unknown variable" where it is used.
#[test]
fn a_bad_var_value_is_one_error() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    ws.write(
        "stacks/vars.yaml",
        "stack: vars\nregion: us-east-1\nvariables:\n  port: { type: number, default: 8080 }\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  sg:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress: [ { port: \"${var.port}\", from: 0.0.0.0/0 } ]\n",
    );
    let result = run(stackctl(&counter.endpoint, ws.dir.path()).args([
        "plan",
        "-f",
        "stacks/vars.yaml",
        "--var",
        "port=abc",
    ]));
    assert_eq!(result.code, 1);
    assert_eq!(
        result.stderr.matches("error:").count(),
        2,
        "one problem and the summary:\n{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("--var port: `abc` is not a whole number"),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("vars.yaml:4:3"), "{}", result.stderr);
    assert!(
        result.stderr.contains("variable `port` is a number"),
        "{}",
        result.stderr
    );
    assert_eq!(counter.calls(), 0);
}

/// Issue #10: a byte-order mark is skipped and CRLF line ends work, with errors still located at the
/// line and column a user sees in the editor.
#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_read_as_yaml() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    let body = "stack: vt\r\nregion: us-east-1\r\nresources:\r\n  vpc: { type: vpc, name: demo-vpc }\r\n  sg:\r\n    type: security-group\r\n    vpc: ${vpc.id}\r\n";
    ws.write("stacks/bom.yaml", &format!("\u{feff}{body}"));
    let valid =
        run(stackctl(&counter.endpoint, ws.dir.path()).args(["validate", "-f", "stacks/bom.yaml"]));
    assert_eq!(valid.code, 0, "{}", valid.stderr);
    ws.write(
        "stacks/bom.yaml",
        &format!("\u{feff}{}", body.replace("${vpc.id}", "${vpc.idd}")),
    );
    let invalid =
        run(stackctl(&counter.endpoint, ws.dir.path()).args(["validate", "-f", "stacks/bom.yaml"]));
    assert_eq!(invalid.code, 1);
    assert!(
        invalid.stderr.contains("stacks/bom.yaml:7:10"),
        "{}",
        invalid.stderr
    );
    assert!(
        !invalid.stderr.contains("unknown top-level field"),
        "{}",
        invalid.stderr
    );
    assert_eq!(counter.calls(), 0);
}
