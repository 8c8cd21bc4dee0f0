"""Tests of templates/articles_app.py and templates/customers_app.py against real services started
here, each on its own port in its own temporary directory: MariaDB (MySQL's protocol), a single
Redis node, and a three-primary Redis Cluster with TLS and an ACL user (what MemoryDB is).

Run by tests/apps/run.sh, which installs what they need. Prints one line per check; exits 1 when
any fails.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
PYTHON = sys.executable
DB_USER, DB_PASSWORD = "articles", "a-test-password-1"
APP_USER, APP_PASSWORD = "customers", "another-test-password-2"
ADMIN_PASSWORD = "cluster-admin-password-3"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # noqa: BLE001 - anything means "not yet"
            last = error
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout:g} s (last error: {last})")


def http(method: str, url: str, body: object | None = None, raw: bytes | None = None):
    """(status, parsed JSON body or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text) if text else None
        except json.JSONDecodeError:
            return error.code, text.decode(errors="replace")


class Processes:
    """Child processes, stopped however the tests end."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []

    def start(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        handle = open(log, "ab")
        child = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
        self.children.append(child)
        return child

    def stop(self, child: subprocess.Popen) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def stop_all(self) -> None:
        for child in reversed(self.children):
            self.stop(child)


def tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-3000:]
    except OSError:
        return ""


# MariaDB.

class MariaDB:
    def __init__(self, procs: Processes, work: Path) -> None:
        self.procs, self.dir = procs, work / "mariadb"
        self.data, self.socket, self.port = self.dir / "data", self.dir / "mysqld.sock", free_port()
        self.log = self.dir / "mariadb.log"
        self.dir.mkdir()
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            ["mariadb-install-db", *as_root, f"--datadir={self.data}", "--auth-root-authentication-method=socket",
             "--skip-test-db"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        self.start()
        self.sql(
            f"CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';"
            f" GRANT ALL PRIVILEGES ON covid.* TO '{DB_USER}'@'127.0.0.1';"
        )

    def start(self) -> None:
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        self.process = self.procs.start(
            ["mariadbd", "--no-defaults", *as_root, f"--datadir={self.data}", f"--socket={self.socket}",
             f"--port={self.port}", "--bind-address=127.0.0.1", f"--pid-file={self.dir / 'mysqld.pid'}",
             "--skip-log-bin", "--innodb-buffer-pool-size=32M"],
            self.log,
        )
        wait_until("MariaDB accepting connections", lambda: self.sql("SELECT 1", check=False) == 0, 60)

    def stop(self) -> None:
        self.procs.stop(self.process)

    def sql(self, statement: str, check: bool = True) -> int:
        result = subprocess.run(
            ["mariadb", f"--socket={self.socket}", "-uroot", "-e", statement],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{statement}: {result.stderr.decode()}\n{tail(self.log)}")
        return result.returncode


# Redis.

def redis_cli(port: int, *args: str, tls: Path | None = None, user: str = "default", password: str | None = None):
    command = ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--no-auth-warning"]
    if tls:
        command += ["--tls", "--cacert", str(tls / "ca.crt")]
    if password:
        command += ["--user", user, "--pass", password]
    return subprocess.run(command + list(args), capture_output=True, text=True, timeout=30)


def make_certificates(directory: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1, as MemoryDB's endpoints have (from a public CA)."""
    directory.mkdir()
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stackctl test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.crt")
    return directory


def single_redis(procs: Processes, work: Path) -> int:
    port = free_port()
    directory = work / f"redis-{port}"
    directory.mkdir()
    procs.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(directory)], directory / "redis.log")
    wait_until("Redis answering", lambda: redis_cli(port, "PING").stdout.strip() == "PONG")
    return port


def tls_cluster(procs: Processes, work: Path) -> tuple[list[int], Path]:
    """Three primaries, TLS only (no plain port), TLS on the cluster bus, the default user off, an
    admin user to form the cluster and the application's user limited to `customer:*` keys."""
    certs = make_certificates(work / "certs")
    ports = [free_port() for _ in range(3)]
    for port in ports:
        directory = work / f"cluster-{port}"
        directory.mkdir()
        (directory / "redis.conf").write_text("\n".join([
            "port 0", f"tls-port {port}", "bind 127.0.0.1",
            f"tls-cert-file {certs / 'server.crt'}", f"tls-key-file {certs / 'server.key'}",
            f"tls-ca-cert-file {certs / 'ca.crt'}", "tls-auth-clients no", "tls-cluster yes", "tls-replication yes",
            # The bus port too is chosen: by default it is the port plus 10,000, maybe taken.
            "cluster-enabled yes", f"cluster-port {free_port()}", f"cluster-config-file {directory / 'nodes.conf'}",
            "cluster-node-timeout 5000",
            f"dir {directory}", 'save ""', "appendonly no",
            "user default off",
            f"user admin on >{ADMIN_PASSWORD} ~* &* +@all",
            # The access string of stacks/memorydb.yaml's user.
            f"user {APP_USER} on >{APP_PASSWORD} ~customer:* &* +@all",
        ]) + "\n")
        procs.start(["redis-server", str(directory / "redis.conf")], directory / "redis.log")
    for port in ports:
        wait_until(f"cluster node {port} answering",
                   lambda p=port: redis_cli(p, "PING", tls=certs, user="admin", password=ADMIN_PASSWORD).stdout.strip() == "PONG")
    created = redis_cli(ports[0], "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "0",
                        "--cluster-yes", tls=certs, user="admin", password=ADMIN_PASSWORD)
    assert created.returncode == 0, created.stdout + created.stderr
    for port in ports:
        wait_until(f"cluster state ok on {port}", lambda p=port: "cluster_state:ok" in redis_cli(
            p, "CLUSTER", "INFO", tls=certs, user="admin", password=ADMIN_PASSWORD).stdout)
    return ports, certs


# The applications.

def start_app(procs: Processes, work: Path, name: str, env: dict[str, str]) -> tuple[str, Path]:
    port = free_port()
    log = work / f"{name}-{port}.log"
    environment = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env}
    procs.start([PYTHON, str(TEMPLATES / f"{name}.py")], log, env=environment)
    url = f"http://127.0.0.1:{port}"
    wait_until(f"{name} listening", lambda: http("GET", url + "/health")[0] in (200, 503), 30)
    return url, log


def check_articles(procs: Processes, work: Path) -> None:
    db = MariaDB(procs, work)
    redis_port = single_redis(procs, work)
    url, log = start_app(procs, work, "articles_app", {
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_port), "REDIS_TLS": "false",
        "DB_HOST": "127.0.0.1", "DB_PORT": str(db.port), "DB_USER": DB_USER, "DB_PASSWORD": DB_PASSWORD,
        "DB_NAME": "covid", "CACHE_TTL": "3",
    })
    wait_until("articles healthy", lambda: http("GET", url + "/health")[0] == 200, 60)
    status, body = http("GET", url + "/health")
    assert body == {"redis": "ok", "mysql": "ok"}, body

    # The dataset was loaded into covid.articles, once.
    rows = subprocess.run(["mariadb", f"--socket={db.socket}", "-uroot", "-N", "-e", "SELECT COUNT(*) FROM covid.articles"],
                          capture_output=True, text=True, check=True).stdout.strip()
    expected = sum(1 for _ in open(TEMPLATES / "articles.csv", encoding="utf-8")) - 1
    assert int(rows) == expected and expected >= 200, (rows, expected)

    status, first = http("GET", url + "/articles?place=Paris")
    assert status == 200 and first["records_in_cache"] is False and first["data"], (status, first)
    assert all(a["MatchedPlace"] == "Paris" for a in first["data"]), first["data"][:2]
    assert set(first["data"][0]) == {"OBJECTID", "SHA", "PossiblePlace", "Sentence", "MatchedPlace", "DOI", "Title",
                                     "Abstract", "PublishedDate", "Authors", "Journal", "Source", "License"}
    status, second = http("GET", url + "/articles?place=Paris")
    assert status == 200 and second == {**first, "records_in_cache": True}, second
    ttl = int(redis_cli(redis_port, "TTL", "articles:place:paris").stdout.strip())
    assert 0 < ttl <= 3, ttl
    # After the TTL, MySQL again.
    time.sleep(3.5)
    status, third = http("GET", url + "/articles?place=Paris")
    assert status == 200 and third["records_in_cache"] is False, third

    # An unknown place: 404, nothing cached. The place never reaches the SQL text.
    status, body = http("GET", url + "/articles?place=Atlantis")
    assert status == 404 and body == {"records_in_cache": False, "data": []}, (status, body)
    status, body = http("GET", url + "/articles?place=" + urllib.request.quote("x' OR '1'='1"))
    assert status == 404 and body["data"] == [], (status, body)
    assert redis_cli(redis_port, "EXISTS", "articles:place:atlantis").stdout.strip() == "0"
    status, body = http("GET", url + "/articles")
    assert status == 400, (status, body)

    # MySQL down: /health says so (503); the cached answer still comes from Redis.
    http("GET", url + "/articles?place=Tokyo")
    db.stop()
    status, body = http("GET", url + "/health")
    assert status == 503 and body == {"redis": "ok", "mysql": "unavailable"}, (status, body)
    status, body = http("GET", url + "/articles?place=Tokyo")
    assert status == 200 and body["records_in_cache"] is True, (status, body)
    status, body = http("GET", url + "/articles?place=London")
    assert status == 503, (status, body)
    db.start()
    wait_until("healthy again", lambda: http("GET", url + "/health")[0] == 200, 30)
    # Redis down: a miss, answered by MySQL; /health says which store is down, and nothing else.
    redis_cli(redis_port, "SHUTDOWN", "NOSAVE")
    status, body = http("GET", url + "/articles?place=Madrid")
    assert status == 200 and body["records_in_cache"] is False and body["data"], (status, body)
    status, body = http("GET", url + "/health")
    assert status == 503 and body == {"redis": "unavailable", "mysql": "ok"}, (status, body)
    # A restart finds the table full and does not load it twice.
    rows = subprocess.run(["mariadb", f"--socket={db.socket}", "-uroot", "-N", "-e", "SELECT COUNT(*) FROM covid.articles"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert int(rows) == expected, rows
    assert "Traceback" not in tail(log), tail(log)


def check_articles_waits_for_the_database(procs: Processes, work: Path) -> None:
    """The web server boots before RDS exists: the app serves at once and prepares the database once
    it answers."""
    redis_port = single_redis(procs, work)
    db_port = free_port()
    url, _ = start_app(procs, work, "articles_app", {
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_port), "DB_HOST": "127.0.0.1", "DB_PORT": str(db_port),
        "DB_USER": DB_USER, "DB_PASSWORD": DB_PASSWORD,
    })
    status, body = http("GET", url + "/health")
    assert status == 503 and body["mysql"] == "unavailable", (status, body)
    status, body = http("GET", url + "/articles?place=Paris")
    assert status == 503, (status, body)


def customers_contract(url: str) -> None:
    """The REST contract, the same against a cluster and a single node."""
    status, body = http("GET", url + "/health")
    assert (status, body) == (200, {"redis": "ok"}), (status, body)
    made = []
    for n, name in enumerate(["Ada", "Grace", "Edsger"]):
        status, body = http("POST", url + "/customers", {"name": name, "city": "Seattle", "orders": n, "vip": n == 0})
        assert status == 201, (status, body)
        assert str(uuid.UUID(body["id"])) == body["id"] and body["name"] == name, body
        made.append(body)
    status, listed = http("GET", url + "/customers")
    assert status == 200, (status, listed)
    assert sorted(c["id"] for c in listed) == sorted(c["id"] for c in made), listed
    ada = next(c for c in listed if c["name"] == "Ada")
    assert ada == {"id": made[0]["id"], "name": "Ada", "city": "Seattle", "orders": "0", "vip": "true"}, ada

    status, body = http("PUT", url + f"/customers/{made[1]['id']}", {"city": "Arlington", "rank": "admiral"})
    assert (status, body) == (204, None), (status, body)
    status, grace = http("GET", url + f"/customers/{made[1]['id']}")
    assert status == 200 and grace == {"id": made[1]["id"], "name": "Grace", "city": "Arlington", "orders": "1",
                                       "vip": "false", "rank": "admiral"}, grace

    status, body = http("DELETE", url + f"/customers/{made[2]['id']}")
    assert (status, body) == (204, None), (status, body)
    status, body = http("GET", url + f"/customers/{made[2]['id']}")
    assert status == 404, (status, body)
    status, body = http("GET", url + f"/customers/{uuid.uuid4()}")
    assert status == 404, (status, body)
    status, body = http("GET", url + "/customers/not-a-uuid")
    assert status == 404, (status, body)
    status, listed = http("GET", url + "/customers")
    assert sorted(c["id"] for c in listed) == sorted([made[0]["id"], made[1]["id"]]), listed

    for bad in [b"not json", b"[1, 2]", b'"text"', b"{}", b'{"nested": {"a": 1}}', b'{"id": "x"}', b"null",
                b'{"n": NaN}', b'{"n": Infinity}', b'{"n": 1e400}']:
        status, body = http("POST", url + "/customers", raw=bad)
        assert status == 400 and "error" in body, (bad, status, body)
        status, body = http("PUT", url + f"/customers/{made[0]['id']}", raw=bad)
        assert status == 400, (bad, status, body)
    # A JSON body sent with another Content-Type (urllib: a form) is still read as JSON.
    request = urllib.request.Request(url + "/customers", data=b'{"name": "Barbara"}', method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        barbara = json.loads(response.read())
        assert response.status == 201 and barbara["name"] == "Barbara", barbara
    for customer in [*made[:2], barbara]:
        http("DELETE", url + f"/customers/{customer['id']}")


def check_customers_on_a_tls_cluster(procs: Processes, work: Path) -> None:
    ports, certs = tls_cluster(procs, work)
    url, log = start_app(procs, work, "customers_app", {
        "DBHOST": "127.0.0.1", "DBPORT": str(ports[0]), "DBUSERNAME": APP_USER, "DBPASSWORD": APP_PASSWORD,
        # MemoryDB's certificates come from a public CA; here the test CA is the trusted one.
        "SSL_CERT_FILE": str(certs / "ca.crt"),
    })
    customers_contract(url)
    # Spread over the primaries: the listing really scanned every one of them.
    ids = [http("POST", url + "/customers", {"name": f"c{n}"})[1]["id"] for n in range(12)]
    holders = set()
    for port in ports:
        keys = redis_cli(port, "--scan", "--pattern", "customer:*", tls=certs, user="admin", password=ADMIN_PASSWORD).stdout.split()
        if keys:
            holders.add(port)
    assert len(holders) >= 2, f"12 customers on {len(holders)} primary"
    status, listed = http("GET", url + "/customers")
    assert sorted(c["id"] for c in listed) == sorted(ids), (len(listed), len(ids))
    # The ACL user can touch customer:* keys only.
    denied = redis_cli(ports[0], "SET", "other:key", "x", tls=certs, user=APP_USER, password=APP_PASSWORD)
    assert "NOPERM" in denied.stdout + denied.stderr, denied
    assert "Traceback" not in tail(log), tail(log)


def check_customers_on_a_single_node(procs: Processes, work: Path) -> None:
    port = single_redis(procs, work)
    url, _ = start_app(procs, work, "customers_app", {
        "DBHOST": "127.0.0.1", "DBPORT": str(port), "DBTLS": "false", "DBCLUSTER": "false",
    })
    customers_contract(url)


def check_customers_without_redis(procs: Processes, work: Path) -> None:
    url, _ = start_app(procs, work, "customers_app", {
        "DBHOST": "127.0.0.1", "DBPORT": str(free_port()), "DBTLS": "false", "DBCLUSTER": "false",
    })
    status, body = http("GET", url + "/health")
    assert status == 503 and body == {"redis": "unavailable"}, (status, body)
    status, body = http("GET", url + "/customers")
    assert status == 503, (status, body)


# The boot script's settings step (templates/app_settings.py) against the emulator's Secrets Manager.

class AwsEmulator:
    def __init__(self, procs: Processes, work: Path) -> None:
        python = ROOT / "emulator" / ".venv" / "bin" / "python"
        assert python.exists(), "the emulator is not set up: run `bash emulator/setup.sh`"
        self.process = subprocess.Popen(
            [str(python), str(ROOT / "emulator" / "server.py"), "--port", "0", "--region", "us-east-1"],
            stdout=subprocess.PIPE, stderr=open(work / "emulator.log", "ab"), stdin=subprocess.DEVNULL, text=True,
        )
        procs.children.append(self.process)
        self.endpoint = self.process.stdout.readline().strip()
        assert self.endpoint.startswith("http://127.0.0.1:"), self.endpoint
        self.env = {**os.environ, "AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "test",
                    "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"}

    def secrets(self):
        import boto3

        return boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=self.endpoint,
                            aws_access_key_id="test", aws_secret_access_key="test")


def settings_command(secret: str, out: Path, kind: str, *extra: str) -> list[str]:
    return [PYTHON, str(TEMPLATES / "app_settings.py"), "--secret", secret, "--region", "us-east-1",
            "--out", str(out), "--kind", kind, *extra]


def read_environment_file(path: Path) -> dict[str, str]:
    """Reads NAME="value" lines as systemd's EnvironmentFile= does for the quoting they use."""
    settings = {}
    for line in path.read_text().splitlines():
        name, _, quoted = line.partition("=")
        assert quoted.startswith('"') and quoted.endswith('"'), line
        value, escaped = [], False
        for char in quoted[1:-1]:
            if escaped:
                value.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            else:
                assert char != '"', line
                value.append(char)
        settings[name] = "".join(value)
    return settings


def check_settings_from_secrets_manager(procs: Processes, work: Path) -> None:
    aws = AwsEmulator(procs, work)
    secrets = aws.secrets()
    password = 'a "quoted" pass\\word $HOME'
    # As stacks/elasticache-rds.yaml leaves it before RDS exists: the password, no address yet.
    secrets.create_secret(Name="rds-secret-name", SecretString=json.dumps({"username": "admin", "password": password}))
    out = work / "etc" / "articles" / "settings.env"
    waiting = procs.start(
        settings_command("rds-secret-name", out, "rds", "--set", "REDIS_HOST=cache.example", "--set", "PORT=8080"),
        work / "settings.log", env=aws.env,
    )
    time.sleep(2)
    assert waiting.poll() is None and not out.exists(), "it waits for the database's address"
    # RDS is available: stackctl writes the connection details into the secret.
    secrets.put_secret_value(SecretId="rds-secret-name", SecretString=json.dumps({
        "username": "admin", "password": password, "host": "db.example", "port": 3306, "dbname": "covid",
        "engine": "mysql",
    }))
    assert waiting.wait(timeout=20) == 0, tail(work / "settings.log")
    assert (out.stat().st_mode & 0o777) == 0o600, oct(out.stat().st_mode)
    assert read_environment_file(out) == {
        "DB_HOST": "db.example", "DB_PORT": "3306", "DB_USER": "admin", "DB_PASSWORD": password,
        "DB_NAME": "covid", "REDIS_HOST": "cache.example", "PORT": "8080",
    }, out.read_text()
    log = tail(work / "settings.log")
    assert "does not hold the database's host, port, dbname yet" in log and password not in log, log

    # The MemoryDB user's password: a plain secret.
    secrets.create_secret(Name="memorydb-demo-app-password", SecretString="Plain0Password0Of0Thirty0Two00")
    out = work / "etc" / "customers" / "settings.env"
    done = subprocess.run(settings_command("memorydb-demo-app-password", out, "password", "--set", "DBUSERNAME=app"),
                          env=aws.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert read_environment_file(out) == {"DBPASSWORD": "Plain0Password0Of0Thirty0Two00", "DBUSERNAME": "app"}
    assert "Plain0Password" not in done.stdout + done.stderr

    # A secret that never comes: retried, then given up with the reason, when a timeout is set.
    done = subprocess.run(settings_command("no-such-secret", work / "never.env", "rds", "--timeout", "1"),
                          env=aws.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "ResourceNotFoundException" in done.stderr, done.stderr
    assert not (work / "never.env").exists()


CHECKS = [
    ("articles: miss, hit, expiry, unknown place, MySQL down", check_articles),
    ("articles: serves before the database exists", check_articles_waits_for_the_database),
    ("customers: three-primary Redis Cluster, TLS, ACL user", check_customers_on_a_tls_cluster),
    ("customers: a single Redis node", check_customers_on_a_single_node),
    ("customers: Redis not there", check_customers_without_redis),
    ("boot: settings from Secrets Manager, waiting for the database", check_settings_from_secrets_manager),
]


def main() -> int:
    failed = 0
    for name, check in CHECKS:
        work = Path(tempfile.mkdtemp(prefix="stackctl-apps-"))
        procs = Processes()
        started = time.monotonic()
        try:
            check(procs, work)
            print(f"ok   {name} ({time.monotonic() - started:.1f}s)")
        except Exception:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
            for log in sorted(work.rglob("*.log")):
                print(f"--- {log.name}\n{tail(log)}")
        finally:
            procs.stop_all()
            shutil.rmtree(work, ignore_errors=True)
    print(f"{len(CHECKS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
