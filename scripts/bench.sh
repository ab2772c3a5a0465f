#!/usr/bin/env bash
# `make bench` and `make soak` (issue 6).
#
#   scripts/bench.sh bench   Go benchmarks (-benchmem), then the end-to-end load comparison of
#                            plain Caddy and the sidecar, interleaved per round (A B C D, then
#                            B A D C); prints
#                            the table, ratios and budgets and writes BENCHMARKS.md.
#   scripts/bench.sh instructions
#                            the same four proxies one at a time under callgrind (valgrind),
#                            one client: the instructions each spends per request in user
#                            space, GC off — a count the rest of the machine does not move.
#   scripts/bench.sh soak    the sidecar under load for 5 minutes with 10,000 distinct segment
#                            sets and 1,000 distinct query texts, RSS sampled every 10 s, after
#                            30 s of plain Caddy under the same traffic for its RSS; the result
#                            goes into BENCHMARKS.md's soak section.
#
# Environment: QUICK=1 (short runs: under a minute for bench, 30 s soak); ROUNDS, DURATION,
# WARMUP, CONCURRENCY, FIXED_RATE, FIXED_ROUNDS, FIXED_DURATION, SOAK_DURATION, SOAK_EVERY,
# SOAK_PLAIN_DURATION override the settings;
# CADDY_BIN / DEMOSTORE_BIN use prebuilt binaries instead of building bin/caddy and
# bin/demostore; SHARED_DIR locates the Venia fixtures; BENCH_OUT holds raw results and logs
# (default bin/bench).
#
# Everything runs on loopback: bin/demostore only while responses are recorded, then
# bin/fixedupstream (the recorded bytes) behind every Caddy, and bin/loadgen in front.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-bench}
case "$mode" in bench | soak | instructions) ;; *)
	echo "usage: $0 bench|soak|instructions" >&2
	exit 2
	;;
esac

GO=${GO:-go}
QUICK=${QUICK:-}
[ "$QUICK" = 0 ] && QUICK=
OUT=${BENCH_OUT:-bin/bench}
RULES=scripts/bench/rules.json
CONCURRENCY=${CONCURRENCY:-32}
# The paced comparison: a rate every variant keeps with room to spare on 2 CPUs (the rewrite
# saturates at 4,000–6,000 req/s here).
FIXED_RATE=${FIXED_RATE:-2000}
if [ -n "$QUICK" ]; then
	ROUNDS=${ROUNDS:-4} DURATION=${DURATION:-1500ms} WARMUP=${WARMUP:-500ms}
	FIXED_ROUNDS=${FIXED_ROUNDS:-2} FIXED_DURATION=${FIXED_DURATION:-1500ms}
	SOAK_DURATION=${SOAK_DURATION:-30s} SOAK_EVERY=${SOAK_EVERY:-5s} SOAK_PLAIN_DURATION=${SOAK_PLAIN_DURATION:-10s}
	GO_BENCH_ARGS=(-benchtime=100x ./internal/membership ./internal/cartql ./rules)
else
	ROUNDS=${ROUNDS:-8} DURATION=${DURATION:-8s} WARMUP=${WARMUP:-2s}
	FIXED_ROUNDS=${FIXED_ROUNDS:-6} FIXED_DURATION=${FIXED_DURATION:-5s}
	SOAK_DURATION=${SOAK_DURATION:-5m} SOAK_EVERY=${SOAK_EVERY:-10s} SOAK_PLAIN_DURATION=${SOAK_PLAIN_DURATION:-30s}
	GO_BENCH_ARGS=(./...)
fi

# The shopper of variant C: in the audiences of the two rules that apply (VIP 20%, and
# "Welcome back: $10 off" on a subtotal of 50 or more). Every variant sends the same header.
SEG_VIP=6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01
SEG_LAPSED=3b8f6e21-7c4d-4e9a-b1f2-5a6d7c8e9f03
SHOPPER="aep-segments-membership: $SEG_VIP%2C$SEG_LAPSED"
RULE_LABELS=('"VIP 20%"' '"Welcome back: $10 off"')

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${load_before%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
	echo "bench: warning: load average $load_before on $(nproc) CPUs before the run; other work will add noise" >&2
fi
run_dir=$OUT/run
rm -rf "$run_dir"
mkdir -p "$run_dir"

pids=()
stop_all() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*" >&2; }
die() {
	echo "bench: $*" >&2
	exit 1
}

# --- build -----------------------------------------------------------------------------------

say "build"
if [ -z "${CADDY_BIN:-}" ]; then
	$GO build -o bin/caddy ./cmd/caddy
	CADDY_BIN=bin/caddy
fi
if [ -z "${DEMOSTORE_BIN:-}" ]; then
	$GO build -o bin/demostore ./cmd/demostore
	DEMOSTORE_BIN=bin/demostore
fi
for tool in loadgen fixedupstream benchrecord benchreport; do
	$GO build -o "bin/$tool" "./bench/$tool"
done
caddy_version=$("$CADDY_BIN" version)
binaries="built from this tree"
[ "$CADDY_BIN" = bin/caddy ] && [ "$DEMOSTORE_BIN" = bin/demostore ] || binaries="prebuilt: CADDY_BIN=$CADDY_BIN DEMOSTORE_BIN=$DEMOSTORE_BIN"

# --- helpers ---------------------------------------------------------------------------------

# find_fixture prints the Venia fixture path: $SHARED_DIR, or shared/ here or in a parent.
find_fixture() {
	local rel=fixtures/clients/venia-cart-operations.json dir
	if [ -n "${SHARED_DIR:-}" ]; then
		echo "$SHARED_DIR/$rel"
		return
	fi
	dir=$PWD
	while :; do
		[ -f "$dir/shared/$rel" ] && echo "$dir/shared/$rel" && return
		[ "$dir" = / ] && die "no shared/$rel found; set SHARED_DIR"
		dir=$(dirname "$dir")
	done
}

declare -A port pid
used_ports=" "
# pick_port NAME sets port[NAME] to a loopback port nobody listens on (and not handed out yet).
pick_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30000))
		case "$used_ports" in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			used_ports+="$p "
			port[$1]=$p
			return
		fi
	done
	die "no free port"
}

# stop_pid PID...: stops processes started here and forgets them.
stop_pid() {
	local p keep=()
	kill "$@" 2>/dev/null || true
	for p in "$@"; do wait "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		case " $* " in *" $p "*) ;; *) keep+=("$p") ;; esac
	done
	pids=("${keep[@]}")
}

# listen_addr waits for "<name>: listening on ADDR" in a log and prints ADDR.
listen_addr() {
	local log=$1 pid=$2 addr
	for _ in $(seq 1 200); do
		addr=$(sed -n 's/.*: listening on \(.*\)$/\1/p' "$log" | head -1)
		[ -n "$addr" ] && echo "$addr" && return
		kill -0 "$pid" 2>/dev/null || die "$(basename "$log" .log) exited: $(tail -5 "$log")"
		sleep 0.05
	done
	die "$log: no listening line"
}

# wait_ready polls URL until it answers 200 (READY_TRIES times, every 0.1 s).
READY_TRIES=200
wait_ready() {
	local url=$1 pid=$2 log=$3
	for _ in $(seq 1 "$READY_TRIES"); do
		curl -fsS -o /dev/null "$url" 2>/dev/null && return
		kill -0 "$pid" 2>/dev/null || die "process $pid exited: $(tail -5 "$log")"
		sleep 0.1
	done
	die "$url did not become ready"
}

# start_caddy VARIANT UPSTREAM: picks the variant's port, writes its Caddyfile (admin off,
# automatic HTTPS off, logs to a file; the audiences handler for the sidecar variants B, C and
# V) and starts bin/caddy with GOMAXPROCS unset, under the command in CADDY_WRAP if any.
# Sets pid[VARIANT] and caddy_pid.
CADDY_WRAP=()
start_caddy() {
	local name=$1 upstream=$2 dir=$run_dir/caddy-$1 block="" listen
	pick_port "$name"
	listen=${port[$name]}
	mkdir -p "$dir"
	if [[ $name == [BCV] ]]; then
		block=$(printf '\taudiences {\n\t\trules %s\n\t\ttax_rate "US-CA-*-Rate 1" 8.25\n\t}' "$PWD/$RULES")
	fi
	cat >"$dir/Caddyfile" <<EOF
{
	admin off
	auto_https off
	persist_config off
	storage file_system $dir/data
	log {
		output file $dir/caddy.log
	}
}

http://127.0.0.1:$listen {
$block
	reverse_proxy $upstream
}
EOF
	env -u GOMAXPROCS HOME="$dir" XDG_DATA_HOME="$dir" XDG_CONFIG_HOME="$dir" \
		"${CADDY_WRAP[@]}" "$CADDY_BIN" run --config "$dir/Caddyfile" --adapter caddyfile >"$dir/stdout.log" 2>&1 &
	caddy_pid=$!
	pid[$name]=$caddy_pid
	pids+=("$caddy_pid")
	wait_ready "http://127.0.0.1:$listen$(cat "$rec/nocart.path")" "$caddy_pid" "$dir/stdout.log"
}

# paths_of VARIANT prints the file of request paths the variant is asked for: the product
# search for A and B, the cart page for C and D.
paths_of() { case $1 in A | B) echo "$rec/nocart.path" ;; *) echo "$rec/cart.path" ;; esac; }

# fetch URL OUT: GET with the shopper's headers; fails on a status other than 200.
fetch() {
	local code
	code=$(curl -sS -o "$2" -w '%{http_code}' -H "$SHOPPER" -H 'Store: default' "$1")
	[ "$code" = 200 ] || die "GET $1: status $code: $(head -c 300 "$2")"
}

# --- record the demo store's answers ---------------------------------------------------------

say "record demo store responses (20-line cart, Venia cart page query)"
rec=$run_dir/recorded
"$DEMOSTORE_BIN" -listen 127.0.0.1:0 >"$run_dir/demostore.log" 2>&1 &
store_pid=$!
pids+=("$store_pid")
store_addr=$(listen_addr "$run_dir/demostore.log" "$store_pid")
bin/benchrecord -store "http://$store_addr" -fixture "$(find_fixture)" -out "$rec" \
	-lines 20 -soak-queries 1000 -soak-segments 10000 -soak-audiences "$SEG_VIP,$SEG_LAPSED"

bin/fixedupstream -dir "$rec" -listen 127.0.0.1:0 >"$run_dir/fixedupstream.log" 2>&1 &
fixed_pid=$!
pids+=("$fixed_pid")
fixed_addr=$(listen_addr "$run_dir/fixedupstream.log" "$fixed_pid")

# --- instructions per request ----------------------------------------------------------------

if [ "$mode" = instructions ]; then
	command -v callgrind_control >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
	WARM=${WARM:-300} REQUESTS=${REQUESTS:-1000}
	[ -n "$QUICK" ] && WARM=50 REQUESTS=200
	# send VARIANT PATHFILE N: asks the variant's Caddy for the path N times, as the
	# shopper of make bench, over one connection; answers discarded.
	send() {
		local url="http://127.0.0.1:${port[$1]}$(cat "$2")"
		for _ in $(seq 1 "$3"); do printf 'url = "%s"\noutput = /dev/null\n' "$url"; done |
			curl -sS -H "$SHOPPER" -H 'Store: default' -K -
	}
	out=$OUT/instructions.md
	printf '| Variant | What | instructions per request |\n|---|---|--:|\n' >"$out"
	declare -A per
	READY_TRIES=1200 # valgrind starts Caddy in seconds, not milliseconds
	for v in A B C D; do
		paths=$(paths_of "$v")
		# Go's asynchronous preemption signals trip callgrind; GC off: the count is the
		# request's own work, not when the collector happens to run.
		CADDY_WRAP=(env GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind
			"--callgrind-out-file=$run_dir/callgrind.$v.out")
		start_caddy "$v" "$fixed_addr"
		send "$v" "$paths" "$WARM" || die "variant $v: warm-up failed"
		callgrind_control -z "$caddy_pid" >/dev/null 2>&1
		send "$v" "$paths" "$REQUESTS" || die "variant $v: requests failed"
		callgrind_control -d "$caddy_pid" >/dev/null 2>&1
		stop_pid "$caddy_pid"
		total=$(sed -n 's/^\(summary\|totals\): *//p' "$run_dir/callgrind.$v.out.1" | head -1)
		[ -n "$total" ] || die "variant $v: no callgrind totals in $run_dir/callgrind.$v.out.1"
		per[$v]=$((total / REQUESTS))
		echo "$v: ${per[$v]} instructions per request" >&2
	done
	{
		printf '| A | plain reverse_proxy, product search | %s |\n' "${per[A]}"
		printf '| B | audiences, same product search (pass-through) | %s |\n' "${per[B]}"
		printf '| C | audiences, 20-line cart page (rewrite) | %s |\n' "${per[C]}"
		printf '| D | plain reverse_proxy, same cart page | %s |\n\n' "${per[D]}"
		awk -v a="${per[A]}" -v b="${per[B]}" -v c="${per[C]}" -v d="${per[D]}" 'BEGIN {
			printf "B/A %.3f× (+%d a request), C/D %.3f× (+%d a request).\n\n", b / a, b - a, c / d, c - d }'
		printf 'Command: `make instructions%s` (callgrind, %s warm-up requests then %s counted, one client, GOGC=off), %s, source %s, Caddy %s.\n' \
			"${QUICK:+ QUICK=1}" "$WARM" "$REQUESTS" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$binaries"
	} >>"$out"
	cat "$out"
	exit 0
fi

# --- the proxies -----------------------------------------------------------------------------

proxies="A B C D"
[ "$mode" = soak ] && proxies="C D"
for v in $proxies; do start_caddy "$v" "$fixed_addr"; done
start_caddy V "$store_addr"

# --- check that every variant answers what it should ----------------------------------------

say "verify responses"
check=$run_dir/check
mkdir -p "$check"
fetch "http://127.0.0.1:${port[V]}$(cat "$rec/cart.path")" "$check/V"
fetch "http://127.0.0.1:${port[C]}$(cat "$rec/cart.path")" "$check/C"
cmp -s "$check/C" "$check/V" || die "the sidecar's cart answer over the fixed upstream differs from its answer over the demo store ($check)"
for label in "${RULE_LABELS[@]}"; do
	grep -qF "\"label\":$label" "$check/C" || die "variant C: rule $label did not apply"
done
! grep -q _aud_ "$check/C" || die "variant C: hidden fields leaked"
fetch "http://127.0.0.1:${port[D]}$(cat "$rec/cart.path")" "$check/D"
cmp -s "$check/D" "$rec/cart.json" || die "variant D does not serve the recorded cart answer"
if [ "$mode" = bench ]; then
	for v in A B; do
		fetch "http://127.0.0.1:${port[$v]}$(cat "$rec/nocart.path")" "$check/$v"
		cmp -s "$check/$v" "$rec/nocart.json" || die "variant $v does not serve the recorded product search"
	done
fi
echo "C over the fixed upstream = C over the demo store ($(wc -c <"$check/C") bytes, rules applied: ${RULE_LABELS[*]})" >&2
# The demo store and its sidecar are not needed under load.
stop_pid "${pid[V]}" "$store_pid"

# loadgen VARIANT PATHFILE ROUND ARGS...: one run against a variant's Caddy; the fixed
# upstream's CPU over the same window is read too (the same work for every variant: a
# measure of how fast the machine ran in that window).
loadgen() {
	local v=$1 paths=$2 round=$3
	shift 3
	bin/loadgen -target "http://127.0.0.1:${port[$v]}" -paths "$paths" \
		-H "$SHOPPER" -H 'Store: default' -c "$CONCURRENCY" -warmup "$WARMUP" \
		-pid "${pid[$v]}" -ref-pid "$fixed_pid" -label "$v" -round "$round" -json "$@"
}

# steal BEFORE AFTER: the share of CPU time stolen between two "cpu" lines of /proc/stat
# (cpu user nice system idle iowait irq softirq steal ...): time this VM wanted to run but the
# host ran something else, which slows every variant of a run unevenly.
steal() {
	echo "$1 $2" | awk '{
		n = NF / 2 # fields per line
		for (i = 2; i <= 9; i++) { before += $i; after += $(i + n) }
		total = after - before
		if (total <= 0) { print "unknown"; exit }
		printf "%.1f%%\n", 100 * ($(9 + n) - $9) / total
	}'
}

machine() {
	printf -- '- Machine: %s CPUs (`nproc`), %s, %s memory, %s\n' "$(nproc)" \
		"$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" \
		"$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" "$(uname -sr)"
	printf -- '- Load average (1, 5, 15 min): %s before, %s after\n' "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf -- '- CPU time the hypervisor gave to others (steal) during the load comparison: %s\n' "$(steal "$cpu_before" "$cpu_after")"
	printf -- '- Go: %s\n- Caddy: %s (`bin/caddy version`), %s\n' "$($GO version)" "$caddy_version" "$binaries"
	printf -- '- Source: %s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' 2>/dev/null || echo ' with uncommitted changes')"
}

# replace_section FILE MARKER CONTENTFILE: puts CONTENTFILE between <!-- MARKER --> and
# <!-- /MARKER --> in FILE, appending the section when FILE has none.
replace_section() {
	local file=$1 marker=$2 content=$3 tmp
	tmp=$(mktemp)
	{
		echo "<!-- $marker -->"
		cat "$content"
		echo "<!-- /$marker -->"
	} >"$tmp.section"
	if [ -f "$file" ] && grep -q "<!-- $marker -->" "$file"; then
		awk -v start="<!-- $marker -->" -v end="<!-- /$marker -->" -v sec="$tmp.section" '
			$0 == start { while ((getline line < sec) > 0) print line; skip = 1; next }
			$0 == end { skip = 0; next }
			!skip' "$file" >"$tmp"
		mv "$tmp" "$file"
	else
		[ -f "$file" ] && echo >>"$file"
		cat "$tmp.section" >>"$file"
	fi
	rm -f "$tmp" "$tmp.section"
}

# --- soak ------------------------------------------------------------------------------------

if [ "$mode" = soak ]; then
	soak_args=(1 -warmup 0s -header-values "aep-segments-membership=$rec/soak-segments.txt")
	say "plain Caddy under the soak's traffic for $SOAK_PLAIN_DURATION (RSS reference)"
	loadgen D "$rec/soak-paths.txt" "${soak_args[@]}" -d "$SOAK_PLAIN_DURATION" -rss-every 250ms >"$OUT/soak-plain.json"
	stop_pid "${pid[D]}"
	say "soak: $SOAK_DURATION on the sidecar, 10,000 segment sets, 1,000 query texts, RSS every $SOAK_EVERY"
	loadgen C "$rec/soak-paths.txt" "${soak_args[@]}" -d "$SOAK_DURATION" -rss-every "$SOAK_EVERY" >"$OUT/soak.json"
	say "soak result"
	bin/benchreport -soak "$OUT/soak.json" -plain "$OUT/soak-plain.json" -markdown "$OUT/soak.md"
	{
		cat "$OUT/soak.md"
		printf 'Command: `make soak%s`, %s, on %s.\n\n' "${QUICK:+ QUICK=1}" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc) CPUs"
	} >"$OUT/soak-section.md"
	replace_section BENCHMARKS.md soak "$OUT/soak-section.md"
	echo "soak section written to BENCHMARKS.md ($(($(date +%s) - started)) s)" >&2
	exit 0
fi

# --- Go benchmarks ---------------------------------------------------------------------------

say "go test -run '^\$' -bench . -benchmem ${GO_BENCH_ARGS[*]}"
go_bench_status=0
CADDY_BIN=$CADDY_BIN DEMOSTORE_BIN=$DEMOSTORE_BIN \
	$GO test -run '^$' -bench . -benchmem "${GO_BENCH_ARGS[@]}" 2>&1 | tee "$OUT/go-bench.txt" || go_bench_status=$?
[ "$go_bench_status" = 0 ] || echo "bench: go test -bench failed (status $go_bench_status); continuing with the load comparison" >&2

# --- load comparison -------------------------------------------------------------------------

# rounds N OUT ARGS...: N interleaved rounds of the four variants, each one loadgen run with
# ARGS, results appended to OUT. Odd rounds run A B C D, even rounds B A D C: the two
# variants of a ratio always run next to each other, and neither always runs first, so a
# machine that gets busier (or quieter) over a round does not favour one side of a ratio.
rounds() {
	local n=$1 out=$2 round v order
	shift 2
	: >"$out"
	for round in $(seq 1 "$n"); do
		order="A B C D"
		[ $((round % 2)) = 0 ] && order="B A D C"
		for v in $order; do
			loadgen "$v" "$(paths_of "$v")" "$round" "$@" >>"$out"
		done
	done
}

say "load: $ROUNDS rounds of A B C D (B A D C in even rounds), $CONCURRENCY clients, $WARMUP warm-up + $DURATION each"
results=$OUT/load.jsonl
cpu_before=$(head -1 /proc/stat)
rounds "$ROUNDS" "$results" -d "$DURATION" -rss-every 100ms
cpu_after=$(head -1 /proc/stat)

say "CPU at a fixed rate: $FIXED_ROUNDS rounds as above, $FIXED_RATE req/s, 1s warm-up + $FIXED_DURATION each"
fixed=$OUT/fixed.jsonl
rounds "$FIXED_ROUNDS" "$fixed" -rate "$FIXED_RATE" -warmup 1s -d "$FIXED_DURATION"
stop_all

say "results"
bin/benchreport -load "$results" -fixed "$fixed" -gobench "$OUT/go-bench.txt" -augment "$rec/augment.json" -markdown "$OUT/load.md"

command="make bench${QUICK:+ QUICK=1}"
{
	printf '# Benchmarks\n\nWritten by `%s` (`scripts/bench.sh`) on %s.%s\n\n' "$command" "$(date -u '+%Y-%m-%d %H:%M UTC')" \
		"${QUICK:+ QUICK run: short runs and 100 iterations per Go benchmark, indicative only.}"
	machine
	printf -- '- Load: %s rounds, A B C D in odd rounds and B A D C in even ones, `bin/loadgen -c %s -warmup %s -d %s`, every Caddy with GOMAXPROCS unset, admin off, automatic HTTPS off, logs to a file; loadgen, Caddy and the fixed upstream share the machine\n' \
		"$ROUNDS" "$CONCURRENCY" "$WARMUP" "$DURATION"
	printf -- '- CPU at a fixed rate: %s rounds, same order, `bin/loadgen -c %s -rate %s -warmup 1s -d %s`\n' \
		"$FIXED_ROUNDS" "$CONCURRENCY" "$FIXED_RATE" "$FIXED_DURATION"
	printf -- '- Upstream: `bin/fixedupstream` serving the demo store'"'"'s recorded answers (20-line cart with coupon and shipping; product search); the sidecar'"'"'s answer over it is checked byte for byte against its answer over the demo store before the load\n'
	printf -- '- Rules: `%s` (10 rules; the shopper of C is in the audiences of two that apply: VIP 20%% and $10 off)\n' "$RULES"
	printf -- '- Go benchmarks: `go test -run '"'"'^$'"'"' -bench . -benchmem %s`%s\n\n' "${GO_BENCH_ARGS[*]}" \
		"$([ "$go_bench_status" = 0 ] || echo " (FAILED with status $go_bench_status: see $OUT/go-bench.txt)")"
	cat "$OUT/load.md"
} >"$OUT/BENCHMARKS.new.md"
if [ -f BENCHMARKS.md ] && grep -q '<!-- soak -->' BENCHMARKS.md; then
	awk '/^<!-- soak -->$/ {p = 1} p' BENCHMARKS.md >"$OUT/soak-section.kept"
	cat "$OUT/soak-section.kept" >>"$OUT/BENCHMARKS.new.md"
fi
mv "$OUT/BENCHMARKS.new.md" BENCHMARKS.md
echo "BENCHMARKS.md written; raw results in $OUT ($(($(date +%s) - started)) s)" >&2
[ "$go_bench_status" = 0 ]
