#!/usr/bin/env bash
# bench/soak.sh (make soak): one Gatehouse server under a steady mix of
# requests for SOAK, then verdicts: memory levels off, no request failed,
# p99 does not drift, no request stalls. Not part of make test.
#
#   make soak                            # 10 minutes, 500 requests/s
#   SOAK=30s make soak                   # a quick run
#   SOAK=1h RATE=300 make soak
#   OUT=docs/performance.md make soak    # and write the "## Soak" section
#                                        # of docs/performance.md
#   KEEP=/tmp/soak make soak             # keep the server's log (with its
#                                        # GC trace) and database there
#
# It builds gatehouse (root module) and bench/soak (bench module), and
# bench/soak does the rest: it starts `gatehouse serve --dev` on a fresh
# SQLite file in a temporary directory, on 127.0.0.1, registers users,
# signs in, runs the load (open loop, RATE requests per second: checks in
# both modes, sign-ins and sign-outs in both modes, refreshes; see the
# package documentation of bench/soak for the mix and the verdicts'
# rules), samples the server's memory every 5 s, and prints the report as
# markdown. The exit status is 1 when a verdict fails; with OUT, the
# section is written (replacing the previous one) either way.
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK=${SOAK:-10m}
RATE=${RATE:-500}
OUT=${OUT:-}
KEEP=${KEEP:-}

. bench/lib.sh

log "building"
go build -o "$work/gatehouse" ./cmd/gatehouse
(cd bench && go build -o "$work/soak" ./soak)
mkdir "$work/run"
if [ -n "$KEEP" ]; then
	mkdir -p "$KEEP"
	trap 'cp -r "$work/run/." "$KEEP/" 2>/dev/null || true; cleanup' EXIT
fi

command="SOAK=$SOAK RATE=$RATE make soak"
log "soak: $SOAK at $RATE requests/s"
status=0
"$work/soak" -gatehouse "$work/gatehouse" -dir "$work/run" -d "$SOAK" -rate "$RATE" \
	-commit "$rev$dirty" -command "$command" -md "$work/soak.md" || status=$?

if [ -n "$OUT" ] && [ -s "$work/soak.md" ]; then
	{
		# The rest of the page, without its trailing blank lines, then
		# the new section.
		[ -f "$OUT" ] && without_soak <"$OUT" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
		echo
		cat "$work/soak.md"
	} >"$work/page.md"
	mv "$work/page.md" "$OUT"
	log "wrote the Soak section of $OUT"
fi
log "done in $((SECONDS - t0))s"
exit "$status"
