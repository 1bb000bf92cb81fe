# bench/lib.sh: what bench/load.sh, bench/run.sh and bench/soak.sh share. Source it after
# `set -euo pipefail` and `cd` to the repository root. It makes $work (a
# temporary directory removed at exit), stops every process started with
# bg at exit, and sets pin_load and pin_server (taskset prefixes that give
# the load generator the lower half of the CPUs and the servers the upper
# half, or nothing on one CPU) with load_cpus and server_cpus to name them.

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$SECONDS
work=$(mktemp -d /tmp/gatehouse-bench.XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
log() { printf '[%4ds] %s\n' $((SECONDS - t0)) "$*" >&2; }

n=$(nproc)
if [ "$n" -ge 2 ]; then
	load_cpus="0-$((n / 2 - 1))"
	server_cpus="$((n / 2))-$((n - 1))"
	[ "$n" -eq 2 ] && load_cpus=0 server_cpus=1
	pin_load=(taskset -c "$load_cpus")
	pin_server=(taskset -c "$server_cpus")
else
	load_cpus="all (1 CPU)"
	server_cpus="all (1 CPU)"
	pin_load=()
	pin_server=()
fi

# bg NAME CMD...: start CMD in the background, logging to $work/NAME.log;
# its pid is in $last.
bg() {
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	last=$!
	pids+=("$last")
}

stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

freeport() {
	local p
	while :; do
		p=$((20000 + RANDOM % 10000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
			echo "$p"
			return
		}
	done
}

wait_http() {
	local url=$1 name=$2
	for _ in $(seq 300); do
		curl -fsS -o /dev/null "$url" 2>/dev/null && return
		sleep 0.1
	done
	echo "$name did not answer $url within 30s:" >&2
	tail -20 "$work/$name.log" >&2
	exit 1
}

# soak_section prints the "## Soak" section of the markdown on its input
# (to the next "## " heading outside a code block), and without_soak the
# rest: bench/soak.sh writes that section of docs/performance.md, and
# bench/run.sh, which writes the rest, keeps it, with the "## Pages",
# "## Second factors" and "## Budgets not met" sections before it,
# written by hand.
soak_section() { awk '/^```/ { f = !f } !f && /^## / { s = ($0 == "## Pages" || $0 == "## Second factors" || $0 == "## Budgets not met" || $0 == "## Soak") } s'; }
without_soak() { awk '/^```/ { f = !f } !f && /^## / { s = ($0 == "## Soak") } !s'; }

# The machine and the code, for the report.
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
