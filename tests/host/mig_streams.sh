#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Hostile live-migration streams against a real destination ember, on this
# host and without a VM (part of `make input-tests`): a fresh
# `ember --api-sock` gets PUT /migration/receive, then build/mig-hostile
# (tests/host/mig_hostile.c) connects as the source and sends garbage, a
# truncated stream, another version, an oversized length, a replay of
# another connection's stream, a damaged END, and a well-formed stream that
# does not fit the RAM it announced.  Each must be answered with an ERR
# frame saying why, the destination must end by itself with exit 2 (a
# failed start), and nothing of the stream may have run: no VM was built
# (the log never says the migration went through).  `timeout 20` turns a
# destination that waits forever into a FAIL, not a hang.
#
# Usage: tests/host/mig_streams.sh [path/to/ember] [path/to/mig-hostile]
set -u

cd "$(dirname "$0")/../.."
EMBER=$(realpath "${1:-build/ember}")
HOSTILE=$(realpath "${2:-build/mig-hostile}")
CURL=${CURL:-$(command -v curl)}

pass=0 fail=0
ok() { echo "ember-test: PASS $1"; pass=$((pass + 1)); }
bad() { echo "ember-test: FAIL $1 ${2:-}"; fail=$((fail + 1)); }

T=$(mktemp -d /tmp/ember-migstreams.XXXXXX)
PID=
cleanup() {
	[ -z "$PID" ] || kill -9 "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# stream CASE REGEX: the destination's answer and its log match REGEX.
stream() {
	local name=mig_stream_$1 re=$2 ans rc n=0
	rm -f "$T/api.sock" "$T/mig.sock"
	timeout 20 "$EMBER" --api-sock "$T/api.sock" </dev/null >"$T/log" 2>&1 &
	PID=$!
	while [ ! -S "$T/api.sock" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
	if ! "$CURL" -sf --unix-socket "$T/api.sock" -X PUT http://localhost/migration/receive \
		-H 'Content-Type: application/json' -d "{\"url\":\"unix:$T/mig.sock\"}" >/dev/null; then
		bad "$name" "PUT /migration/receive refused: $(tail -c 300 "$T/log")"
		return
	fi
	ans=$(timeout 20 "$HOSTILE" "$1" "$T/mig.sock")
	wait "$PID"
	rc=$?
	PID=
	if [ "$rc" = 124 ]; then
		bad "$name" "the destination did not end (killed after 20 s)"
	elif [ "$rc" != 2 ]; then
		bad "$name" "destination exit $rc, want 2: $(tail -c 300 "$T/log")"
	elif ! echo "$ans" | grep -Eq "^ERR .*($re)"; then
		bad "$name" "answer '$ans' is not an ERR matching /$re/"
	elif ! grep -Eq "error: migration: .*($re)" "$T/log"; then
		bad "$name" "the log does not say why: $(tail -c 300 "$T/log")"
	elif grep -q ': ok$' "$T/log"; then
		bad "$name" "the destination says the migration went through"
	else
		ok "$name"
	fi
}

stream garbage 'where 0 was due'
stream truncated 'stream cut'
stream version 'another version'
stream oversized 'too long for type'
stream replay 'frame 0: bad checksum'
stream bad-end 'frame 5: bad checksum'
stream misfit 'the snapshot needs'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
