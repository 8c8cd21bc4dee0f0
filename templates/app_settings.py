"""Writes a service's settings file from its secret in Secrets Manager, at boot, with the
instance's role: the secret's value is never in the user data, the stack's state or its plan.

    app_settings.py --secret ID --region REGION --out FILE --kind rds|password [--set NAME=VALUE]...

--kind rds reads the JSON secret the database's credentials live in (host, port, username,
password, dbname) as DB_HOST, DB_PORT, DB_USER, DB_PASSWORD and DB_NAME. Its host is written there
once the database exists, minutes after the web server boots: the secret is read again every few
seconds until it has one. --kind password reads a secret holding a password (a plain string, or
JSON with a `password` key) as DBPASSWORD. --set adds settings that are not secret.

FILE is written for systemd's EnvironmentFile=, readable by root only, replaced atomically.
Nothing secret is printed.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import boto3
import botocore.exceptions

RETRY_SECONDS = 5
RDS_FIELDS = {"host": "DB_HOST", "port": "DB_PORT", "username": "DB_USER", "password": "DB_PASSWORD", "dbname": "DB_NAME"}


def secret_settings(value, kind):
    """(settings, None), or (None, why the secret does not hold them yet)."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if kind == "password":
        if isinstance(parsed, dict):
            if "password" in parsed:
                return {"DBPASSWORD": str(parsed["password"])}, None
            return None, "the secret is JSON without a `password` key"
        return {"DBPASSWORD": value}, None
    if not isinstance(parsed, dict):
        return None, "the secret is not the JSON object of the database's credentials"
    missing = [field for field in RDS_FIELDS if parsed.get(field) in (None, "")]
    if missing:
        return None, "the secret does not hold the database's " + ", ".join(missing) + " yet"
    return {name: str(parsed[field]) for field, name in RDS_FIELDS.items()}, None


def quoted(value):
    """A value as systemd's EnvironmentFile reads it back unchanged."""
    if "\n" in value:
        raise SystemExit("a setting holds a line break, which an environment file cannot carry")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(path, settings):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".settings-")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as out:
            for name in sorted(settings):
                out.write(f"{name}={quoted(settings[name])}\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--kind", choices=["rds", "password"], required=True)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--timeout", type=float, default=0, help="give up after this many seconds (0: never)")
    args = parser.parse_args()
    fixed = {}
    for pair in args.set:
        name, _, value = pair.partition("=")
        if not name or not _:
            parser.error(f"--set {pair!r}: write NAME=VALUE")
        fixed[name] = value

    client = boto3.client("secretsmanager", region_name=args.region)
    started = time.monotonic()
    while True:
        try:
            value = client.get_secret_value(SecretId=args.secret)["SecretString"]
            found, waiting = secret_settings(value, args.kind)
            if found is not None:
                break
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            # Not there yet, or the role's permission not yet in effect: both pass.
            waiting = f"cannot read the secret yet ({type(error).__name__}: {getattr(error, 'response', {}).get('Error', {}).get('Code', error)})"
        if args.timeout and time.monotonic() - started > args.timeout:
            print(f"gave up after {args.timeout:g} s: {waiting}", file=sys.stderr)
            return 1
        print(f"{waiting}; reading it again in {RETRY_SECONDS} s", file=sys.stderr, flush=True)
        time.sleep(RETRY_SECONDS)
    write(args.out, {**fixed, **found})
    print(f"wrote {len(fixed) + len(found)} settings to {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
