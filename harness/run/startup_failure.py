"""Why an app's start-up failed, when it is that a service it needs does not answer.

Many apps connect to their database (or cache, broker, search engine) in their lifespan
or at import; run where that service is not, the server exits before it serves anything
and its log ends in a traceback about a refused connection or an unknown host name.
lagscope cannot stand in for the service, so the message says which one it is (from the
library in the traceback), where it was looked for when the traceback shows it, and what
to do.  A pure function of the log's text.
"""

from __future__ import annotations

import re

# Library (a top-level package in the traceback's frames) -> the service it talks to.
SERVICES = {
    "asyncpg": "PostgreSQL", "psycopg": "PostgreSQL", "psycopg2": "PostgreSQL",
    "pg8000": "PostgreSQL", "aiomysql": "MySQL", "asyncmy": "MySQL", "pymysql": "MySQL",
    "MySQLdb": "MySQL", "mysql": "MySQL", "redis": "Redis", "aioredis": "Redis",
    "motor": "MongoDB", "pymongo": "MongoDB", "beanie": "MongoDB", "aio_pika": "RabbitMQ",
    "aiormq": "RabbitMQ", "pika": "RabbitMQ", "kombu": "a message broker",
    "aiokafka": "Kafka", "kafka": "Kafka", "elasticsearch": "Elasticsearch",
    "elastic_transport": "Elasticsearch", "opensearchpy": "OpenSearch", "nats": "NATS",
    "cassandra": "Cassandra", "clickhouse_driver": "ClickHouse", "aiohttp": "an HTTP service",
    "httpx": "an HTTP service", "httpcore": "an HTTP service", "requests": "an HTTP service",
}  # fmt: skip
# Exception lines that say a connection could not be made (or its host not found).
_REFUSED = re.compile(
    r"Connection refused|ConnectionRefused|Connect call failed|could not connect|"
    r"Name or service not known|Temporary failure in name resolution|nodename nor servname|"
    r"No address associated|gaierror|ServerSelectionTimeout|CannotConnectNow|ConnectError|"
    r"Connection reset by peer|timed out connecting|Error \d+ connecting",
    re.IGNORECASE,
)
_UNRESOLVED = re.compile(r"Name or service not known|name resolution|nodename nor servname|"
                         r"No address associated", re.IGNORECASE)  # fmt: skip
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|error)\b(: |$)")  # gaierror too
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+')
# Where the service was looked for, as libraries word it.
_ADDRESSES = (
    re.compile(r"\('(?P<host>[\w.:-]+)', (?P<port>\d+)\)"),  # asyncio: ('127.0.0.1', 5432)
    re.compile(r'(?:at|to) "(?P<host>[\w.:-]+)"(?: \([\w.:]+\))?, port (?P<port>\d+)'),  # libpq
    re.compile(r"connecting to (?P<host>[\w.-]+):(?P<port>\d+)"),  # redis-py
    re.compile(r"(?P<host>localhost|\d+\.\d+\.\d+\.\d+|[\w-]+(?:\.[\w-]+)+):(?P<port>\d{2,5})\b"),
)


def service_failure(log: str) -> str | None:
    """One line naming the service the app could not reach at start-up and what to do, or
    None when the log's last traceback is not about a connection."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if "Traceback (most recent call last)" in line]
    if not starts:
        return None
    tail = lines[starts[-1] :]
    error = next((line.strip() for line in reversed(tail) if _EXCEPTION.match(line)), None)
    # A chained traceback ("During handling of the above exception") may name the refusal
    # in an earlier part; the whole log is searched for it, the last one counts.
    refusals = [line.strip() for line in lines if _EXCEPTION.match(line) and _REFUSED.search(line)]
    if not refusals:
        return None
    error = refusals[-1] if error is None or not _REFUSED.search(error) else error
    service, library = _service(lines[starts[0] :])
    where = _address("\n".join([error, *refusals]))
    what = f"{service} through {library}" if library else service
    at = f" at {where}" if where else ""
    unresolved = (
        "; its host name does not resolve here (a container's name, say)"
        if _UNRESOLVED.search(error) else ""
    )  # fmt: skip
    example = ", e.g. DATABASE_URL" if service in ("PostgreSQL", "MySQL") else ""
    return (
        f"the app's start-up failed: it could not connect to {what}{at} ({error}){unresolved}; "
        f"start that service, or point the app at one that runs (its settings or environment"
        f"{example}), then run lagscope again"
    )


def _service(lines: list[str]) -> tuple[str, str | None]:
    """The service of the innermost library frame that names one, and that library."""
    found: tuple[str, str | None] = ("a service it needs", None)
    for line in lines:
        match = _FRAME.match(line)
        if match is None:
            continue
        package = _package(match["file"])
        if package in SERVICES:
            found = (SERVICES[package], package)
    return found


def _package(path: str) -> str | None:
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1].split("/", 1)[0].removesuffix(".py")
    return None


def _address(text: str) -> str | None:
    for pattern in _ADDRESSES:
        match = pattern.search(text)
        if match:
            return f"{match['host']}:{match['port']}"
    return None
