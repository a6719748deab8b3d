#!/usr/bin/env bash
# test-network-examples.sh: runs the local fortune, broadcast, multicast,
# threaded echo and GTK fortune examples as a user would, on this machine
# only: Unix sockets in a temporary directory, broadcasts to 127.255.255.255,
# multicast through lo, TCP on 127.0.0.1.
#
#   test-network-examples.sh local-fortune LOCAL_FORTUNE_SERVER LOCAL_FORTUNE_CLIENT
#   test-network-examples.sh broadcast BROADCAST_SENDER BROADCAST_RECEIVER
#   test-network-examples.sh multicast MULTICAST_SENDER MULTICAST_RECEIVER
#   test-network-examples.sh threaded-echo THREADED_ECHO_SERVER
#   test-network-examples.sh gtk-fortune FORTUNE_SERVER [GTK_FORTUNE_CLIENT]
#
# Prints TAP lines; exits 0 when every check passed, 1 when one failed, and
# 77 (skip) with the reason only when the system cannot run the check: no
# multicast on lo, no Xvfb, no GTK 4 (then GTK_FORTUNE_CLIENT is not given).
set -euo pipefail

mode=$1
shift
python=/usr/bin/python3

# Messages are checked in English; fortunes are compared as UTF-8.
export LC_ALL=C.UTF-8
unset LANGUAGE

work=$(mktemp -d)
pids=()
declare -A readers
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

count=0
failures=0
ok() { count=$((count + 1)); echo "ok $count - $*"; }
not_ok() { count=$((count + 1)); failures=$((failures + 1)); echo "not ok $count - $*"; }
note() { sed 's/^/# /' "$@"; }
skip_all() { echo "1..0 # SKIP $*"; exit 77; }
finish() {
  echo "1..$count"
  (( failures == 0 ))
}

# script NAME: saves the Python program on stdin as $work/NAME.py.
script() {
  cat >"$work/$1.py"
}

# start NAME COMMAND...: starts a program that prints one banner line
# ("listening on …") first; sets $banner and $pid. The rest of its output
# goes to $work/NAME.out, its errors to $work/NAME.err.
start() {
  local name=$1 fd
  shift
  mkfifo "$work/$name.fifo"
  timeout -k 5 100 "$@" >"$work/$name.fifo" 2>"$work/$name.err" </dev/null &
  pid=$!
  pids+=("$pid")
  exec {fd}<"$work/$name.fifo"
  banner=""
  read -r -t 20 -u "$fd" banner || true
  # Read on in the background, so the program never blocks on its output.
  cat <&"$fd" >"$work/$name.out" &
  readers[$name]=$!
  exec {fd}<&-
}

# wait_status NAME PID EXPECTED_STATUS: for a program started as NAME;
# its output files are complete afterwards.
wait_status() {
  local name=$1 status=0
  wait "$2" || status=$?
  wait "${readers[$name]}" 2>/dev/null || true
  if (( status == $3 )); then
    ok "$name exited with status $3"
  else
    not_ok "$name exited with status $3 (got $status)"
    note "$work/$name.err"
  fi
}

# run NAME EXPECTED_STATUS COMMAND...: runs a program to its end (60 s at
# most); its output is in $work/NAME.out and $work/NAME.err.
run() {
  local name=$1 expected=$2 status=0
  shift 2
  timeout -k 5 60 "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null || status=$?
  if (( status == expected )); then
    ok "$name exited with status $expected"
  else
    not_ok "$name exited with status $expected (got $status)"
    note "$work/$name.out" "$work/$name.err"
  fi
}

# printed NAME EXPECTED: the program NAME printed exactly EXPECTED on
# stdout (after its banner, if it has one).
printed() {
  local name=$1 expected=$2
  if [[ "$(cat "$work/$name.out")" == "$expected" ]]; then
    ok "$name printed what was expected"
  else
    not_ok "$name printed what was expected"
    echo "# expected:"; sed 's/^/#   /' <<<"$expected"
    echo "# got:"; note "$work/$name.out"
    note "$work/$name.err"
  fi
}

# says NAME out|err TEXT: that output of the program NAME contains TEXT.
says() {
  if grep -qF -- "$3" "$work/$1.$2"; then
    ok "$1 says: $3"
  else
    not_ok "$1 says: $3"
    note "$work/$1.out" "$work/$1.err"
  fi
}

# one_of TEXT CANDIDATE...: TEXT is one of the candidates.
one_of() {
  local text=$1 candidate
  shift
  for candidate in "$@"; do
    [[ $text == "$candidate" ]] && return 0
  done
  return 1
}

# ---- local fortune ------------------------------------------------------

# Qt 6's local fortune server and client, written as Qt's examples are: a
# quint32 QString::size(), then the QString.
write_qt_local_fortune() {
  script qt-local-fortune <<'PYTHON'
import sys
from PyQt6.QtCore import QByteArray, QCoreApplication, QDataStream, QIODevice, QTimer
from PyQt6.QtNetwork import QLocalServer, QLocalSocket

app = QCoreApplication(sys.argv[:1])
role, name = sys.argv[1], sys.argv[2]
QTimer.singleShot(30000, lambda: app.exit(3))

if role == 'server':
    fortune = sys.argv[3]
    server = QLocalServer()
    QLocalServer.removeServer(name)
    if not server.listen(name):
        print('listen failed:', server.errorString(), file=sys.stderr)
        sys.exit(1)
    print('listening on', server.fullServerName(), flush=True)

    def send_fortune():
        block = QByteArray()
        out = QDataStream(block, QIODevice.OpenModeFlag.WriteOnly)
        out.setVersion(QDataStream.Version.Qt_6_0)
        out.writeUInt32(len(fortune.encode('utf-16-le')) // 2)
        out.writeQString(fortune)
        client = server.nextPendingConnection()
        client.disconnected.connect(lambda: app.exit(0))
        client.write(block)
        client.flush()
        client.disconnectFromServer()

    server.newConnection.connect(send_fortune)
else:
    socket = QLocalSocket()
    stream = QDataStream(socket)
    stream.setVersion(QDataStream.Version.Qt_6_0)
    state = {'size': None}

    def read_fortune():
        if state['size'] is None:
            if socket.bytesAvailable() < 4:
                return
            state['size'] = stream.readUInt32()
        stream.startTransaction()
        text = stream.readQString()
        if not stream.commitTransaction():
            return
        if len(text.encode('utf-16-le')) // 2 != state['size']:
            print('size mismatch:', state['size'], file=sys.stderr)
            app.exit(1)
            return
        print(text, flush=True)
        app.exit(0)

    def on_error(error):
        if error != QLocalSocket.LocalSocketError.PeerClosedError:
            print(socket.errorString(), file=sys.stderr)
            app.exit(1)

    socket.readyRead.connect(read_fortune)
    socket.errorOccurred.connect(on_error)
    socket.connectToServer(name)
sys.exit(app.exec())
PYTHON
}

test_local_fortune() {
  local server=$1 client=$2 i fortune server_pid
  local fortunes=("Grüße aus dem Unix-Socket ☃ 𝄞" "日本語のフォーチュン" "plain ASCII fortune")
  local big
  big=$(printf 'Große Wörter 🎲 %.0s' {1..3000})

  start server "$server" --name "$work/fortune.sock" --count 3 \
    --fortune "${fortunes[0]}" --fortune "${fortunes[1]}" --fortune "${fortunes[2]}"
  server_pid=$pid
  if [[ $banner == "listening on $work/fortune.sock" ]]; then
    ok "the server listens on the path it was given"
  else
    not_ok "the server listens on the path it was given: '$banner'"
    note "$work/server.err"
  fi
  for i in 1 2 3; do
    run "client-$i" 0 "$client" --name "$work/fortune.sock" --timeout 20000
    fortune=$(cat "$work/client-$i.out")
    if one_of "$fortune" "${fortunes[@]}"; then
      ok "client $i got one of the server's fortunes intact"
    else
      not_ok "client $i got one of the server's fortunes intact: '$fortune'"
    fi
  done
  wait_status server "$server_pid" 0
  if [[ ! -e $work/fortune.sock ]]; then
    ok "the server removed its socket file"
  else
    not_ok "the server removed its socket file"
  fi

  # A fortune that arrives in many reads: the transaction waits for it all.
  start big-server "$server" --name "$work/big.sock" --count 1 --fortune "$big"
  run big-client 0 "$client" --name "$work/big.sock"
  printed big-client "$big"
  wait_status big-server "$pid" 0

  # A bare name, resolved the same way by the server and the client.
  start named-server "$server" --name "qsock-local-fortune-$$" --count 1 --fortune "by name"
  run named-client 0 "$client" --name "qsock-local-fortune-$$"
  printed named-client "by name"
  wait_status named-server "$pid" 0

  run missing-client 1 "$client" --name "$work/missing.sock"
  says missing-client err "The host was not found. Please make sure that the server is running"

  if ! "$python" -c 'import PyQt6.QtNetwork' 2>/dev/null; then
    ok "Qt peers # SKIP PyQt6 (python3-pyqt6) is not installed"
    return
  fi
  # Wire compatibility with Qt's own examples, both ways.
  write_qt_local_fortune
  start qt-server "$python" "$work/qt-local-fortune.py" server "$work/qt.sock" "Qt spricht: Grüße ✓ 𝄞"
  run client-vs-qt 0 "$client" --name "$work/qt.sock"
  printed client-vs-qt "Qt spricht: Grüße ✓ 𝄞"
  wait_status qt-server "$pid" 0

  start server-for-qt "$server" --name "$work/ours.sock" --count 1 --fortune "Wir sprechen: Grüße ✓ 𝄞"
  run qt-client 0 "$python" "$work/qt-local-fortune.py" client "$work/ours.sock"
  printed qt-client "Wir sprechen: Grüße ✓ 𝄞"
  wait_status server-for-qt "$pid" 0
}

# ---- broadcast ------------------------------------------------------------

test_broadcast() {
  local sender=$1 receiver=$2 port first_pid second_pid
  local expected=$'Received datagram: "Broadcast message 1"\nReceived datagram: "Broadcast message 2"\nReceived datagram: "Broadcast message 3"'

  start receiver "$receiver" --port 0 --count 3 --timeout 20000
  port=${banner##*:}
  first_pid=$pid
  if [[ $banner != "listening on 0.0.0.0:"* ]]; then
    not_ok "the receiver binds AnyIPv4: '$banner'"
    note "$work/receiver.err"
    return
  fi
  ok "the receiver binds AnyIPv4"
  # ShareAddress: a second receiver on the same port gets the broadcasts too.
  start second-receiver "$receiver" --port "$port" --count 3 --timeout 20000
  second_pid=$pid
  if [[ $banner == "listening on 0.0.0.0:$port" ]]; then
    ok "a second receiver shares the port"
  else
    not_ok "a second receiver shares the port: '$banner'"
    note "$work/second-receiver.err"
  fi

  # The loopback broadcast address: nothing leaves this machine.
  run sender 0 "$sender" --address 127.255.255.255 --port "$port" --count 3 --interval 50
  says sender out "Now broadcasting datagram 3"
  wait_status receiver "$first_pid" 0
  wait_status second-receiver "$second_pid" 0
  printed receiver "$expected"
  printed second-receiver "$expected"

  run bad-address 2 "$sender" --address not-an-address --count 1
}

# ---- multicast ------------------------------------------------------------

test_multicast() {
  local sender=$1 receiver=$2 port receiver_pid i

  start receiver "$receiver" --interface lo --port 0 --count 3 --timeout 20000
  receiver_pid=$pid
  if [[ $banner != "listening on 239.255.43.21:"* ]]; then
    wait_status receiver "$receiver_pid" 1 >/dev/null
    if grep -q "cannot join" "$work/receiver.err"; then
      skip_all "the kernel refuses multicast on lo: $(head -n1 "$work/receiver.err")"
    fi
    not_ok "the receiver joins 239.255.43.21 on lo: '$banner'"
    note "$work/receiver.err"
    return
  fi
  ok "the receiver joins 239.255.43.21 on lo"
  port=${banner##*:}

  # Out through lo only, TTL 1: nothing leaves this machine.
  run sender 0 "$sender" --interface lo --ttl 1 --port "$port" --count 3 --interval 50
  if grep -q "refused to send multicast" "$work/sender.err"; then
    skip_all "the kernel refuses to send multicast on lo: $(head -n1 "$work/sender.err")"
  fi
  says sender out "Now sending datagram 3"
  wait_status receiver "$receiver_pid" 0
  for i in 1 2 3; do
    if grep -qE "^Received IPv4 datagram from \[[0-9.]+:[0-9]+\]: \"Multicast message $i\"$" "$work/receiver.out"; then
      ok "multicast message $i arrived"
    else
      not_ok "multicast message $i arrived"
      note "$work/receiver.out"
    fi
  done

  run bad-ttl 2 "$sender" --ttl 256 --count 1
  run bad-group 2 "$sender" --group 127.0.0.1 --count 1
  run bad-interface 1 "$sender" --interface qsock-no-if0 --count 1
  says bad-interface err "no interface"
}

# ---- threaded echo ----------------------------------------------------------

test_threaded_echo() {
  local server=$1 port server_pid clients=6 size=200000 lines workers

  start server "$server" --address 127.0.0.1 --port 0 --workers 3 --count "$clients"
  server_pid=$pid
  port=${banner##*:}
  if [[ $banner != "listening on 127.0.0.1:"* ]]; then
    not_ok "the server listens: '$banner'"
    note "$work/server.err"
    return
  fi
  ok "the server listens"

  # Several clients at once, each sending its own bytes in pieces while it
  # reads the echo back, so the workers serve them at the same time.
  script echo-clients <<'PYTHON'
import os, socket, sys, threading
port, clients, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
errors = []

def client(n):
    payload = os.urandom(size)
    received = bytearray()
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=30) as s:
            def reader():
                while len(received) < size:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    received.extend(chunk)
            t = threading.Thread(target=reader)
            t.start()
            for i in range(0, size, 4096):
                s.sendall(payload[i:i + 4096])
            t.join(30)
    except OSError as e:
        errors.append('client %d: %s' % (n, e))
        return
    if bytes(received) != payload:
        errors.append('client %d: got %d bytes back, not its own %d' % (n, len(received), size))

threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PYTHON
  run clients 0 "$python" "$work/echo-clients.py" "$port" "$clients" "$size"
  wait_status server "$server_pid" 0

  lines=$(grep -cE "^client [0-9]+ served by worker [0-9]+: $size bytes echoed$" "$work/server.out" || true)
  if (( lines == clients )); then
    ok "each of the $clients clients got its $size bytes echoed"
  else
    not_ok "each of the $clients clients got its $size bytes echoed ($lines lines)"
    note "$work/server.out" "$work/server.err"
  fi
  workers=$(sed -nE 's/^client [0-9]+ served by worker ([0-9]+):.*/\1/p' "$work/server.out" | sort -u | wc -l)
  if (( workers == 3 )); then
    ok "the clients were spread over the 3 worker threads"
  else
    not_ok "the clients were spread over the 3 worker threads ($workers used)"
  fi

  run bad-workers 2 "$server" --workers 0
}

# ---- GTK fortune client -------------------------------------------------------

test_gtk_fortune() {
  local fortune_server=$1 client=${2:-} port server_pid slow_pid frames closed
  local fortune="GTK fortune: Grüße ✓ 𝄞 — 日本語"

  [[ -n $client ]] || skip_all "GTK 4 (libgtk-4-dev) was not found when the build was configured"
  command -v xvfb-run >/dev/null || skip_all "xvfb-run is not installed (Debian: xvfb)"
  command -v xauth >/dev/null || skip_all "xauth is not installed, and xvfb-run needs it"

  # A real X server; no session bus (GApplication then runs unregistered),
  # the cairo renderer (no GL under Xvfb), no accessibility bus. In a
  # sanitizer build, no leak report: fontconfig and the GL drivers GTK
  # loads and unloads keep allocations for the life of the process, which
  # LeakSanitizer cannot tell from leaks (the library's own suites check
  # ours).
  local gtk_client=(xvfb-run -a -s "-screen 0 1024x768x24"
    env GDK_BACKEND=x11 GSK_RENDERER=cairo NO_AT_BRIDGE=1 DBUS_SESSION_BUS_ADDRESS=disabled:
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    "$client")

  start server "$fortune_server" --address 127.0.0.1 --port 0 --count 1 --fortune "$fortune"
  server_pid=$pid
  port=${banner##*:}
  run gtk-client 0 "${gtk_client[@]}" --host 127.0.0.1 --port "$port" --fetch-on-start --quit-after-fetch
  printed gtk-client "$fortune"
  wait_status server "$server_pid" 0
  if [[ "$(cat "$work/gtk-client.out")" == "$fortune" ]]; then
    echo "$fortune"
  fi

  # A server that takes its time: the window keeps drawing meanwhile.
  script slow-server <<'PYTHON'
import socket, struct, sys, time
text = sys.argv[1].encode('utf-16-be')
with socket.socket() as listener:
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    print('listening on 127.0.0.1:%d' % listener.getsockname()[1], flush=True)
    listener.settimeout(60)
    conn, _ = listener.accept()
    with conn:
        time.sleep(1.5)
        conn.sendall(struct.pack('>I', len(text)) + text)
PYTHON
  start slow-server "$python" "$work/slow-server.py" "$fortune"
  slow_pid=$pid
  port=${banner##*:}
  run slow-gtk-client 0 "${gtk_client[@]}" --host 127.0.0.1 --port "$port" \
    --fetch-on-start --quit-after-fetch --verbose
  printed slow-gtk-client "$fortune"
  frames=$(sed -nE 's/.* ([0-9]+) frames drawn during the fetch$/\1/p' "$work/slow-gtk-client.err" | tail -n1)
  if (( ${frames:-0} >= 10 )); then
    ok "the window drew $frames frames while the server took 1.5 s"
  else
    not_ok "the window kept drawing while the server took 1.5 s (frames: ${frames:-none})"
    note "$work/slow-gtk-client.err"
  fi
  wait_status slow-server "$slow_pid" 0

  # Nobody listening: Qt's message, and no fortune.
  closed=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run refused-gtk-client 1 "${gtk_client[@]}" --host 127.0.0.1 --port "$closed" \
    --fetch-on-start --quit-after-fetch
  says refused-gtk-client err "The connection was refused by the peer."
}

case $mode in
  local-fortune) test_local_fortune "$@" ;;
  broadcast) test_broadcast "$@" ;;
  multicast) test_multicast "$@" ;;
  threaded-echo) test_threaded_echo "$@" ;;
  gtk-fortune) test_gtk_fortune "$@" ;;
  *) echo "test-network-examples.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac
finish
