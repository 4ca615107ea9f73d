#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# What ember does with hostile files named on its command line or by the
# API, on this host and without a VM (`make input-tests`): a FIFO nobody
# writes to, a directory, a file over the limit.  Each must be refused at
# once with a message that says why (or, where Firecracker allows a FIFO,
# accepted without waiting for a reader).  ember is run under `timeout 20`:
# a regression that blocks in open() or read() ends as exit 124, a FAIL,
# not a hang of the test run.  20 s is a bound for "never returns", not a
# timing claim: a correct refusal takes milliseconds.
#
# Usage: tests/host/inputs.sh [path/to/ember]
# Output: "ember-test: PASS|FAIL|SKIP name [why]" per test, then a summary;
# exit 0 iff nothing failed.
set -u

cd "$(dirname "$0")/../.."
EMBER=$(realpath "${1:-build/ember}")
KERNEL=$(realpath "${TRIPLEFAULT:-build/triplefault.elf}")
CURL=${CURL:-$(command -v curl)}

pass=0 fail=0 skip=0
ok() { echo "ember-test: PASS $1"; pass=$((pass + 1)); }
bad() { echo "ember-test: FAIL $1 ${2:-}"; fail=$((fail + 1)); }
skp() { echo "ember-test: SKIP $1 ${2:-}"; skip=$((skip + 1)); }

T=$(mktemp -d /tmp/ember-inputs.XXXXXX)
API_PID=
cleanup() {
	[ -z "$API_PID" ] || kill "$API_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
OUT=$T/out

mkfifo "$T/fifo"
mkdir "$T/dir"
# A file of $2 bytes (spaces: valid JSON whitespace, so only the size is wrong).
big() { head -c "$2" /dev/zero | tr '\0' ' ' >"$1"; }

# refused NAME EXIT MSG ARGS...: ember exits EXIT (not 124: it did not hang)
# and its stderr matches MSG (an extended regular expression).
refused() {
	local name=$1 want=$2 re=$3 rc
	shift 3
	timeout 20 "$EMBER" "$@" >"$OUT" 2>&1 </dev/null
	rc=$?
	if [ "$rc" = 124 ]; then
		bad "$name" "ember hung (killed after 20 s): $*"
	elif [ "$rc" != "$want" ]; then
		bad "$name" "exit $rc, want $want: $(head -c 300 "$OUT")"
	elif ! grep -Eq -- "$re" "$OUT"; then
		bad "$name" "'$(head -c 300 "$OUT")' does not match /$re/"
	else
		ok "$name"
	fi
}

# ---- the whole-file inputs (vmm/files.c's file_read_all) -------------------

refused config-fifo 1 "config-file .*fifo: not a regular file" --config-file "$T/fifo" --no-api
refused config-dir 1 "config-file .*dir: not a regular file" --config-file "$T/dir" --no-api
big "$T/config-big" $((1048576 + 1))
refused config-big 1 "config-big: larger than the limit of 1048576 bytes" \
	--config-file "$T/config-big" --no-api

refused metadata-fifo 1 "--metadata .*fifo: not a regular file" \
	--api-sock "$T/m.sock" --metadata "$T/fifo"
refused metadata-dir 1 "--metadata .*dir: not a regular file" \
	--api-sock "$T/m.sock" --metadata "$T/dir"
big "$T/meta-big" 101
refused metadata-big 1 "meta-big: larger than the limit of 100 bytes" \
	--api-sock "$T/m.sock" --mmds-size-limit 100 --metadata "$T/meta-big"

refused seccomp-fifo 1 "Filter file open error: .*fifo: not a regular file" \
	--api-sock "$T/s.sock" --seccomp-filter "$T/fifo"
refused seccomp-dir 1 "Filter file open error: .*dir: not a regular file" \
	--api-sock "$T/s.sock" --seccomp-filter "$T/dir"
big "$T/filter-big" 100001
refused seccomp-big 1 "filter-big: larger than the limit of 100000 bytes" \
	--api-sock "$T/s.sock" --seccomp-filter "$T/filter-big"

# cpu-config as a path inside a config file (api_cpu.c).
cpu_cfg() { printf '{"cpu-config":"%s"}\n' "$1" >"$T/cpu.json"; }
cpu_cfg "$T/fifo"
refused cpu-config-fifo 1 "cpu-config: .*fifo: not a regular file" --config-file "$T/cpu.json" --no-api
cpu_cfg "$T/dir"
refused cpu-config-dir 1 "cpu-config: .*dir: not a regular file" --config-file "$T/cpu.json" --no-api
big "$T/cpu-big" $((4194304 + 1))
cpu_cfg "$T/cpu-big"
refused cpu-config-big 1 "cpu-big: larger than the limit of 4194304 bytes" \
	--config-file "$T/cpu.json" --no-api

# ---- other files ember opens -----------------------------------------------

echo data >"$T/mem"
refused rebase-mem-fifo-base 1 "fifo: not a regular file" rebase-mem "$T/fifo" "$T/mem"
refused rebase-mem-fifo-diff 1 "fifo: not a regular file" rebase-mem "$T/mem" "$T/fifo"
refused describe-snapshot-fifo 1 "fifo: not a regular file" --describe-snapshot "$T/fifo"

# --console file:PATH is opened after KVM is set up: only where this host's
# /dev/kvm gets that far (a directory tells: it is refused by name).
timeout 20 "$EMBER" run --allow-kvm-pvm --kernel "$KERNEL" --console "file:$T/dir" >"$OUT" 2>&1 </dev/null
if [ ! -f "$KERNEL" ]; then
	skp console-file-dir "no $KERNEL (make build/triplefault.elf)"
	skp console-file-fifo "no $KERNEL"
elif ! grep -q "console file $T/dir: Is a directory" "$OUT"; then
	skp console-file-dir "ember does not get to the console here: $(head -c 200 "$OUT")"
	skp console-file-fifo "ember does not get to the console here"
else
	ok console-file-dir
	# A FIFO without a reader is accepted (as serial_out_path's): the guest
	# runs to its triple fault, exit 3, with nobody reading.
	refused console-file-fifo 3 "triple fault" run --allow-kvm-pvm --kernel "$KERNEL" \
		--console "file:$T/fifo"
fi

# ---- API mode ----------------------------------------------------------------

# Log and metrics to FIFOs nobody reads yet (the go-sdk's way): ember starts
# and serves; then the API refuses the files it must not wait on.
if [ -z "$CURL" ]; then
	skp api-fifo-logger "no curl"
	skp api-put-fifos "no curl"
else
	SOCK=$T/api.sock
	"$EMBER" --api-sock "$SOCK" --log-path "$T/fifo" --metrics-path "$T/fifo" >"$T/api.out" 2>&1 &
	API_PID=$!
	for _ in $(seq 200); do
		[ -S "$SOCK" ] && break
		kill -0 "$API_PID" 2>/dev/null || break
		sleep 0.1
	done
	api() { timeout 20 "$CURL" -s --unix-socket "$SOCK" -X "$1" ${3:+-d "$3"} "http://localhost$2"; }
	if api GET / | grep -q '"state":"Not started"'; then
		ok api-fifo-logger
		r1=$(api PUT /boot-source "{\"kernel_image_path\":\"$T/fifo\"}")
		r2=$(api PUT /drives/d "{\"drive_id\":\"d\",\"path_on_host\":\"$T/fifo\",\"is_root_device\":false}")
		r3=$(api PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$T/fifo\"}")
		r4=$(api PUT /snapshot/load "{\"snapshot_path\":\"$T/fifo\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$T/mem\"}}")
		r5=$(api PUT /logger "{\"log_path\":\"$T/dir\"}")
		r6=$(api PUT /pmem/p "{\"id\":\"p\",\"path_on_host\":\"$T/fifo\"}")
		r7=$(api PUT /pmem/q "{\"id\":\"q\",\"path_on_host\":\"$T/dir\"}")
		r8=$(api GET /)
		case "$r1|$r2|$r3|$r4|$r5|$r6|$r7|$r8" in
		*"kernel file cannot be opened: $T/fifo: not a regular file"*"|"*"$T/fifo: not a regular file or block device"*"|"*"$T/fifo exists and is not a socket"*"|"*"$T/fifo: not a regular file"*"|"*"Is a directory"*"|"*"pmem backing file: pmem p: $T/fifo: not a regular file"*"|"*"pmem q: $T/dir"*"|"*'"state":"Not started"'*)
			ok api-put-fifos ;;
		*) bad api-put-fifos "$r1 | $r2 | $r3 | $r4 | $r5 | $r6 | $r7 | $r8" ;;
		esac
	else
		bad api-fifo-logger "no API: $(head -c 300 "$T/api.out")"
		skp api-put-fifos "no API"
	fi
	kill "$API_PID" 2>/dev/null
	wait "$API_PID" 2>/dev/null
	API_PID=
fi

echo "ember-test: $skip skipped"
echo "ember-test: $pass passed, $fail failed"
[ "$fail" = 0 ]
