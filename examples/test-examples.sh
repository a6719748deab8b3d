#!/usr/bin/env bash
# test-examples.sh: runs qsock-cat and qsock-echo-server the way a user
# would and checks what they print and how they exit. TAP output.
#
#   test-examples.sh QSOCK_CAT QSOCK_ECHO_SERVER
set -euo pipefail

cat_bin=$1
echo_bin=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Messages are checked in English.
export LC_ALL=C.UTF-8
unset LANGUAGE

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
skip() { count=$((count + 1)); echo "ok $count - $1 # SKIP $2"; }
note() { sed 's/^/# /' "$@"; }

# check NAME EXPECTED_STATUS STDERR_PATTERN -- COMMAND...
# Runs COMMAND with a deadline and checks its exit status and that its
# stderr contains STDERR_PATTERN (a fixed string; empty: anything).
check() {
  local name=$1 expected=$2 pattern=$3 status=0
  shift 4
  timeout -k 5 60 "$@" </dev/null >"$work/out" 2>"$work/err" || status=$?
  if [[ $status != "$expected" ]]; then
    not_ok "$name: exit status $status, expected $expected"
    note "$work/err"
  elif [[ -n $pattern ]] && ! grep -qF -- "$pattern" "$work/err"; then
    not_ok "$name: stderr lacks '$pattern'"
    note "$work/err"
  else
    ok "$name"
  fi
}

# wait_for_size FILE BYTES: true once FILE holds BYTES bytes (60 s at most).
wait_for_size() {
  local i
  for ((i = 0; i < 600; i++)); do
    [[ $(stat -c %s "$1" 2>/dev/null || echo 0) -ge $2 ]] && return 0
    sleep 0.1
  done
  return 1
}

# start_echo_server ADDRESS: starts a --once echo server on a free port and
# sets $echo_pid and $echo_endpoint.
start_echo_server() {
  rm -f "$work/echo.out"
  mkfifo "$work/echo.out"
  timeout -k 5 120 "$echo_bin" --once --address "$1" --port 0 \
    >"$work/echo.out" 2>"$work/echo.err" &
  echo_pid=$!
  pids+=("$echo_pid")
  local fd banner=""
  exec {fd}<"$work/echo.out"
  read -r -t 10 -u "$fd" banner || true
  exec {fd}<&-
  echo_endpoint=${banner#listening on }
  [[ $banner == "listening on "* ]]
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

has_ipv6() {
  grep -qs '^0\{31\}1 ' /proc/net/if_inet6
}

# 1-2. The demo itself, over IPv4 and IPv6.
for address in 127.0.0.1 ::1; do
  status=0
  bash "$here/echo-roundtrip.sh" "$cat_bin" "$echo_bin" "$address" >"$work/roundtrip" 2>&1 || status=$?
  case $status in
    0) ok "echo round trip over $address"; note "$work/roundtrip" ;;
    77) skip "echo round trip over $address" "no IPv6 loopback" ;;
    *) not_ok "echo round trip over $address"; note "$work/roundtrip" ;;
  esac
done

# 3. 4 MiB of arbitrary bytes (NULs included) through the echo server: more
# than its read buffer and its write-queue limit, so flow control is used.
head -c 4194304 /dev/urandom >"$work/payload"
if start_echo_server 127.0.0.1; then
  mkfifo "$work/bulk.in" "$work/release"
  # The writer keeps qsock-cat's stdin open until the echo is complete,
  # since the end of stdin closes the connection.
  { cat "$work/payload"; read -r _ <"$work/release"; } >"$work/bulk.in" &
  writer_pid=$!
  pids+=("$writer_pid")
  timeout -k 5 120 "$cat_bin" "tcp://$echo_endpoint" <"$work/bulk.in" >"$work/bulk.out" 2>"$work/bulk.err" &
  bulk_pid=$!
  pids+=("$bulk_pid")
  wait_for_size "$work/bulk.out" 4194304 || true
  echo >"$work/release"
  bulk_status=0
  wait "$bulk_pid" || bulk_status=$?
  server_status=0
  wait "$echo_pid" || server_status=$?
  if [[ $bulk_status == 0 && $server_status == 0 ]] && cmp -s "$work/payload" "$work/bulk.out"; then
    ok "4 MiB of binary data echoed unchanged"
  else
    not_ok "4 MiB echo: qsock-cat $bulk_status, server $server_status, $(stat -c %s "$work/bulk.out") bytes back"
    note "$work/bulk.err" "$work/echo.err"
  fi
else
  not_ok "4 MiB echo: the echo server did not start"
  note "$work/echo.err"
fi

# 4. End of stdin sends everything queued before closing (Qt's
# disconnectFromHost): qsock-cat --listen receives a file sent by qsock-cat.
mkfifo "$work/listen.err" "$work/listen.in"
exec {hold_listen_in}<>"$work/listen.in"
timeout -k 5 60 "$cat_bin" --listen tcp://127.0.0.1:0 \
  <"$work/listen.in" >"$work/listen.out" 2>"$work/listen.err" &
listen_pid=$!
pids+=("$listen_pid")
exec {fd}<"$work/listen.err"
read -r -t 10 -u "$fd" line || line=""
exec {fd}<&-
if [[ $line == "qsock-cat: listening on 127.0.0.1:"* ]]; then
  endpoint=${line#qsock-cat: listening on }
  send_status=0
  timeout -k 5 60 "$cat_bin" "tcp://$endpoint" <"$work/payload" >/dev/null 2>"$work/send.err" || send_status=$?
  listen_status=0
  wait "$listen_pid" || listen_status=$?
  if [[ $send_status == 0 && $listen_status == 0 ]] && cmp -s "$work/payload" "$work/listen.out"; then
    ok "--listen receives all 4 MiB sent before the end of stdin"
  else
    not_ok "--listen transfer: sender $send_status, listener $listen_status, $(stat -c %s "$work/listen.out") bytes received"
    note "$work/send.err"
  fi
else
  not_ok "--listen did not report its port: '$line'"
fi
exec {hold_listen_in}>&-

# 5. Both directions at once between --listen and a client, over IPv6.
if has_ipv6; then
  rm -f "$work/listen.err"
  mkfifo "$work/listen.err" "$work/server.in" "$work/client.in"
  timeout -k 5 60 "$cat_bin" --verbose --listen "tcp://[::1]:0" \
    <"$work/server.in" >"$work/server.out" 2>"$work/listen.err" &
  server_pid=$!
  pids+=("$server_pid")
  exec {to_server}>"$work/server.in" {fd}<"$work/listen.err"
  read -r -t 10 -u "$fd" line || line=""
  endpoint=${line#qsock-cat: listening on }
  timeout -k 5 60 "$cat_bin" "tcp://$endpoint" \
    <"$work/client.in" >"$work/client.out" 2>"$work/client.err" &
  client_pid=$!
  pids+=("$client_pid")
  exec {to_client}>"$work/client.in"
  echo ping >&"$to_client"
  echo pong >&"$to_server"
  wait_for_size "$work/server.out" 5 || true
  wait_for_size "$work/client.out" 5 || true
  exec {to_client}>&-
  client_status=0
  wait "$client_pid" || client_status=$?
  exec {to_server}>&-
  server_status=0
  wait "$server_pid" || server_status=$?
  cat <&"$fd" >"$work/listen.log" || true
  exec {fd}<&-
  if [[ $endpoint == "[::1]:"* && $(cat "$work/server.out") == ping && $(cat "$work/client.out") == pong &&
        $client_status == 0 && $server_status == 0 ]]; then
    ok "ping and pong cross between --listen and a client over [::1]"
  else
    not_ok "ping/pong over [::1]: endpoint '$endpoint', client $client_status, server $server_status"
    note "$work/client.err" "$work/listen.log"
  fi
else
  skip "ping and pong over [::1]" "no IPv6 loopback"
fi

# 6-8. Socket errors: Qt's text, the enum's name and number, exit 1.
port=$(free_port)
check "connection refused" 1 \
  "qsock-cat: Connection refused (QSockSocketError QSOCK_SOCKET_ERROR_CONNECTION_REFUSED = 0)" \
  -- "$cat_bin" "tcp://127.0.0.1:$port"
check "host not found" 1 \
  "(QSockSocketError QSOCK_SOCKET_ERROR_HOST_NOT_FOUND = 2)" \
  -- "$cat_bin" "tcp://nosuchhost.invalid:80"
if start_echo_server 127.0.0.1; then
  port=${echo_endpoint##*:}
  check "listening on a port in use" 1 \
    "qsock-echo-server: listen: The bound address is already in use (QSockSocketError QSOCK_SOCKET_ERROR_ADDRESS_IN_USE = 8)" \
    -- "$echo_bin" --port "$port"
  kill "$echo_pid" 2>/dev/null || true
  wait "$echo_pid" 2>/dev/null || true
else
  not_ok "listening on a port in use: the first server did not start"
fi

# 9-16. Usage errors exit 2 with a message; --help exits 0.
check "udp:// is refused for now" 2 "udp:// and local: are planned" -- "$cat_bin" udp://127.0.0.1:53
check "local: is refused for now" 2 "udp:// and local: are planned" -- "$cat_bin" local:server
check "an address needs a port" 2 "needs a port" -- "$cat_bin" tcp://127.0.0.1
check "an address is required" 2 "expected one address" -- "$cat_bin"
check "a bare host is not an address" 2 "expected tcp://HOST:PORT" -- "$cat_bin" localhost
check "unknown options are refused" 2 "Unknown option" -- "$cat_bin" --frobnicate tcp://127.0.0.1:1
check "qsock-cat --help" 0 "" -- "$cat_bin" --help
check "qsock-echo-server rejects port 70000" 2 "not between 0 and 65535" -- "$echo_bin" --port 70000
check "qsock-echo-server rejects a host name" 2 "is not an IP address" -- "$echo_bin" --address example.org
check "qsock-echo-server --help" 0 "" -- "$echo_bin" --help

echo "1..$count"
(( failures == 0 ))
