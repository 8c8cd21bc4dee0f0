//! Issue #13: the seed stacks' web servers boot their applications. What EC2 holds as user data is
//! the boot script stackctl rendered (compressed when larger than AWS's 16 KB): a shellcheck-clean
//! script that installs the application, its settings step and its systemd units, and that never
//! carries the secret it reads at boot.

use crate::common::{Emulator, Workspace, code_of, run, stackctl};
use aws_sdk_ec2::types::InstanceAttributeName;

async fn user_data_of(aws: &crate::common::Clients, name: &str) -> String {
    let instance = aws
        .ec2
        .describe_instances()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:Name")
                .values(name)
                .build(),
        )
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .reservations()[0]
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    let encoded = aws
        .ec2
        .describe_instance_attribute()
        .instance_id(instance)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap()
        .user_data
        .and_then(|v| v.value)
        .expect("the instance has user data");
    let bytes = aws_smithy_types::base64::decode(encoded).unwrap();
    stackctl::userdata::from_ec2(&bytes)
}

fn shellcheck(ws: &Workspace, name: &str, script: &str) {
    let path = ws.write(name, script);
    let checked = std::process::Command::new("shellcheck")
        .args(["--shell=bash", "--severity=style"])
        .arg(&path)
        .output()
        .expect("shellcheck is installed by tests/apps/install.sh (apt-get install shellcheck)");
    assert!(
        checked.status.success(),
        "{name} is not shellcheck-clean:\n{}",
        String::from_utf8_lossy(&checked.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_web_servers_boot_their_applications_without_secrets_in_user_data() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let ctl = || stackctl(&emulator.endpoint, ws.dir.path());
    for (file, name, app, secret_name) in [
        (
            "stacks/elasticache-rds.yaml",
            "cache-demo-web",
            "articles",
            "rds-secret-name",
        ),
        (
            "stacks/memorydb.yaml",
            "memorydb-demo-web",
            "customers",
            "memorydb-demo-app-password",
        ),
    ] {
        let up = run(ctl().args(["up", "-f", file, "--yes"]));
        assert_eq!(up.code, 0, "{}", up.stderr);
        let script = user_data_of(&aws, name).await;
        shellcheck(&ws, &format!("{app}-boot.sh"), &script);
        for expected in [
            format!("app_dir=/opt/{app}\n"),
            "cat > \"$app_dir/app.py\"".to_string(),
            format!("{app}-settings.service"),
            format!("Requires={app}-settings.service"),
            "EnvironmentFile=$settings_file".to_string(),
            format!("--secret {secret_name} "),
            format!("User={app}\n"),
            format!("useradd --system --no-create-home --shell /sbin/nologin {app}"),
            "systemctl start --no-block".to_string(),
        ] {
            assert!(
                script.contains(&expected),
                "{file}: no `{expected}` in\n{script}"
            );
        }
        // The secret's value is read at boot, never written into the user data.
        let value = aws
            .secrets
            .get_secret_value()
            .secret_id(secret_name)
            .send()
            .await
            .unwrap()
            .secret_string
            .unwrap();
        let password = serde_json::from_str::<serde_json::Value>(&value)
            .ok()
            .and_then(|v| v["password"].as_str().map(str::to_string))
            .unwrap_or(value);
        assert!(password.len() >= 16, "{password:?}");
        assert!(
            !script.contains(&password),
            "{file}: the password is in the user data"
        );
        let state = run(ctl().args(["state", "pull", "-f", file]));
        assert!(
            !state.stdout.contains(&password),
            "{file}: the password is in the state"
        );
        let down = run(ctl().args(["down", "-f", file, "--yes"]));
        assert_eq!(down.code, 0, "{}", down.stderr);
        let stack = name.trim_end_matches("-web");
        let role = format!("{stack}-web-role");
        let left = code_of(aws.iam.get_role().role_name(&role).send().await);
        assert_eq!(left, "NoSuchEntity", "{file}: {role}");
    }
}
