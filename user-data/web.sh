#!/bin/bash
# Boot script for the web server: installs the application and its systemd unit, then starts it.
# Rendered by stackctl: double-brace placeholders are filled from the stack file's user_data.vars.
set -euo pipefail

yum install -y python3 >/dev/null

install -d -m 0755 /opt/web
cat > /opt/web/app.py <<'STACKCTL_APP'
{{ templates.app }}
STACKCTL_APP

cat > /etc/systemd/system/web.service <<'STACKCTL_UNIT'
{{ templates.service }}
STACKCTL_UNIT

systemctl daemon-reload
systemctl enable --now web.service
echo "web service for stack {{ stack }} listening on port {{ app_port }}"
