"""An app whose start-up fails because a service it needs is not there: which, where, what to do."""

from __future__ import annotations

from lagscope.harness.run.startup_failure import service_failure

SITE = "/venv/lib/python3.11/site-packages"


def log(
    *frames: str, error: str, server: str = "ERROR:    Traceback (most recent call last):"
) -> str:
    lines = [server]
    for frame in frames:
        lines += [f'  File "{frame}", line 10, in f', "    call()"]
    return "\n".join([*lines, error, "", "ERROR:    Application startup failed. Exiting.", ""])


def test_a_refused_database_is_named_with_what_to_do() -> None:
    text = log(
        "/app/main.py", f"{SITE}/sqlalchemy/engine/base.py", f"{SITE}/asyncpg/connect_utils.py",
        "uvloop/loop.pyx",
        error="ConnectionRefusedError: [Errno 111] Connection refused",
    )  # fmt: skip
    assert service_failure(text) == (
        "the app's start-up failed: it could not connect to PostgreSQL through asyncpg "
        "(ConnectionRefusedError: [Errno 111] Connection refused); start that service, or point "
        "the app at one that runs (its settings or environment, e.g. DATABASE_URL), then run "
        "lagscope again"
    )


def test_the_address_is_named_when_the_traceback_shows_it() -> None:
    psycopg = log(
        f"{SITE}/psycopg2/__init__.py",
        error='sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server '
        'at "localhost" (127.0.0.1), port 5432 failed: Connection refused',
    )  # fmt: skip
    assert "connect to PostgreSQL through psycopg2 at localhost:5432 (" in str(
        service_failure(psycopg)
    )
    redis = log(f"{SITE}/redis/asyncio/connection.py",
                error="redis.exceptions.ConnectionError: Error 111 connecting to cache:6379. "
                "Connection refused.")  # fmt: skip
    assert "connect to Redis through redis at cache:6379 (" in str(service_failure(redis))
    asyncio = log(error="OSError: Multiple exceptions: [Errno 111] Connect call failed "
                  "('127.0.0.1', 27017)")  # fmt: skip
    assert "connect to a service it needs at 127.0.0.1:27017 (" in str(service_failure(asyncio))


def test_a_host_name_that_does_not_resolve_is_said() -> None:
    text = log(f"{SITE}/asyncpg/connect_utils.py",
               error="socket.gaierror: [Errno -2] Name or service not known")  # fmt: skip
    assert "(socket.gaierror: [Errno -2] Name or service not known); its host name does not " \
        "resolve here" in str(service_failure(text))  # fmt: skip


def test_other_failures_are_not_put_on_a_service() -> None:
    assert service_failure(log("/app/main.py", error="RuntimeError: config missing")) is None
    assert service_failure("INFO:     Started server process [1]\n") is None
