# Sourced by .ci/run: a throwaway PostgreSQL cluster for the connection-leak tests.
#
# start_postgres  creates a cluster in a temp dir, starts it on a free loopback port,
#                 exports LAGSCOPE_TEST_POSTGRES_URL and stops it on exit (trap).
# PostgreSQL refuses to run as root, so under root the server runs as `nobody`.
# Binaries: pg_ctl on PATH, else Debian's /usr/lib/postgresql/*/bin, else apt-get install.

_pg_bin() {
    local found
    found=$(command -v pg_ctl 2>/dev/null || true)
    if [ -z "$found" ]; then
        found=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    if [ -z "$found" ] && [ "$(id -u)" = 0 ]; then
        echo "ci: installing PostgreSQL from Debian's packages" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        found=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    [ -n "$found" ] && dirname "$(readlink -f "$found")"
}

_pg_as() {  # run a PostgreSQL command as the cluster's owner
    if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

stop_postgres() {
    if [ -n "${LAGSCOPE_PG_DIR:-}" ] && [ -d "$LAGSCOPE_PG_DIR" ]; then
        _pg_as "$LAGSCOPE_PG_BIN/pg_ctl" -D "$LAGSCOPE_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$LAGSCOPE_PG_DIR"
    fi
}

start_postgres() {
    LAGSCOPE_PG_BIN=$(_pg_bin) || true
    if [ -z "$LAGSCOPE_PG_BIN" ]; then
        echo "ci: no PostgreSQL found: the PostgreSQL tests will skip" >&2
        return 0
    fi
    LAGSCOPE_PG_DIR=$(mktemp -d /tmp/lagscope-pg.XXXXXX)
    chmod 755 "$LAGSCOPE_PG_DIR"
    [ "$(id -u)" = 0 ] && chown nobody "$LAGSCOPE_PG_DIR"
    trap stop_postgres EXIT
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    _pg_as "$LAGSCOPE_PG_BIN/initdb" -D "$LAGSCOPE_PG_DIR/data" -U lagscope --auth=trust \
        -E UTF8 >"$LAGSCOPE_PG_DIR/initdb.log" 2>&1
    _pg_as "$LAGSCOPE_PG_BIN/pg_ctl" -D "$LAGSCOPE_PG_DIR/data" -l "$LAGSCOPE_PG_DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $LAGSCOPE_PG_DIR -c max_connections=200" \
        start >/dev/null
    export LAGSCOPE_TEST_POSTGRES_URL="postgresql+asyncpg://lagscope@127.0.0.1:$port/postgres"
    echo "ci: PostgreSQL running for the tests at $LAGSCOPE_TEST_POSTGRES_URL" >&2
}
