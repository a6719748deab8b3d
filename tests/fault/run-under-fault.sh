#!/usr/bin/env bash
# run-under-fault.sh: runs a program with libqsock-fault.so preloaded.
#   run-under-fault.sh <libqsock-fault.so> <program> [args...]
# The fault layer is configured by the QSOCK_FAULT_* environment
# (tests/fault/README.md). Each process of the run (GTest subprocesses too)
# appends its summary line to a report; the lines are shown on stderr, and
# the run fails if the program failed or if fewer faults than
# QSOCK_FAULT_MIN_INJECTED (default 1) were injected in all: a run that
# injected nothing tested nothing.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 <libqsock-fault.so> <program> [args...]" >&2
  exit 2
fi
lib=$1
shift
program=$1
if [[ ! -f $lib ]]; then
  echo "run-under-fault: no fault library at $lib" >&2
  exit 2
fi
if [[ ! -x $program ]]; then
  echo "run-under-fault: no program at $program (build the tests first)" >&2
  exit 2
fi

report=$(mktemp "${TMPDIR:-/tmp}/qsock-fault-report.XXXXXX")
trap 'rm -f "$report"' EXIT

# A sanitizer runtime must come first in the library list: preload it
# before the fault layer when the program is linked with one.
preload=$lib
for runtime in libasan libtsan libubsan; do
  path=$(ldd "$program" 2>/dev/null | awk -v r="$runtime" '$1 ~ "^" r "\\.so" { print $3; exit }')
  if [[ -n $path ]]; then
    preload="$path:$preload"
    break
  fi
done

status=0
LD_PRELOAD="$preload${LD_PRELOAD:+:$LD_PRELOAD}" QSOCK_FAULT_REPORT=$report "$@" || status=$?

echo "run-under-fault: $(basename "$program") seed=${QSOCK_FAULT_SEED:-1}" \
  "rate=${QSOCK_FAULT_RATE:-0} kinds=${QSOCK_FAULT_KINDS:-eintr,eagain,short} exit=$status" >&2
sed 's/^/  /' "$report" >&2
total=$(awk '{ for (i = 1; i < NF; i++) if ($i == "injected") { sum += $(i + 1) } } END { print sum + 0 }' "$report")
echo "run-under-fault: $total faults injected in $(wc -l < "$report") process(es)" >&2

if [[ $status -ne 0 ]]; then
  exit "$status"
fi
if [[ $(wc -l < "$report") -eq 0 ]]; then
  echo "run-under-fault: the fault layer never reported: was it loaded?" >&2
  exit 1
fi
if [[ $total -lt ${QSOCK_FAULT_MIN_INJECTED:-1} ]]; then
  echo "run-under-fault: only $total faults injected (at least ${QSOCK_FAULT_MIN_INJECTED:-1} wanted)" >&2
  exit 1
fi
