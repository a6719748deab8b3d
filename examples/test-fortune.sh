#!/usr/bin/env bash
# test-fortune.sh: runs the fortune examples against each other and against
# Qt (PyQt6), checking that each fortune arrives intact, byte for byte.
#
#   test-fortune.sh c|qt|python|gjs|vala FORTUNE_SERVER FORTUNE_CLIENT \
#                   BLOCKING_FORTUNE_CLIENT [VALA_FORTUNE_CLIENT]
#
# One language per run, so each can skip on its own: exit 0 when every
# check passed, 1 when one failed, 77 (skip) with the reason only when the
# language's runtime (PyQt6, PyGObject, gjs, valac) is missing. The
# environment (GI_TYPELIB_PATH, LD_LIBRARY_PATH, PYTHONPATH) comes from
# examples/meson.build.
set -euo pipefail

mode=$1
c_server=$2
c_client=$3
c_blocking_client=$4
vala_client=${5:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3

# Fortunes are compared as UTF-8 text; messages are checked in English.
export LC_ALL=C.UTF-8
unset LANGUAGE
export QT_QPA_PLATFORM=offscreen

# Astral-plane characters (surrogate pairs in UTF-16), combining marks,
# right-to-left text, CJK; a fortune big enough to arrive in many reads.
fortunes=(
  "Grüße, Welt! Ünïcödé fortune ☃ — 𝄞 🎉"
  "日本語のフォーチュン: 七転び八起き"
  "שלום עולם · Привет, мир · "$'e\u0301'" ﬁ"
)
big=$(printf 'Große Wörter, kleine Taten 🎲 %.0s' {1..2500})

work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

count=0
failures=0
ok() { count=$((count + 1)); echo "ok $count - $*"; }
not_ok() { count=$((count + 1)); failures=$((failures + 1)); echo "not ok $count - $*"; }
note() { sed 's/^/# /' "$@"; }
skip_all() { echo "1..0 # SKIP $*"; exit 77; }

# start_server NAME COMMAND...: starts a fortune server that prints
# "listening on ADDR:PORT" and sets $port.
start_server() {
  local name=$1 fd banner=""
  shift
  rm -f "$work/server.out"
  mkfifo "$work/server.out"
  timeout -k 5 120 "$@" >"$work/server.out" 2>"$work/$name.err" &
  pids+=("$!")
  exec {fd}<"$work/server.out"
  read -r -t 20 -u "$fd" banner || true
  exec {fd}<&-
  port=${banner##*:}
  if [[ $banner != "listening on "* ]]; then
    echo "# $name did not start: '$banner'"
    note "$work/$name.err"
    return 1
  fi
}

# check NAME EXPECTED_STDOUT COMMAND...: runs a client (60 s at most) and
# checks that it exits 0 having printed exactly EXPECTED_STDOUT.
check() {
  local name=$1 expected=$2 status=0
  shift 2
  timeout -k 5 60 "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
  if [[ $status != 0 ]]; then
    not_ok "$name: exit status $status"
    note "$work/err"
  elif [[ $(cat "$work/out"; echo .) != "$expected"$'\n.' ]]; then
    not_ok "$name: wrong fortune"
    echo "# expected: ${expected:0:200}"
    echo "# got:      $(head -c 200 "$work/out")"
  else
    ok "$name"
  fi
}

# check_fails NAME STDERR_PATTERN COMMAND...: the client must exit 1 and
# say STDERR_PATTERN.
check_fails() {
  local name=$1 pattern=$2 status=0
  shift 2
  timeout -k 5 60 "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
  if [[ $status != 1 ]]; then
    not_ok "$name: exit status $status, expected 1"
    note "$work/err"
  elif ! grep -qF -- "$pattern" "$work/err"; then
    not_ok "$name: stderr lacks '$pattern'"
    note "$work/err"
  else
    ok "$name"
  fi
}

# A server of no language in particular: sends the QString block in
# small pieces with pauses between them, so a client sees it arrive
# partially (a transaction must roll back, an exact read must wait), or,
# with --truncate, closes half-way.
cat >"$work/trickle_server.py" <<'EOF'
import argparse, socket, struct, sys, time
p = argparse.ArgumentParser()
p.add_argument('--fortune', required=True)
p.add_argument('--count', type=int, default=1)
p.add_argument('--truncate', action='store_true')
a = p.parse_args()
text = a.fortune.encode('utf-16-be')
block = struct.pack('>I', len(text)) + text
if a.truncate:
    block = block[:4 + len(text) // 2]
listener = socket.create_server(('127.0.0.1', 0))
print('listening on 127.0.0.1:%d' % listener.getsockname()[1], flush=True)
for _ in range(a.count):
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for piece in (block[:1], block[1:3], block[3:6], block[6:len(block) // 2], block[len(block) // 2:]):
        if piece:
            conn.sendall(piece)
            time.sleep(0.05)
    conn.close()
EOF

# Server commands, each an array; against() adds --fortune and --count 1.
trickle=("$python" "$work/trickle_server.py")
c_fortune_server=("$c_server" --address 127.0.0.1 --port 0)
qt_server=("$python" "$here/qt/fortune_server_qt.py" --port 0)
py_server=("$python" "$here/python/fortune_server.py" --address 127.0.0.1 --port 0)
gjs_server=(gjs -m "$here/gjs/fortune-server.js" --address 127.0.0.1 --port 0)
qt_client=("$python" "$here/qt/fortune_client_qt.py" --host 127.0.0.1)

# describe FORTUNE: a short name for it in the test's name.
describe() {
  if [[ -z $1 ]]; then
    echo "empty fortune"
  elif (( ${#1} > 40 )); then
    echo "${#1}-character fortune"
  else
    echo "“$1”"
  fi
}

# against SERVER_LABEL FORTUNE SERVER_ARRAY CLIENT_LABEL CLIENT_COMMAND...:
# a fresh server hands out FORTUNE once; the client must print it.
against() {
  local label=$1 fortune=$2 client_label=$4
  local -n server_command=$3
  shift 4
  if start_server "$label" "${server_command[@]}" --fortune "$fortune" --count 1; then
    check "$client_label ← $label, $(describe "$fortune")" "$fortune" "$@" --port "$port"
  else
    not_ok "$client_label ← $label: the server did not start"
  fi
}

have_pyqt6() { "$python" -c 'import PyQt6.QtNetwork' 2>/dev/null; }
have_pygobject() { "$python" -c 'import gi; gi.require_version("QSock", "1.0")' 2>/dev/null; }

case $mode in
c)
  # Our clients against our server; then the transaction paths: a string
  # arriving in pieces, and a connection that ends half-way through it.
  for f in "${fortunes[@]}" "$big" ""; do
    against "C server" "$f" c_fortune_server fortune-client "$c_client" --host 127.0.0.1
    against "C server" "$f" c_fortune_server blocking-fortune-client "$c_blocking_client" --host 127.0.0.1
  done
  against "trickling server" "${fortunes[0]}" trickle fortune-client "$c_client" --host 127.0.0.1
  against "trickling server" "${fortunes[1]}" trickle blocking-fortune-client "$c_blocking_client" --host 127.0.0.1
  if start_server "truncating server" "${trickle[@]}" --fortune "${fortunes[0]}" --truncate; then
    check_fails "fortune-client ← truncating server" "before a whole fortune arrived" \
      "$c_client" --host 127.0.0.1 --port "$port"
  fi
  # Socket reuse (abort, connect again) and the worker's request queue.
  if start_server "C server" "${c_fortune_server[@]}" --fortune "${fortunes[2]}" --count 3; then
    check "fortune-client --count 3 ← C server" \
      "$(printf '%s\n%s\n%s' "${fortunes[2]}" "${fortunes[2]}" "${fortunes[2]}")" \
      "$c_client" --host 127.0.0.1 --port "$port" --count 3
  fi
  if start_server "C server" "${c_fortune_server[@]}" --fortune "${fortunes[1]}" --count 2; then
    check "blocking-fortune-client --count 2 ← C server" \
      "$(printf '%s\n%s' "${fortunes[1]}" "${fortunes[1]}")" \
      "$c_blocking_client" --host 127.0.0.1 --port "$port" --count 2
  fi
  closed_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  check_fails "fortune-client, nobody listening" "The connection was refused by the peer" \
    "$c_client" --host 127.0.0.1 --port "$closed_port"
  check_fails "blocking-fortune-client, nobody listening" "Connection refused" \
    "$c_blocking_client" --host 127.0.0.1 --port "$closed_port"
  ;;

qt)
  have_pyqt6 || skip_all "PyQt6 is not installed (python3-pyqt6)"
  for f in "${fortunes[@]}" "$big" ""; do
    # Our clients against Qt's server …
    against "PyQt6 server" "$f" qt_server fortune-client "$c_client" --host 127.0.0.1
    against "PyQt6 server" "$f" qt_server blocking-fortune-client "$c_blocking_client" --host 127.0.0.1
    # … and Qt's client against our server.
    against "C server" "$f" c_fortune_server "PyQt6 client" "${qt_client[@]}"
  done
  ;;

python)
  have_pygobject || skip_all "PyGObject is not installed (python3-gi)"
  py_client=("$python" "$here/python/fortune_client.py" --host 127.0.0.1)
  for f in "${fortunes[@]}" "$big"; do
    against "C server" "$f" c_fortune_server fortune_client.py "${py_client[@]}"
    against "Python server" "$f" py_server fortune-client "$c_client" --host 127.0.0.1
  done
  against "trickling server" "${fortunes[0]}" trickle fortune_client.py "${py_client[@]}"
  if have_pyqt6; then
    against "Python server" "${fortunes[1]}" py_server "PyQt6 client" "${qt_client[@]}"
  fi
  # The blocking client: a worker thread with wait_for_* calls only.
  py_blocking_client=("$python" "$here/python/blocking_fortune_client.py" --host 127.0.0.1)
  for f in "${fortunes[@]}" "$big" ""; do
    against "C server" "$f" c_fortune_server blocking_fortune_client.py "${py_blocking_client[@]}"
  done
  against "trickling server" "${fortunes[1]}" trickle blocking_fortune_client.py "${py_blocking_client[@]}"
  if start_server "truncating server" "${trickle[@]}" --fortune "${fortunes[0]}" --truncate; then
    check_fails "blocking_fortune_client.py ← truncating server" "The remote host closed the connection" \
      "${py_blocking_client[@]}" --port "$port"
  fi
  closed_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  check_fails "blocking_fortune_client.py, nobody listening" "Connection refused" \
    "${py_blocking_client[@]}" --port "$closed_port"
  ;;

gjs)
  command -v gjs >/dev/null || skip_all "gjs is not installed"
  gjs_client=(gjs -m "$here/gjs/fortune-client.js" --host 127.0.0.1)
  for f in "${fortunes[@]}" "$big"; do
    against "C server" "$f" c_fortune_server fortune-client.js "${gjs_client[@]}"
    against "GJS server" "$f" gjs_server fortune-client "$c_client" --host 127.0.0.1
  done
  against "trickling server" "${fortunes[0]}" trickle fortune-client.js "${gjs_client[@]}"
  if have_pyqt6; then
    against "GJS server" "${fortunes[1]}" gjs_server "PyQt6 client" "${qt_client[@]}"
  fi
  # The blocking client: wait_for_* calls only, on the main thread.
  gjs_blocking_client=(gjs -m "$here/gjs/blocking-fortune-client.js" --host 127.0.0.1)
  for f in "${fortunes[@]}" "$big" ""; do
    against "C server" "$f" c_fortune_server blocking-fortune-client.js "${gjs_blocking_client[@]}"
  done
  against "trickling server" "${fortunes[1]}" trickle blocking-fortune-client.js "${gjs_blocking_client[@]}"
  if start_server "truncating server" "${trickle[@]}" --fortune "${fortunes[0]}" --truncate; then
    check_fails "blocking-fortune-client.js ← truncating server" "The remote host closed the connection" \
      "${gjs_blocking_client[@]}" --port "$port"
  fi
  closed_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  check_fails "blocking-fortune-client.js, nobody listening" "Connection refused" \
    "${gjs_blocking_client[@]}" --port "$closed_port"
  ;;

vala)
  [[ -n $vala_client ]] || skip_all "valac is not installed, or the VAPI is disabled"
  for f in "${fortunes[@]}" "$big"; do
    against "C server" "$f" c_fortune_server fortune-client-vala "$vala_client" --host 127.0.0.1
  done
  against "trickling server" "${fortunes[2]}" trickle fortune-client-vala "$vala_client" --host 127.0.0.1
  ;;

*)
  echo "usage: $0 c|qt|python|gjs|vala SERVER CLIENT BLOCKING_CLIENT [VALA_CLIENT]" >&2
  exit 2
  ;;
esac

echo "1..$count"
[[ $failures == 0 ]]
