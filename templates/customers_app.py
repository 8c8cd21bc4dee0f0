"""The customers service of stacks/memorydb.yaml: a REST API over customers kept as Redis hashes
`customer:<uuid>` in MemoryDB (a Redis Cluster with TLS and an ACL user). The same code works
with ElastiCache or any single Redis node (DBCLUSTER=false).

Routes: GET /customers (all of them, by SCAN on every primary), POST /customers (201: the body
plus a new `id`), GET /customers/<id> (404 when there is none), PUT /customers/<id> (204: fields
merged into the hash; as in the original service, a PUT to an id that has no customer yet creates
it), DELETE /customers/<id> (204), GET /health (200, or 503 while Redis does not answer). A body
that is not a JSON object of strings, finite numbers or booleans is refused (400). A Redis hash
holds strings: fields come back as strings (`"orders": "3"`, `"vip": "true"`).

Settings, from the environment: HOST, PORT, DBHOST, DBPORT, DBUSERNAME, DBPASSWORD, DBTLS and
DBCLUSTER (both true unless set to false).
"""

import logging
import math
import os
import threading
import uuid

import redis
from flask import Flask, jsonify, request
from redis.cluster import RedisCluster

KEY_PREFIX = "customer:"

log = logging.getLogger("customers")


def flag(name, default):
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"{name} is {value!r}: give true or false")


def settings():
    missing = [name for name in ("DBHOST",) if not os.environ.get(name)]
    if missing:
        raise SystemExit("missing settings: " + ", ".join(missing))
    return {
        "host": os.environ.get("HOST", "0.0.0.0"),
        "port": int(os.environ.get("PORT", "8080")),
        "db_host": os.environ["DBHOST"],
        "db_port": int(os.environ.get("DBPORT", "6379")),
        "username": os.environ.get("DBUSERNAME") or None,
        "password": os.environ.get("DBPASSWORD") or None,
        "tls": flag("DBTLS", "true"),
        "cluster": flag("DBCLUSTER", "true"),
    }


class Store:
    """The Redis client, made on first use and made again after a failure: the service starts (and
    answers /health) before the database exists, and a cluster client learns the slots at creation."""

    def __init__(self, config):
        self.config = config
        self.lock = threading.Lock()
        self.client = None

    def get(self):
        with self.lock:
            if self.client is None:
                common = {
                    "host": self.config["db_host"],
                    "port": self.config["db_port"],
                    "username": self.config["username"],
                    "password": self.config["password"],
                    "ssl": self.config["tls"],
                    "decode_responses": True,
                    "socket_timeout": 5,
                    "socket_connect_timeout": 5,
                }
                if self.config["cluster"]:
                    self.client = RedisCluster(**common)
                else:
                    self.client = redis.Redis(**common)
            return self.client

    def forget(self):
        with self.lock:
            self.client = None

    def keys(self, client):
        if isinstance(client, RedisCluster):
            return client.scan_iter(match=KEY_PREFIX + "*", target_nodes=RedisCluster.PRIMARIES)
        return client.scan_iter(match=KEY_PREFIX + "*")


def customer_key(customer_id):
    """The hash of a customer, or None for an id that is not a UUID (never a key of another kind)."""
    try:
        return KEY_PREFIX + str(uuid.UUID(customer_id))
    except ValueError:
        return None


def fields_of_body():
    """The request's JSON object as hash fields, or an error message."""
    # A JSON body is read as such whatever its Content-Type says.
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not body:
        return None, "the body must be a JSON object with at least one field"
    fields = {}
    for name, value in body.items():
        if name == "id":
            continue  # the id is the key, not a field
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif not isinstance(value, (str, int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            return None, f"field {name!r} must be a string, a finite number or a boolean"
        fields[name] = value
    if not fields:
        return None, "the body must have a field besides `id`"
    return fields, None


def create_app(store):
    app = Flask(__name__)

    @app.errorhandler(redis.RedisError)
    def unavailable(error):
        log.error("redis: %s", error)
        store.forget()
        return jsonify({"error": "the database is unavailable"}), 503

    @app.get("/health")
    def health():
        try:
            store.get().ping()
        except redis.RedisError as error:
            # The reason goes to the log, not to whoever asks from the internet.
            log.error("health: redis: %s", error)
            store.forget()
            return jsonify({"redis": "unavailable"}), 503
        return jsonify({"redis": "ok"}), 200

    @app.get("/customers")
    def list_customers():
        client = store.get()
        customers = []
        for key in store.keys(client):
            customer = client.hgetall(key)
            if customer:  # deleted between the scan and the read
                customer["id"] = key[len(KEY_PREFIX):]
                customers.append(customer)
        return jsonify(customers), 200

    @app.post("/customers")
    def create_customer():
        fields, problem = fields_of_body()
        if problem:
            return jsonify({"error": problem}), 400
        customer_id = str(uuid.uuid4())
        store.get().hset(KEY_PREFIX + customer_id, mapping=fields)
        return jsonify({**fields, "id": customer_id}), 201

    @app.get("/customers/<customer_id>")
    def get_customer(customer_id):
        key = customer_key(customer_id)
        customer = store.get().hgetall(key) if key else {}
        if not customer:
            return jsonify({"error": f"no customer {customer_id}"}), 404
        customer["id"] = key[len(KEY_PREFIX):]
        return jsonify(customer), 200

    @app.put("/customers/<customer_id>")
    def update_customer(customer_id):
        key = customer_key(customer_id)
        if key is None:
            return jsonify({"error": f"no customer {customer_id}"}), 404
        fields, problem = fields_of_body()
        if problem:
            return jsonify({"error": problem}), 400
        store.get().hset(key, mapping=fields)
        return "", 204

    @app.delete("/customers/<customer_id>")
    def delete_customer(customer_id):
        key = customer_key(customer_id)
        if key is not None:
            store.get().delete(key)
        return "", 204

    return app


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = settings()
    from waitress import serve

    log.info("listening on %s:%d", config["host"], config["port"])
    serve(create_app(Store(config)), host=config["host"], port=config["port"])


if __name__ == "__main__":
    main()
