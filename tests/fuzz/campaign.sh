#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# campaign.sh [NAME...] - a libFuzzer campaign (`make fuzz-long`), counted in
# CPU time: the machine is shared, so the fuzzer runs at nice 19 and gets
# only idle CPU, and libFuzzer's -max_total_time (wall time) would say
# nothing about how much fuzzing a target had.  Each target (all built ones
# by default, the least fuzzed first according to the ledger) runs until its
# process has used FUZZ_CPU_MINUTES of CPU (utime+stime, /proc/PID/stat), it
# crashes, or FUZZ_STOP_AT (a time of day, UTC, or "") comes.
#
#   corpus   $FUZZ_CACHE/NAME, kept between runs and sessions (seeded from
#            tests/fuzz/corpus/NAME and the target's built-in seeds)
#   crashes  copied to tests/fuzz/corpus/NAME/crash-* (fix, then keep them:
#            `make fuzz` replays them as regressions)
#   ledger   one line per run appended to $FUZZ_LEDGER, so CPU-minutes add
#            up across sessions
#
# `campaign.sh --seeds NAME...` instead merges (-merge=1) what the cache
# has beyond tests/fuzz/corpus/NAME into it: inputs of at most
# FUZZ_SEED_MAX_LEN bytes that reach new edges (-use_counters=0: hit counts
# would keep hundreds more), small seeds `make fuzz` replays quickly.
# (Edit this file by replacing it, mv: a running campaign's bash reads it.)
set -u
cd "$(dirname "$0")/../.."

LF=${FUZZ_LF_BUILD:-build-lf}
GCC_BUILD=${FUZZ_GCC_BUILD:-build}
CACHE=${FUZZ_CACHE:-$HOME/.cache/ember/fuzz-corpus}
LEDGER=${FUZZ_LEDGER:-tests/fuzz/CAMPAIGN.md}
CPU_MIN=${FUZZ_CPU_MINUTES:-30}
STOP_AT=${FUZZ_STOP_AT:-}
SEED_MAX_LEN=${FUZZ_SEED_MAX_LEN:-512}
TICK=$(getconf CLK_TCK)

# The CPU ticks (user + system) process $1 has used so far.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# Fields after the ")" that ends the command name: utime is the 12th.
	set -- ${stat##*) }
	echo $((${12} + ${13}))
}

# The ticks of this shell's waited-for children (cutime + cstime): exact
# for a fuzzer that has exited, which /proc/PID/stat no longer shows.
children_ticks() {
	local stat
	stat=$(cat /proc/$$/stat)
	set -- ${stat##*) }
	echo $((${14} + ${15}))
}

# CPU-minutes the ledger already holds for target $1.
ledger_minutes() {
	[ -f "$LEDGER" ] || { echo 0; return; }
	awk -F'|' -v n="$1" '$3 ~ "^ *"n" *$" { s += $4 } END { printf "%.1f\n", s }' "$LEDGER"
}

ledger_init() {
	[ -f "$LEDGER" ] && return
	cat >"$LEDGER" <<'EOF'
# The fuzzing campaign's ledger

`make fuzz-long` (tests/fuzz/campaign.sh) appends one line per libFuzzer
run: CPU-minutes of the fuzzer process (not wall time: it runs at nice 19 on
a shared machine), the cumulative CPU-minutes of that target, executions,
libFuzzer's coverage (cov: edges, ft: features) and corpus size at the end,
and crashes (their inputs go to tests/fuzz/corpus/NAME/).

| date (UTC) | target | CPU-min | total CPU-min | execs | cov | ft | corpus | crashes | end |
|---|---|---|---|---|---|---|---|---|---|
EOF
}

targets() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@"
		return
	fi
	for f in "$LF"/fuzz_*; do
		[ -x "$f" ] || continue
		n=${f##*/fuzz_}
		echo "$(ledger_minutes "$n") $n"
	done | sort -n -s -k1,1 | cut -d' ' -f2
}

seed() {
	local n=$1 dir=$CACHE/$1
	mkdir -p "$dir"
	[ ! -x "$GCC_BUILD/fuzz_$n" ] || "$GCC_BUILD/fuzz_$n" --write-seeds "$dir" >/dev/null 2>&1 || true
	[ ! -d "tests/fuzz/corpus/$n" ] || cp -n tests/fuzz/corpus/"$n"/* "$dir"/ 2>/dev/null || true
}

stop_epoch() {
	[ -n "$STOP_AT" ] || { echo 0; return; }
	date -u -d "$STOP_AT" +%s
}

run_one() {
	local n=$1 dir=$CACHE/$1 log=$CACHE/$1.log art=$CACHE/$1.crashes/
	local limit stop pid t0 t end=cpu crashes=0
	limit=$(awk -v m="$CPU_MIN" -v k="$TICK" 'BEGIN { printf "%d", m * 60 * k }')
	seed "$n"
	mkdir -p "$art"
	stop=$(stop_epoch)
	t0=$(children_ticks)
	# -timeout: an input that runs 10 s is a hang, reported like a crash.
	nice -n 19 "$LF/fuzz_$n" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art" "$dir" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		t=$(cpu_ticks "$pid") || break
		if [ "$stop" != 0 ] && [ "$(date +%s)" -ge "$stop" ]; then
			end=deadline
			kill -INT "$pid"
			break
		fi
		if [ "$t" -ge "$limit" ]; then
			kill -INT "$pid"
			break
		fi
	done
	wait "$pid"
	local rc=$?
	t=$(($(children_ticks) - t0))
	if grep -qE '^==[0-9]+==.*(ERROR|deadly signal)|^SUMMARY: |libFuzzer: (timeout|out-of-memory)' "$log"; then
		end=crash
	elif [ "$end" = cpu ] && [ "$t" -lt "$limit" ] && [ "$rc" != 0 ] && [ "$rc" != 130 ] && [ "$rc" != 72 ]; then
		end="exit $rc"
	fi
	mkdir -p "tests/fuzz/corpus/$n"
	for c in "$art"*; do
		[ -f "$c" ] || continue
		cp "$c" "tests/fuzz/corpus/$n/" && crashes=$((crashes + 1))
		mv "$c" "$c.seen"
	done
	rmdir "tests/fuzz/corpus/$n" 2>/dev/null || true
	local execs cov ft corp last
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E ' cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(ls "$dir" | wc -l)
	local mins total
	mins=$(awk -v t="$t" -v k="$TICK" 'BEGIN { printf "%.1f", t / k / 60 }')
	total=$(awk -v a="$(ledger_minutes "$n")" -v b="$mins" 'BEGIN { printf "%.1f", a + b }')
	ledger_init
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$(date -u '+%Y-%m-%d %H:%M')" "$n" "$mins" "$total" "${execs:-?}" "${cov:-?}" \
		"${ft:-?}" "$corp" "$crashes" "$end" >>"$LEDGER"
	echo "campaign: $n: $mins CPU-min (total $total), ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, $crashes crash(es), $end"
	[ "$end" != deadline ]
}

merge_seeds() {
	local n=$1 dst=tests/fuzz/corpus/$1 before
	[ -d "$CACHE/$n" ] || { echo "campaign: no corpus for $n in $CACHE" >&2; return 1; }
	mkdir -p "$dst"
	before=$(ls "$dst" | wc -l)
	nice -n 19 "$LF/fuzz_$n" -merge=1 -use_counters=0 -max_len="$SEED_MAX_LEN" "$dst" "$CACHE/$n" \
		>"$CACHE/$n.merge.log" 2>&1 || { tail -5 "$CACHE/$n.merge.log" >&2; return 1; }
	echo "campaign: $n: $(($(ls "$dst" | wc -l) - before)) seed(s) added to $dst"
}

if [ "${1:-}" = --seeds ]; then
	shift
	for n in "$@"; do merge_seeds "$n" || exit 1; done
	exit 0
fi
mkdir -p "$CACHE"
for n in $(targets "$@"); do
	[ -x "$LF/fuzz_$n" ] || { echo "campaign: no $LF/fuzz_$n" >&2; exit 1; }
	run_one "$n" || break
done
