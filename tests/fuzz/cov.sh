#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# cov.sh BUILD NAME... - runs each coverage-instrumented fuzz replay
# (BUILD/fuzz_NAME, built by `make fuzz-cov`) as `make fuzz` runs it and
# reports the lines of ember's own sources it reached: BUILD/NAME.txt per
# file, one summary line per target here, and the coverage of the files
# the target is there to exercise (meant(), below) as a Markdown table in
# BUILD/coverage.md.
#
# FUZZ_COV_CORPUS=DIR replays DIR/NAME instead of tests/fuzz/corpus/NAME
# (a campaign's corpus, tests/fuzz/campaign.sh), each input once.
set -eu
build=$1
shift

# The sources each target is for (a regular expression on llvm-cov's names).
meant() {
	case $1 in
	api) echo '^api-socket/api(_devs_route|_exec|_json|_json_dev|_json_snap)?\.c$' ;;
	arm64_image) echo '^vmm/arch/aarch64/(image|fdt)\.c$' ;;
	balloon) echo '^virtio/balloon(_config)?\.c$' ;;
	blk) echo '^virtio/blk(_config|_engine|_req)?\.c$' ;;
	config) echo '^api-socket/api_config\.c$' ;;
	http) echo '^api-socket/http\.c$' ;;
	jailer) echo '^jail/jailer_args\.c$' ;;
	loader) echo '^vmm/arch/x86_64/(loader|boot)\.c$' ;;
	fork_msg) echo '^vmm/fork_msg\.c$' ;;
	migrate) echo '^snapshot/migrate_stream\.c$' ;;
	mmds) echo '^virtio/mmds_(net|tcp|http)\.c$' ;;
	mmio) echo '^virtio/virtio_mmio\.c$' ;;
	net) echo '^virtio/net(_config)?\.c$' ;;
	snap) echo '^snapshot/(snapfile|snap_dev)\.c$' ;;
	snap_regs) echo '^snapshot/snap_regs\.c$' ;;
	uffd) echo '^snapshot/uffd\.c$' ;;
	virtq) echo '^virtio/virtq\.c$' ;;
	vsock) echo '^virtio/vsock(_client|_conn|_host|_mux|_pkt)?\.c$' ;;
	*) echo '^$' ;;
	esac
}

printf '%-8s %s\n' target "lines of ember reached (files it touches)"
{
	echo "| target | files it is for | lines covered | of | % |"
	echo "|---|---|---|---|---|"
} >"$build/coverage.md"
for n in "$@"; do
	rm -f "$build/$n".*.profraw
	if [ -n "${FUZZ_COV_CORPUS:-}" ] && [ -d "$FUZZ_COV_CORPUS/$n" ]; then
		# Files named one by one are run once each (driver.h), not mutated.
		find "$FUZZ_COV_CORPUS/$n" -type f -print0 |
			LLVM_PROFILE_FILE="$build/$n.%p.profraw" xargs -0 -r "$build/fuzz_$n" >/dev/null
	else
		corpus=
		[ ! -d "tests/fuzz/corpus/$n" ] || corpus="tests/fuzz/corpus/$n"
		LLVM_PROFILE_FILE="$build/$n.%p.profraw" "$build/fuzz_$n" $corpus >/dev/null
	fi
	# (xargs may run it more than once: one profile per process, %p.)
	llvm-profdata merge -o "$build/$n.profdata" "$build/$n".*.profraw
	# Only the files the target reached at all; tests/ and system headers out.
	llvm-cov report "$build/fuzz_$n" -instr-profile="$build/$n.profdata" \
		-ignore-filename-regex='(^|/)tests/|^/usr/' >"$build/$n.full.txt"
	awk 'NR <= 2 || ($0 ~ /^[a-z]/ && $9 != "0") || /^TOTAL/' "$build/$n.full.txt" \
		>"$build/$n.txt"
	# Lines: covered/total over the files it touched.
	awk -v n="$n" '/^[a-z-]+\/.*\.c / && $9 != $8 {
			t += $8; c += $8 - $9; f = f " " $1 }
		END { printf "%-8s %d/%d lines (%.0f%%) in%s\n", n, c, t, t ? 100 * c / t : 0, f }' \
		"$build/$n.full.txt"
	awk -v n="$n" -v re="$(meant "$n")" '$1 ~ re {
			t += $8; c += $8 - $9; f = f (f ? ", " : "") $1 }
		END { printf "| %s | %s | %d | %d | %.0f |\n", n, f, c, t, t ? 100 * c / t : 0 }' \
		"$build/$n.full.txt" >>"$build/coverage.md"
done
