"""The articles service of stacks/elasticache-rds.yaml: answers which COVID-19 articles mention a
place, from Redis when it can and from MySQL when it must (cache-aside: a miss reads MySQL and keeps
the answer in Redis for CACHE_TTL seconds).

It starts serving at once and prepares the database in the background, retrying until MySQL
answers: the web server boots while the database is still being created. Until then /health says
which store is not there yet (503) and /articles answers 503.

Settings, from the environment: HOST, PORT, REDIS_HOST, REDIS_PORT, REDIS_TLS, DB_HOST, DB_PORT,
DB_USER, DB_PASSWORD, DB_NAME, CACHE_TTL, DATASET (the CSV file loaded into an empty table).
"""

import csv
import json
import logging
import os
import re
import threading
import time

import pymysql
import redis
from flask import Flask, jsonify, request

COLUMNS = [
    "OBJECTID", "SHA", "PossiblePlace", "Sentence", "MatchedPlace", "DOI", "Title", "Abstract",
    "PublishedDate", "Authors", "Journal", "Source", "License",
]
CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS articles (OBJECTID INT, SHA TEXT, PossiblePlace TEXT, Sentence TEXT,"
    " MatchedPlace TEXT, DOI TEXT, Title TEXT, Abstract TEXT, PublishedDate TEXT, Authors TEXT,"
    " Journal TEXT, Source TEXT, License TEXT, PRIMARY KEY (OBJECTID))"
)
# The place comes from the request: it is only ever a query parameter, never part of the SQL.
SELECT_BY_PLACE = (
    "SELECT " + ", ".join(COLUMNS) + " FROM articles WHERE MatchedPlace = %s ORDER BY OBJECTID"
)
INSERT = "INSERT INTO articles (" + ", ".join(COLUMNS) + ") VALUES (" + ", ".join(["%s"] * len(COLUMNS)) + ")"
RETRY_SECONDS = 5

log = logging.getLogger("articles")


def flag(name, default):
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"{name} is {value!r}: give true or false")


def settings():
    missing = [name for name in ("REDIS_HOST", "DB_HOST", "DB_USER", "DB_PASSWORD") if not os.environ.get(name)]
    if missing:
        raise SystemExit("missing settings: " + ", ".join(missing))
    database = os.environ.get("DB_NAME", "covid")
    # A database name cannot be a query parameter: it is checked instead.
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", database):
        raise SystemExit(f"DB_NAME {database!r} is not a plain database name")
    return {
        "host": os.environ.get("HOST", "0.0.0.0"),
        "port": int(os.environ.get("PORT", "8080")),
        "redis_host": os.environ["REDIS_HOST"],
        "redis_port": int(os.environ.get("REDIS_PORT", "6379")),
        "redis_tls": flag("REDIS_TLS", "false"),
        "db_host": os.environ["DB_HOST"],
        "db_port": int(os.environ.get("DB_PORT", "3306")),
        "db_user": os.environ["DB_USER"],
        "db_password": os.environ["DB_PASSWORD"],
        "db_name": database,
        "cache_ttl": int(os.environ.get("CACHE_TTL", "300")),
        "dataset": os.environ.get("DATASET", os.path.join(os.path.dirname(os.path.abspath(__file__)), "articles.csv")),
    }


class Articles:
    def __init__(self, config):
        self.config = config
        self.ready = threading.Event()
        self.cache = redis.Redis(
            host=config["redis_host"],
            port=config["redis_port"],
            ssl=config["redis_tls"],
            socket_timeout=2,
            socket_connect_timeout=2,
            decode_responses=True,
        )

    def connect(self, database=True):
        return pymysql.connect(
            host=self.config["db_host"],
            port=self.config["db_port"],
            user=self.config["db_user"],
            password=self.config["db_password"],
            database=self.config["db_name"] if database else None,
            charset="utf8mb4",
            cursorclass=pymysql.cursors.DictCursor,
            autocommit=True,
            connect_timeout=5,
            read_timeout=10,
            write_timeout=10,
        )

    def prepare(self):
        """Creates the database and table, and loads the dataset into an empty table; retries until
        MySQL answers."""
        while not self.ready.is_set():
            try:
                self.prepare_once()
                self.ready.set()
                log.info("database ready")
            except pymysql.MySQLError as error:
                log.warning("database not ready (%s); retrying in %d s", error, RETRY_SECONDS)
                time.sleep(RETRY_SECONDS)

    def prepare_once(self):
        with self.connect(database=False) as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{self.config['db_name']}`")
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(CREATE_TABLE)
            cursor.execute("SELECT COUNT(*) AS n FROM articles")
            if cursor.fetchone()["n"] == 0:
                rows = load_dataset(self.config["dataset"])
                cursor.executemany(INSERT, rows)
                log.info("loaded %d articles from %s", len(rows), self.config["dataset"])

    def by_place(self, place):
        """(records_in_cache, rows). Redis unavailable is a miss: MySQL answers."""
        key = "articles:place:" + place.casefold()
        try:
            cached = self.cache.get(key)
        except redis.RedisError as error:
            log.warning("cache unavailable, reading MySQL: %s", error)
            cached = None
        if cached is not None:
            return True, json.loads(cached)
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(SELECT_BY_PLACE, (place,))
            rows = cursor.fetchall()
        if rows:
            # An empty answer is not kept: the next article about the place shows at once.
            try:
                self.cache.setex(key, self.config["cache_ttl"], json.dumps(rows))
            except redis.RedisError as error:
                log.warning("cache unavailable, answer not kept: %s", error)
        return False, rows

    def health(self):
        # Reasons go to the log, not to whoever asks from the internet.
        checks = {}
        try:
            self.cache.ping()
            checks["redis"] = "ok"
        except redis.RedisError as error:
            log.error("health: redis: %s", error)
            checks["redis"] = "unavailable"
        try:
            with self.connect() as connection, connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            checks["mysql"] = "ok" if self.ready.is_set() else "preparing"
        except pymysql.MySQLError as error:
            log.error("health: mysql: %s", error)
            checks["mysql"] = "unavailable"
        return all(v == "ok" for v in checks.values()), checks


def load_dataset(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise SystemExit(f"{path}: the columns must be {', '.join(COLUMNS)}")
        return [tuple(row[c] for c in COLUMNS) for row in reader]


def create_app(articles):
    app = Flask(__name__)

    @app.get("/health")
    def health():
        healthy, checks = articles.health()
        return jsonify(checks), 200 if healthy else 503

    @app.get("/articles")
    def by_place():
        place = request.args.get("place", "").strip()
        if not place:
            return jsonify({"error": "give the place to look for: /articles?place=NAME"}), 400
        if not articles.ready.is_set():
            return jsonify({"error": "the database is being prepared; try again shortly"}), 503
        try:
            in_cache, rows = articles.by_place(place)
        except (redis.RedisError, pymysql.MySQLError) as error:
            log.error("query for %r failed: %s", place, error)
            return jsonify({"error": "a data store is unavailable"}), 503
        return jsonify({"records_in_cache": in_cache, "data": rows}), 200 if rows else 404

    return app


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = settings()
    articles = Articles(config)
    threading.Thread(target=articles.prepare, name="prepare", daemon=True).start()
    from waitress import serve

    log.info("listening on %s:%d", config["host"], config["port"])
    serve(create_app(articles), host=config["host"], port=config["port"])


if __name__ == "__main__":
    main()
