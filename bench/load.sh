#!/usr/bin/env bash
# bench/load.sh: load figures for GET /v1/verify, the check a reverse proxy
# makes on every request, written to docs/performance-load.md.
#
#   bench/load.sh                      # about 6 minutes on 2 cores
#   DURATION=10s CONNS=128 bench/load.sh
#   OUT=/tmp/perf.md bench/load.sh     # write elsewhere
#   TOKENCACHE=1 bench/load.sh         # and the verified-token cache at its
#                                      # bound (about 2 minutes more)
#
# In one run it:
#   1. builds gatehouse, and from the bench module (bench/go.mod)
#      bench/load (the load generator) and bench/store (PostgreSQL helpers);
#   2. SQLite: starts one server, registers USERS users and signs in
#      LOGINS times for cookies and LOGINS times for tokens through the API,
#      then measures /v1/verify with the cookies and with the bearer
#      tokens, cycling through them;
#   3. the floor: a trivial net/http handler (bench/load floor), same
#      requests;
#   4. PostgreSQL + Redis: starts a private PostgreSQL (postgres/pgtest, as
#      the tests do) and redis-server on 127.0.0.1, runs the migrations
#      once, starts two servers on them with the same secret and issuer,
#      signs in through both, and measures with the connections split
#      evenly over both (every credential is checked on both servers in
#      turn, half the time on the one that did not issue it);
#   5. store size: fills one database with SAMPLE users and sessions and
#      another with BIG (1,000,000) by COPY, signs in once through the API
#      on each, and measures /v1/verify cycling over SAMPLE sessions spread
#      over the whole table: each is checked less than once a second, so
#      the 1 s session cache has always expired and every check reads
#      PostgreSQL (the run counts the index reads to show it). It also
#      times postgres.Store.SessionBySecretHash alone on both, and the
#      store's writes (touch, sign-ins, refresh, sign-out) on the big one;
#   6. with TOKENCACHE=1, bench/tokencache: bearer checks in the service
#      cycling over 99,000 and over 101,000 distinct tokens, either side of
#      the verified-token cache's bound of 100,000.
#
# Every load point uses the same connections (CONNS), warm-up (WARMUP) and
# measured duration (DURATION). Any answer but 200 fails the run. Servers
# sign in with all cores (argon2id is the slow part), then are restarted
# for the measurement with the server side (Gatehouse, PostgreSQL, Redis,
# the floor) pinned to the upper half of the CPUs and the load generator to
# the lower half, so the two do not take each other's cores; "server CPU"
# is the CPU time of the server-side processes (children included) from
# /proc, which leaves out anything else running on the machine.
#
# Everything listens on 127.0.0.1 and every process started here is
# stopped at exit. Needs Go, curl, taskset, redis-server and PostgreSQL's server
# binaries (pgtest installs postgresql with apt-get when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-64}
USERS=${USERS:-100}
LOGINS=${LOGINS:-1000}
SAMPLE=${SAMPLE:-20000}
BIG=${BIG:-1000000}
OUT=${OUT:-docs/performance-load.md}
TOKENCACHE=${TOKENCACHE:-}

. bench/lib.sh

command -v redis-server >/dev/null || {
	log "installing redis-server"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
}

# gh NAME ADDR PIN DB [FLAGS...]: start a gatehouse server; pid in $last.
# PIN is "pin" or "free".
gh() {
	local name=$1 addr=$2 pin=$3 db=$4
	shift 4
	local pin_cmd=()
	[ "$pin" = pin ] && pin_cmd=("${pin_server[@]}")
	bg "$name" "${pin_cmd[@]}" "$work/gatehouse" serve --addr "$addr" --db "$db" \
		--secret-file "$work/secret" --issuer http://gatehouse.bench --trusted-proxies 127.0.0.1 "$@"
	wait_http "http://$addr/healthz" "$name"
}

load() { "${pin_load[@]}" "$work/load" "$@"; }
store() { "$work/store" "$@"; }

# measure LABEL SERVER-PIDS STORE-PIDS URLS CREDS: one load point,
# appended to the table.
measure() {
	log "load: $1"
	load run -label "$1" -server-pids "$2" -store-pids "$3" -url "$4" -creds "$5" \
		-c "$CONNS" -d "$DURATION" -warmup "$WARMUP" -json "$work/results.jsonl" >>"$work/table.md"
}

field() { sed -n "s/.*\"$1\":\([0-9.e+]*\).*/\1/p" <<<"$2"; }
# commas 1234567.8 prints 1,234,568.
commas() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

log "building"
go build -o "$work/gatehouse" ./cmd/gatehouse
# The programs are the bench module's (bench/go.mod).
(cd bench && go build -o "$work/load" ./load && go build -o "$work/store" ./store)
[ -n "$TOKENCACHE" ] && (cd bench && go build -o "$work/tokencache" ./tokencache)
head -c 48 /dev/urandom | base64 -w0 >"$work/secret"
chmod 600 "$work/secret"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- SQLite ----
mkdir -p "$work/sqlite"
addr=127.0.0.1:$(freeport)
gh sqlite-prep "$addr" free "$work/sqlite/gatehouse.db"
log "SQLite: $USERS users, $LOGINS cookie and $LOGINS token sign-ins"
load prep -url "http://$addr" -mode session -users "$USERS" -logins "$LOGINS" -prefix sq -out "$work/sqlite-cookie.creds"
load prep -url "http://$addr" -mode token -users "$USERS" -register=false -logins "$LOGINS" -prefix sq -out "$work/sqlite-bearer.creds"
stop "$last"
gh sqlite "$addr" pin "$work/sqlite/gatehouse.db"
measure "SQLite, cookie" "$last" "" "http://$addr" "$work/sqlite-cookie.creds"
measure "SQLite, bearer" "$last" "" "http://$addr" "$work/sqlite-bearer.creds"
stop "$last"

# ---- the floor ----
port=$(freeport)
bg floor "${pin_server[@]}" "$work/load" floor -addr "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/" floor
measure "floor: trivial net/http handler, cookie" "$last" "" "http://127.0.0.1:$port" "$work/sqlite-cookie.creds"
stop "$last"

# ---- PostgreSQL + Redis, two servers ----
mkdir -p "$work/redis"
redis_port=$(freeport)
bg redis "${pin_server[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work/redis"
redis_pid=$last
bg postgres "${pin_server[@]}" "$work/store" postgres -url-file "$work/pg.url"
pg_pid=$last
for _ in $(seq 600); do [ -s "$work/pg.url" ] && break; sleep 0.1; done
[ -s "$work/pg.url" ] || { cat "$work/postgres.log" >&2; exit 1; }
pg=$(cat "$work/pg.url")
pg_version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
cluster=$(store createdb -server "$pg" -name cluster)
log "PostgreSQL + Redis: migrations, once"
"$work/gatehouse" migrate --db "$cluster" 2>>"$work/migrate.log"
a1=127.0.0.1:$(freeport)
a2=127.0.0.1:$(freeport)
gh pg1-prep "$a1" free "$cluster" --redis "redis://127.0.0.1:$redis_port/0"
p1=$last
gh pg2-prep "$a2" free "$cluster" --redis "redis://127.0.0.1:$redis_port/0"
p2=$last
log "PostgreSQL + Redis: $USERS users, $LOGINS cookie and $LOGINS token sign-ins over both servers"
load prep -url "http://$a1,http://$a2" -mode session -users "$USERS" -logins "$LOGINS" -prefix pg -out "$work/pg-cookie.creds"
load prep -url "http://$a1,http://$a2" -mode token -users "$USERS" -register=false -logins "$LOGINS" -prefix pg -out "$work/pg-bearer.creds"
stop "$p1"
stop "$p2"
gh pg1 "$a1" pin "$cluster" --redis "redis://127.0.0.1:$redis_port/0"
p1=$last
gh pg2 "$a2" pin "$cluster" --redis "redis://127.0.0.1:$redis_port/0"
p2=$last
measure "PostgreSQL + Redis, 2 servers, cookie" "$p1,$p2" "$pg_pid,$redis_pid" "http://$a1,http://$a2" "$work/pg-cookie.creds"
measure "PostgreSQL + Redis, 2 servers, bearer" "$p1,$p2" "$pg_pid,$redis_pid" "http://$a1,http://$a2" "$work/pg-bearer.creds"
stop "$p1"
stop "$p2"
stop "$redis_pid"

# ---- store size: every check reads PostgreSQL ----
for size in "$SAMPLE" "$BIG"; do
	db=$(store createdb -server "$pg" -name "logins_$size")
	log "store size: COPY $size users and sessions"
	store fill -db "$db" -logins "$size" -sample "$SAMPLE" -creds "$work/fill-$size.creds" 2>>"$work/fill.log"
	tail -1 "$work/fill.log" | tee -a "$work/fills.txt" >&2
	addr=127.0.0.1:$(freeport)
	reads0=$(store reads -db "$db")
	gh "size-$size" "$addr" pin "$db"
	gpid=$last
	load prep -url "http://$addr" -mode session -users 1 -logins 1 -prefix "api$size" -out "$work/api-$size.creds"
	cat "$work/fill-$size.creds" "$work/api-$size.creds" >"$work/size-$size.creds"
	label="PostgreSQL, $(commas "$size") logins stored, cookie, store read on every check"
	measure "$label" "$gpid" "$pg_pid" "http://$addr" "$work/size-$size.creds"
	stop "$gpid"
	sleep 1 # PostgreSQL publishes a backend's counts as it exits
	reads1=$(store reads -db "$db")
	res=$(tail -1 "$work/results.jsonl")
	sent=$(field sent "$res")
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(commas "$size")" "$(commas "$(field rps "$res")")" \
		"$(commas "$(field p50_us "$res")")" "$(commas "$(field p99_us "$res")")" \
		"$(commas "$(field server_cpu_us_per_request "$res")")" "$(commas "$(field store_cpu_us_per_request "$res")")" \
		"$(commas "$sent")" "$(commas $((reads1 - reads0)))" \
		"$(awk -v r=$((reads1 - reads0)) -v s="$sent" 'BEGIN { printf "%.2f", r / s }')" >>"$work/size.md"
	log "store size: SessionBySecretHash alone"
	"${pin_load[@]}" "$work/store" lookup -db "$db" -creds "$work/fill-$size.creds" -n 20000 \
		-label PostgreSQL >>"$work/lookup.md"
done
log "store writes on $(commas "$BIG") logins"
"${pin_load[@]}" "$work/store" writes -db "$db" -logins "$BIG" -n 2000 -pg-pid "$pg_pid" >"$work/writes.md" 2>>"$work/fill.log"
stop "$pg_pid"
if [ -n "$TOKENCACHE" ]; then
	log "verified-token cache: 101,000 token sign-ins, then checks"
	"$work/tokencache" -tokens 99000,101000 -d 5s >"$work/tokencache.md" 2>>"$work/tokencache.log"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the report ----
elapsed=$((SECONDS - t0))
{
	cat <<EOF
# Load figures: /v1/verify over HTTP

Written by \`bench/load.sh\` (do not edit by hand: run it again). These
are whole-system figures, over real TCP connections on loopback, through
the built binary; the per-call costs of the pieces are in
[design.md](design.md), and what they mean for a large deployment is in
[scaling.md](scaling.md).

## Machine and run

| | |
|---|---|
| date | $started |
| CPU | $(nproc) × $cpu_model ($(uname -m)), $mem RAM, Linux $(uname -r) |
| CPUs | load generator on CPU $load_cpus; Gatehouse, PostgreSQL, Redis and the floor on CPU $server_cpus |
| software | $(go version | cut -d' ' -f3), PostgreSQL ${pg_version:-?} (pgtest: fsync off, on /dev/shm when it can), $(redis-server --version | cut -d' ' -f1-3) |
| commit | $rev$dirty |
| command | \`${TOKENCACHE:+TOKENCACHE=1 }bench/load.sh\` (CONNS=$CONNS DURATION=$DURATION WARMUP=$WARMUP USERS=$USERS LOGINS=$LOGINS SAMPLE=$SAMPLE BIG=$BIG), $elapsed s in all |
| load average (1, 5, 15 min) | before: $load_before; after: $load_after |

The load average counts everything on the machine, this run included: on a
shared machine, other work shows in the latencies (but not in "server
CPU", which counts only the server-side processes).

## Throughput and latency

$CONNS keep-alive connections, each with one request in flight (a closed
loop, like \`wrk\`: latency is the time from writing a request to reading
its whole answer, so it includes the wait in the server's queue), $WARMUP
of warm-up then $DURATION measured. Requests cycle through $(commas "$LOGINS")
credentials made by signing in through the API; for two servers the
connections are split evenly over both and every credential goes to
both in turn. Percentiles are read from every
sample, sorted. The CPU columns are the CPU time (user and system, from
/proc) of the Gatehouse processes, and of PostgreSQL (every backend) and
Redis, per request; "cores busy" is all of it per second of run. Every
answer was 200 (any other fails the run).

| case | servers | connections | req/s | p50 µs | p90 µs | p99 µs | Gatehouse CPU µs/request | PostgreSQL + Redis CPU µs/request | server side, cores busy | errors |
|---|---|---|---|---|---|---|---|---|---|---|
EOF
	cat "$work/table.md"
	cat <<EOF

Each server writes one log line per request (method, path, status,
duration) to a file, as it does in production; that is part of its cost.
With $(commas "$LOGINS") sessions spread over the run, each session's cache
entry (1 s) expires and is read again about once a second: cookie checks
read the store about $(commas "$LOGINS") times a second per server, the rest
come from the cache. A bearer token is verified (Ed25519) the first time a server sees
it and then found in the verified-token cache; the revocation and role
checks run on every request, in memory.

## Store size: $(commas "$BIG") logins against $(commas "$SAMPLE")

Two databases: one holding $(commas "$SAMPLE") users with one session
each, one holding $(commas "$BIG"), inserted with COPY (the columns of
\`postgres/migrations\`; \`bench/store fill\`), plus one sign-in through the
API on each. The load cycles over $(commas "$SAMPLE") sessions spread
evenly over the whole table, so each comes back only after its 1 s cache
entry has expired: every check reads PostgreSQL (the index reads below
are PostgreSQL's own count for the session index, pg_stat_user_indexes,
during the run, warm-up included). One server, same connections and
duration; PostgreSQL shares the server CPUs.

Filling them (\`bench/store fill\`):

$(sed 's/^store: /- /' "$work/fills.txt")

| logins stored | req/s | p50 µs | p99 µs | Gatehouse CPU µs/request | PostgreSQL CPU µs/request | requests | session index reads | reads per request |
|---|---|---|---|---|---|---|---|---|
EOF
	cat "$work/size.md"
	cat <<EOF

The store's read alone, \`postgres.Store.SessionBySecretHash\` (the login
and its user in one indexed join, through the pool), 20,000 calls one
after the other over the same sampled sessions, from the load
generator's CPU:

| store | logins stored | calls | p50 µs | p90 µs | p99 µs | mean µs |
|---|---|---|---|---|---|---|
EOF
	cat "$work/lookup.md"
	cat <<EOF

## What the store writes, and the feed poll

The writes a deployment makes, and the poll every server makes of the
revocation feed and the signing keys, through the store's own methods
(\`bench/store writes\`), on the database of $(commas "$BIG") logins, 2,000 calls
of each one after the other, then 2,000 sign-outs from 16 goroutines at
once. "PostgreSQL CPU" is the CPU time of every PostgreSQL process per
call, and "WAL" the write-ahead log it wrote per call (what the disk
takes and every replica replays). pgtest runs PostgreSQL with fsync and
full_page_writes off: a commit here costs no disk flush, and the WAL
holds no page images; on a real server add the flush to each latency,
and to the WAL the page images written after each checkpoint.

| call | statements | calls | p50 µs | p99 µs | PostgreSQL CPU µs/call | WAL bytes/call |
|---|---|---|---|---|---|---|
EOF
	cat "$work/writes.md"
	if [ -n "$TOKENCACHE" ]; then
		cat <<EOF

## Bearer checks around the verified-token cache's bound

\`bench/tokencache\` (with TOKENCACHE=1): \`gatehouse.Service.AuthenticateToken\`
alone (nothing else of this run is left running), one goroutine per CPU, cycling in a scattered
order over 99,000 and then over 101,000 distinct live access tokens
(signed in through the service on SQLite; a fresh service, so an empty
cache, for each count, every token checked once before the 5 s
measured). The cache keeps at most 100,000 verified tokens until they
expire: past that, a token that did not fit is verified again on every
check, after a sweep of the full cache under its lock.

| distinct tokens | checks/s | goroutines | mean µs | p50 µs | p99 µs | cache heap bytes per token |
|---|---|---|---|---|---|---|
EOF
		cat "$work/tokencache.md"
	fi
} >"$work/report.md"
mv "$work/report.md" "$OUT"
log "wrote $OUT"
cat "$OUT" >&2
