#!/usr/bin/env bash
# bench/run.sh (make bench): Gatehouse's performance report. One run on
# one machine measures both modes side by side, each figure beside its
# floor measured in the same run, and writes docs/performance.md.
#
#   make bench                       # up to 25 minutes on 2 cores
#   BASE=<commit> make bench         # and compare with that commit
#   bench/run.sh --base <commit>     # the same
#   COUNT=3 SCALE= make bench        # quicker: fewer repetitions, no
#                                    # 1,000,000-login run
#   OUT=/tmp/perf.md make bench      # write elsewhere
#
# In order, it:
#   1. runs the Go benchmarks of the hot paths (testing.B, -benchmem,
#      COUNT times each) with their floors, and checks the budgets;
#   2. with a base commit (BASE or --base; none by default, and then no
#      comparison), runs the same benchmarks on that commit in a git
#      worktree and compares with benchstat, to show what changed since;
#   3. load over loopback against the built binary (bench/load): GET
#      /v1/verify with a cookie and with a bearer token, and a trivial
#      net/http handler with the same server settings as the floor, at
#      CONNS connections for DURATION; with BASE, the old binary too;
#   4. /v1/verify's latency while logins saturate the CPUs;
#   5. sizes (bench/sizes): bytes sent per request, stored per login, and
#      cached per credential, in each mode;
#   6. revocation delays (bench/revoke): two servers on one SQLite file,
#      then two more with Redis;
#   7. with SCALE, the session check with 10,000, 100,000 and 1,000,000
#      live logins in SQLite.
#
# The Go benchmarks (testing.B) are the root module's and run there; the
# programs (bench/load, bench/sizes, bench/revoke, bench/report) and
# benchstat are the bench module's (bench/go.mod) and are built there. A
# "## Soak" section already in OUT (written by bench/soak.sh) is kept, and
# so is a "## Pages" section before it (written by hand).
#
# Everything listens on 127.0.0.1; every process started here is stopped
# at exit. Needs Go, git, curl and taskset; redis-server for the Redis row
# (skipped without it).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${BASE:-}
while [ $# -gt 0 ]; do
	case $1 in
	--base) BASE=${2:?--base needs a commit}; shift 2 ;;
	--base=*) BASE=${1#--base=}; shift ;;
	*) echo "usage: bench/run.sh [--base COMMIT]" >&2; exit 2 ;;
	esac
done
if [ -n "$BASE" ] && ! git rev-parse -q --verify "$BASE^{commit}" >/dev/null; then
	echo "bench/run.sh: base $BASE is not a commit" >&2
	exit 2
fi

COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-1s}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-64}
LOGINS=${LOGINS:-500}
SCALE=${SCALE-1}
OUT=${OUT:-docs/performance.md}

. bench/lib.sh
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# The Go benchmarks, by package: the hot paths and their floors.
benches=(
	"./httpapi/ ^Benchmark(SessionCheck|TokenCheck|Login|Refresh)$"
	"./guard/ ^Benchmark(Middleware.*|Ed25519VerifyFloor)$"
	". ^BenchmarkSessionCheckScale$/^logins=10000$"
	"./token/ ^Benchmark(Sign|Verify|VerifyFloor)$"
	"./password/ ^Benchmark(Hash|Argon2IDKeyFloor)$"
	"./oidc/ ^Benchmark(TokenCodeGrant|Ed25519Sign|Discovery|JWKS)$"
)

# gobench DIR OUT [old]: the benchmarks above, run in the module at DIR.
# A failure ends the run, except on an old commit ("old"), whose
# benchmarks may have had bugs since fixed: what they measured is kept.
gobench() {
	local dir=$1 out=$2 old=${3:-} pkg pattern
	: >"$out"
	for b in "${benches[@]}"; do
		read -r pkg pattern <<<"$b"
		log "go benchmarks in $dir: $pkg $pattern"
		(cd "$dir" && go test -run '^$' -bench "$pattern" -benchmem -count "$COUNT" -benchtime "$BENCHTIME" -timeout 60m "$pkg") >>"$out" 2>&1 && continue
		if [ -n "$old" ]; then
			log "some benchmarks of $pkg failed on the old commit; keeping what they measured"
			continue
		fi
		tail -30 "$out" >&2
		exit 1
	done
}

log "building"
go build -o "$work/gatehouse" ./cmd/gatehouse
for tool in load sizes revoke report; do
	(cd bench && go build -o "$work/$tool" "./$tool")
done
gobench . "$work/new.txt"
log "profiling a new bearer token each request"
go test -run '^$' -bench '^BenchmarkTokenCheck$/^handler-uncached$' -benchtime 10000x -cpuprofile "$work/uncached.prof" -o "$work/httpapi.test" ./httpapi/ >/dev/null
go tool pprof -top -nodecount=25 "$work/httpapi.test" "$work/uncached.prof" 2>/dev/null | sed -n '/flat%/,$p' >"$work/profile-uncached.txt"
"$work/report" budgets "$work/new.txt" >"$work/budgets.md"

if [ -n "$BASE" ]; then
	log "the base, $BASE, in a worktree"
	git worktree add -f --detach "$work/base" "$BASE" >/dev/null 2>&1
	trap 'git worktree remove -f "$work/base" 2>/dev/null || true; cleanup' EXIT
	(cd "$work/base" && go build -o "$work/gatehouse-base" ./cmd/gatehouse)
	gobench "$work/base" "$work/base.txt" old
	(cd bench && go tool benchstat "$BASE=$work/base.txt" "$rev=$work/new.txt") >"$work/gains.txt" 2>&1
fi
(cd bench && go tool benchstat "$work/new.txt") >"$work/benchstat.txt" 2>&1

# ---- load ----
head -c 48 /dev/urandom | base64 >"$work/secret"
gh() { # gh NAME BINARY ADDR DB [FLAGS...]: a pinned server; pid in $last
	local name=$1 bin=$2 addr=$3 db=$4
	shift 4
	bg "$name" "${pin_server[@]}" "$bin" serve --addr "$addr" --db "$db" \
		--secret-file "$work/secret" --issuer http://gatehouse.bench "$@"
	wait_http "http://$addr/healthz" "$name"
}
load() { "${pin_load[@]}" "$work/load" "$@"; }
measure() { # measure LABEL PID URL CREDS [FLAGS...]
	local label=$1 pid=$2 url=$3 creds=$4
	shift 4
	log "load: $label"
	load run -label "$label" -server-pids "$pid" -url "$url" -creds "$creds" \
		-c "$CONNS" -d "$DURATION" -warmup "$WARMUP" -json "$work/load.jsonl" "$@" >>"$work/load.md"
}

loadpoints() { # loadpoints NAME BINARY [PPROF-ADDR]: one server, both modes
	local name=$1 bin=$2 pprof=${3:-} addr pid id
	id=${name//[^a-z0-9]/-} # for file names and emails
	addr=127.0.0.1:$(freeport)
	gh "$id" "$bin" "$addr" "$work/$id.db" ${pprof:+--pprof-addr "$pprof"}
	pid=$last
	log "signing in $LOGINS times in each mode on $name"
	"$work/load" prep -url "http://$addr" -mode session -users 20 -logins "$LOGINS" -prefix "$id" -out "$work/$id-cookie.creds" >&2
	"$work/load" prep -url "http://$addr" -mode token -users 20 -register=false -logins "$LOGINS" -prefix "$id" -out "$work/$id-bearer.creds" >&2
	local prof=
	if [ -n "$pprof" ]; then
		(sleep 3 && curl -fsS -o "$work/cookie.prof" "http://$pprof/debug/pprof/profile?seconds=8") &
		prof=$!
	fi
	measure "$name, cookie" "$pid" "http://$addr" "$work/$id-cookie.creds"
	[ -z "$prof" ] || wait "$prof"
	measure "$name, bearer" "$pid" "http://$addr" "$work/$id-bearer.creds"
	stop "$pid"
}

: >"$work/load.md"
port=$(freeport)
bg floor "${pin_server[@]}" "$work/load" floor -addr "127.0.0.1:$port"
floor=$last
wait_http "http://127.0.0.1:$port/" floor
loadpoints gatehouse "$work/gatehouse" "127.0.0.1:$(freeport)"
go tool pprof -top -cum -nodecount=30 "$work/gatehouse" "$work/cookie.prof" 2>/dev/null | sed -n '/flat%/,$p' >"$work/profile-cookie.txt"
measure "floor, cookie" "$floor" "http://127.0.0.1:$port" "$work/gatehouse-cookie.creds"
measure "floor, bearer" "$floor" "http://127.0.0.1:$port" "$work/gatehouse-bearer.creds"
stop "$floor"
if [ -n "$BASE" ]; then
	loadpoints "base $BASE" "$work/gatehouse-base"
fi

# ---- /v1/verify while logins saturate the CPUs ----
# Unpinned: the server has every CPU, as in production; a few checking
# connections, so that their latency is the server's, not a queue's.
addr=127.0.0.1:$(freeport)
bg saturate "$work/gatehouse" serve --addr "$addr" --db "$work/saturate.db" --secret-file "$work/secret" --issuer http://gatehouse.bench
wait_http "http://$addr/healthz" saturate
spid=$last
"$work/load" prep -url "http://$addr" -mode session -users 4 -logins 100 -prefix sat -out "$work/sat.creds" >&2
# A separate account signs in: the checked users' sessions must not reach
# the cap on live logins per user, which would end them.
"$work/load" prep -url "http://$addr" -mode session -users 1 -logins 1 -prefix satlogin -out "$work/satlogin.creds" >&2
: >"$work/saturate.md"
for logins in 0 "$((2 * $(nproc)))" "$((8 * $(nproc)))"; do
	log "checks with $logins connections signing in"
	"$work/load" run -label "$logins connections signing in" -server-pids "$spid" -url "http://$addr" -creds "$work/sat.creds" \
		-c 4 -d "$DURATION" -warmup "$WARMUP" -login-email satlogin-0@example.com -login-password "load test passphrase 7f3c" -login-conns "$logins" \
		-json "$work/saturate.jsonl" >>"$work/saturate.md"
done
stop "$spid"

# ---- sizes ----
log "sizes"
"$work/sizes" -logins 10000 >"$work/sizes.json"

# ---- revocation delays ----
revocations() { # revocations LABEL [FLAGS...]: two servers on one new SQLite file
	local label=$1 db a b
	shift
	db="$work/revoke-$RANDOM.db"
	a=127.0.0.1:$(freeport)
	bg revoke-a "$work/gatehouse" serve --dev --addr "$a" --db "$db" --secret-file "$work/secret" --issuer http://gatehouse.bench "$@"
	wait_http "http://$a/healthz" revoke-a
	local pa=$last
	b=127.0.0.1:$(freeport)
	bg revoke-b "$work/gatehouse" serve --dev --addr "$b" --db "$db" --secret-file "$work/secret" --issuer http://gatehouse.bench "$@"
	wait_http "http://$b/healthz" revoke-b
	local pb=$last
	local svc=svc-$RANDOM@example.com
	echo "$svc-password-long-enough" | "$work/gatehouse" user add --db "$db" --email "$svc" --role service --password-stdin >/dev/null
	log "revocations: $label"
	"$work/revoke" -a "http://$a" -b "http://$b" -issuer http://gatehouse.bench -label "$label" \
		-service "$svc:$svc-password-long-enough" >>"$work/revoke.md"
	stop "$pa"
	stop "$pb"
}
: >"$work/revoke.md"
revocations "SQLite, 2 servers"
if command -v redis-server >/dev/null; then
	rport=$(freeport)
	bg redis redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no
	wait_redis=0
	until redis-cli -p "$rport" ping >/dev/null 2>&1 || [ $wait_redis -gt 50 ]; do sleep 0.1; wait_redis=$((wait_redis + 1)); done
	revocations "SQLite + Redis, 2 servers" --redis "redis://127.0.0.1:$rport"
fi

# ---- scale ----
if [ -n "$SCALE" ]; then
	log "scale: 10,000 to 1,000,000 live logins"
	go test -run '^$' -bench '^BenchmarkSessionCheckScale$' -benchmem -count 1 -timeout 60m . >"$work/scale.txt" 2>&1 ||
		{ tail -30 "$work/scale.txt" >&2; exit 1; }
	"$work/report" scale "$work/scale.txt" >"$work/scale.md"
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$((SECONDS - t0))
"$work/report" load "$work/load.jsonl" >"$work/load-vs-floor.md"
"$work/report" sizes "$work/sizes.json" >"$work/sizes.md"
"$work/report" saturate "$work/saturate.jsonl" >"$work/saturate-summary.md"
export started cpu_model mem rev dirty elapsed load_before load_after load_cpus server_cpus \
	COUNT BENCHTIME DURATION WARMUP CONNS LOGINS BASE SCALE
# The soak is measured apart (bench/soak.sh): keep its section.
[ -f "$OUT" ] && soak_section <"$OUT" >"$work/soak.md"
"$work/report" page "$work" >"$work/page.md"
mv "$work/page.md" "$OUT"
log "wrote $OUT in ${elapsed}s"
