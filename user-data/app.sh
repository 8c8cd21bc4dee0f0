#!/bin/bash
# Boot script of the web server: installs the {{ app }} service (templates/{{ app }}_app.py) in a
# Python virtual environment, and runs it under systemd on port {{ app_port }}. Rendered by stackctl:
# double-brace placeholders are filled from the stack file's user_data.vars.
#
# Secrets never pass through here: a first unit reads the secret ({{ secret }}) from Secrets
# Manager with the instance's role and writes the service's settings to a file only root can read,
# retrying until the database has written its address there; the service starts after it.
set -euo pipefail

app_dir=/opt/{{ app }}
settings_file=/etc/{{ app }}/settings.env

# Python 3.8 or later: AL2023 has 3.9; Amazon Linux 2 has 3.7, and 3.8 from amazon-linux-extras.
if command -v dnf >/dev/null; then
  dnf install -y python3 python3-pip >/dev/null
  python=python3
else
  amazon-linux-extras install -y python3.8 >/dev/null
  python=python3.8
fi

install -d -m 0755 "$app_dir"
# The service's own unprivileged user (systemd 219 on Amazon Linux 2 has no DynamicUser=).
id -u {{ app }} >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin {{ app }}
install -d -m 0700 "$(dirname "$settings_file")"
cat > "$app_dir/app.py" <<'STACKCTL_APP'
{{ templates.app }}
STACKCTL_APP
cat > "$app_dir/app_settings.py" <<'STACKCTL_SETTINGS'
{{ templates.settings }}
STACKCTL_SETTINGS
cat > "$app_dir/requirements.txt" <<'STACKCTL_REQUIREMENTS'
{{ templates.requirements }}
STACKCTL_REQUIREMENTS
{% if templates.dataset is defined %}
cat > "$app_dir/articles.csv" <<'STACKCTL_DATASET'
{{ templates.dataset }}
STACKCTL_DATASET
{% endif %}
"$python" -m venv "$app_dir/venv"
"$app_dir/venv/bin/pip" install --quiet --disable-pip-version-check -r "$app_dir/requirements.txt"

cat > /etc/systemd/system/{{ app }}-settings.service <<STACKCTL_UNIT
[Unit]
Description={{ app }} settings from Secrets Manager
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
# Waits for the database as long as it takes.
TimeoutStartSec=infinity
ExecStart=$app_dir/venv/bin/python $app_dir/app_settings.py --secret {{ secret }} --region {{ region }} --out $settings_file --kind {{ settings_kind }}{% if app == "articles" %} --set REDIS_HOST={{ redis_host }} --set REDIS_PORT={{ redis_port }} --set REDIS_TLS=false --set CACHE_TTL={{ cache_ttl }} --set DATASET=$app_dir/articles.csv{% else %} --set DBHOST={{ db_host }} --set DBPORT={{ db_port }} --set DBUSERNAME={{ db_username }}{% endif %} --set HOST=0.0.0.0 --set PORT={{ app_port }}
STACKCTL_UNIT

cat > /etc/systemd/system/{{ app }}.service <<STACKCTL_UNIT
[Unit]
Description={{ app }} service of stack {{ stack }}
Requires={{ app }}-settings.service
After={{ app }}-settings.service

[Service]
EnvironmentFile=$settings_file
ExecStart=$app_dir/venv/bin/python $app_dir/app.py
Restart=always
RestartSec=2
User={{ app }}
Group={{ app }}

[Install]
WantedBy=multi-user.target
STACKCTL_UNIT

systemctl daemon-reload
systemctl enable {{ app }}.service
# Not waited for: the settings unit waits for the database, which may take many minutes more.
systemctl start --no-block {{ app }}.service
echo "{{ app }} service for stack {{ stack }} starting on port {{ app_port }}"
