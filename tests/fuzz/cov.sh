#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# cov.sh BUILD NAME... - runs each coverage-instrumented fuzz replay
# (BUILD/fuzz_NAME, built by `make fuzz-cov`) as `make fuzz` runs it and
# reports the lines of ember's own sources it reached: BUILD/NAME.txt per
# file, one summary line per target here.
set -eu
build=$1
shift
printf '%-8s %s\n' target "lines of ember reached (files it touches)"
for n in "$@"; do
	corpus=
	[ ! -d "tests/fuzz/corpus/$n" ] || corpus="tests/fuzz/corpus/$n"
	LLVM_PROFILE_FILE="$build/$n.profraw" "$build/fuzz_$n" $corpus >/dev/null
	llvm-profdata merge -o "$build/$n.profdata" "$build/$n.profraw"
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
done
