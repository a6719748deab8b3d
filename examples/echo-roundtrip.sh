#!/usr/bin/env bash
# echo-roundtrip.sh: send a few lines through qsock-cat to qsock-echo-server,
# show what comes back, and check that every byte returned unchanged.
#
#   echo-roundtrip.sh QSOCK_CAT QSOCK_ECHO_SERVER [ADDRESS]
#
# ADDRESS is where the server listens (default 127.0.0.1; ::1 for IPv6).
# Exit status: 0 when the echo matched and both programs exited 0, 1 when
# not, 77 (meson's "skipped") when ADDRESS is IPv6 and there is no IPv6.
#
# qsock-cat closes the connection at the end of its stdin, so the lines go
# in through a FIFO that stays open until every reply has been read.
set -euo pipefail

cat_bin=$1
echo_bin=$2
address=${3:-127.0.0.1}

if [[ $address == *:* ]] && ! grep -qs '^0\{31\}1 ' /proc/net/if_inet6; then
  echo "no IPv6 loopback on this machine; skipping" >&2
  exit 77
fi

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

fail() {
  echo "FAILED: $*" >&2
  for log in "$work"/*.err; do
    [[ -s $log ]] && sed "s|^|  $(basename "$log" .err): |" "$log" >&2
  done
  exit 1
}

abbreviate() {
  if (( ${#1} > 60 )); then
    echo "${1:0:40}… (${#1} bytes)"
  else
    echo "$1"
  fi
}

# Both programs get a deadline, so a hang fails instead of blocking forever.
mkfifo "$work/server.out" "$work/cat.in" "$work/cat.out"
timeout -k 5 60 "$echo_bin" --once --address "$address" --port 0 \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
pids+=("$server_pid")

exec {server_out}<"$work/server.out"
read -r -t 10 -u "$server_out" banner || fail "qsock-echo-server did not start"
[[ $banner == "listening on "* ]] || fail "unexpected banner: $banner"
endpoint=${banner#listening on }
echo "== qsock-echo-server is $banner"

timeout -k 5 60 "$cat_bin" "tcp://$endpoint" \
  <"$work/cat.in" >"$work/cat.out" 2>"$work/cat.err" &
cat_pid=$!
pids+=("$cat_pid")
exec {to_cat}>"$work/cat.in" {from_cat}<"$work/cat.out"
echo "== qsock-cat tcp://$endpoint"

lines=(
  "hello, qsock-glib"
  "QTcpSocket and QTcpServer, as GObjects over GIO"
  "UTF-8 goes through untouched: Grüße, ça marche, ✓"
  "$(printf 'x%.0s' {1..3000})"
)
for line in "${lines[@]}"; do
  shown=$(abbreviate "$line")
  printf '%s\n' "$line" >&"$to_cat"
  echo ">> $shown"
  IFS= read -r -t 10 -u "$from_cat" reply || fail "no echo for: $shown"
  [[ $reply == "$line" ]] || fail "echo differs: sent '$shown', got '$(abbreviate "$reply")'"
  echo "<< $(abbreviate "$reply")"
done

# End of input: qsock-cat sends what is queued, disconnects and exits 0;
# with --once the server exits 0 after that client has gone.
exec {to_cat}>&-
cat_status=0
wait "$cat_pid" || cat_status=$?
echo "== qsock-cat exited with status $cat_status"
[[ $cat_status == 0 ]] || fail "qsock-cat exited with status $cat_status"

server_status=0
wait "$server_pid" || server_status=$?
sed 's/^/   /' "$work/server.err"
echo "== qsock-echo-server exited with status $server_status"
[[ $server_status == 0 ]] || fail "qsock-echo-server exited with status $server_status"

echo "== all ${#lines[@]} lines came back unchanged"
