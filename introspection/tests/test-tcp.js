// GJS through the GIR: QSock.Tcp and QSock.TcpServer end to end on
// 127.0.0.1 — enums with Qt's numbers, signals with enum arguments, bytes
// in (Uint8Array, GLib.Bytes) and out (GLib.Bytes), the awaited async pairs,
// errors as GLib.Error in the QSOCK_SOCKET_ERROR domain, cancellation.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.searchPath.unshift(imports.gi.GLib.path_get_dirname(imports.system.programPath));
const {QSock, GLib, Gio, test, run, assert, assertEqual, assertArrayEqual, assertRejects,
    sleep, waitFor, nextSignal, SignalLog, encode, decode, bytesOf, localhost} = imports.harness;

const RW = QSock.OpenMode.READ_WRITE;
const ANY_IP = QSock.NetworkLayerProtocol.ANY_IP;

function listeningServer() {
    const server = new QSock.TcpServer();
    assert(server.listen(localhost(), 0), `listen: ${server.get_error_string()}`);
    assert(server.get_server_port() > 0, 'the server has a port');
    return server;
}

async function connectedPair(server) {
    const client = new QSock.Tcp();
    const [connected, peer] = await Promise.all([
        client.connect_to_host_async('127.0.0.1', server.get_server_port(), RW, ANY_IP, null),
        server.accept_async(null),
    ]);
    assertEqual(connected, true, 'connect_to_host_finish');
    assert(peer instanceof QSock.Tcp, 'accept_finish gives a QSock.Tcp');
    return [client, peer];
}

// A port nobody listens on: bound, then released.
function closedPort() {
    const probe = new QSock.TcpServer();
    assert(probe.listen(localhost(), 0));
    const port = probe.get_server_port();
    probe.close();
    return port;
}

test('enums carry Qt 6 numbers', async () => {
    assertEqual(QSock.SocketState.UNCONNECTED, 0, 'UnconnectedState');
    assertEqual(QSock.SocketState.CONNECTED, 3, 'ConnectedState');
    assertEqual(QSock.SocketState.LISTENING, 5, 'ListeningState');
    assertEqual(QSock.SocketError.CONNECTION_REFUSED, 0, 'ConnectionRefusedError');
    assertEqual(QSock.SocketError.REMOTE_HOST_CLOSED, 1, 'RemoteHostClosedError');
    assertEqual(QSock.SocketError.UNKNOWN_SOCKET, -1, 'UnknownSocketError');
    assertEqual(QSock.SocketType.TCP, 0, 'TcpSocket');
    assertEqual(QSock.OpenMode.READ_WRITE, 3, 'ReadWrite');
    assertEqual(QSock.NetworkLayerProtocol.ANY_IP, 2, 'AnyIPProtocol');
    const sock = new QSock.Tcp();
    assertEqual(sock.get_socket_type(), QSock.SocketType.TCP, 'socket type');
    assertEqual(sock.state, QSock.SocketState.UNCONNECTED, 'state property');
});

test('connect and accept emit Qt signals with enum arguments', async () => {
    const server = listeningServer();
    const serverLog = new SignalLog(server, ['new-connection', 'pending-connection-available']);
    const client = new QSock.Tcp();
    const log = new SignalLog(client, ['host-found', 'state-changed', 'connected']);

    const [connected, peer] = await Promise.all([
        client.connect_to_host_async('127.0.0.1', server.get_server_port(), RW, ANY_IP, null),
        server.accept_async(null),
    ]);
    assertEqual(connected, true, 'connected');
    assert(peer instanceof QSock.Tcp, 'peer is a QSock.Tcp');

    // Qt's order: HostLookup, Connecting, hostFound, Connected, connected.
    assertEqual(JSON.stringify(log.entries), JSON.stringify([
        ['state-changed', QSock.SocketState.HOST_LOOKUP],
        ['state-changed', QSock.SocketState.CONNECTING],
        ['host-found'],
        ['state-changed', QSock.SocketState.CONNECTED],
        ['connected'],
    ]), 'client signals');
    const [state] = log.named('state-changed').pop();
    assertEqual(typeof state, 'number', 'an enum argument arrives as a number');
    assertEqual(client.get_state(), QSock.SocketState.CONNECTED, 'client state');
    assertEqual(peer.get_state(), QSock.SocketState.CONNECTED, 'peer state');
    assertEqual(serverLog.named('new-connection').length, 1, 'new-connection');
    assertEqual(client.get_peer_port(), server.get_server_port(), 'peer port');
    assertEqual(client.get_peer_address().to_string(), '127.0.0.1', 'peer address');
    assertEqual(peer.get_peer_port(), client.get_local_port(), 'accepted peer port');
    assertEqual(client.is_open() && client.is_readable() && client.is_writable(), true, 'open for read/write');
    server.close();
});

test('bytes in as Uint8Array and GLib.Bytes, out as GLib.Bytes', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);

    const binary = new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x0a, 0]);
    const written = [];
    client.connect('bytes-written', (_sock, count) => written.push(count));
    assertEqual(client.write(binary), binary.length, 'write(Uint8Array)');
    assertEqual(client.write_bytes(new GLib.Bytes(encode('tail\n'))), 5, 'write_bytes(GLib.Bytes)');
    assertEqual(client.bytes_to_write(), 12, 'bytes_to_write before flushing');
    assertEqual(await client.flush_async(null), true, 'flush_finish');
    assertEqual(client.bytes_to_write(), 0, 'bytes_to_write after flushing');
    assertEqual(written.reduce((a, b) => a + b, 0), 12, 'bytes-written total');

    const exact = await peer.read_exactly_async(binary.length, null);
    assert(exact instanceof GLib.Bytes, 'read_exactly_finish returns GLib.Bytes');
    assertArrayEqual(bytesOf(exact), binary, 'read_exactly');
    assertEqual(decode(await peer.read_line_async(0, null)), 'tail\n', 'read_line_async');

    // ready-read, then the synchronous Qt calls on what arrived.
    const readyRead = nextSignal(peer, 'ready-read');
    client.write(encode('line one\nline two\nrest'));
    await readyRead;
    await waitFor(() => peer.bytes_available() === 22, 'all bytes');
    assertEqual(peer.can_read_line(), true, 'can_read_line');
    assertEqual(decode(peer.peek(4)), 'line', 'peek');
    assertEqual(decode(peer.read_line(0)), 'line one\n', 'read_line');
    assertEqual(decode(peer.read(5)), 'line ', 'read');
    const all = peer.read_all();
    assert(all instanceof GLib.Bytes, 'read_all returns GLib.Bytes');
    assertEqual(decode(all), 'two\nrest', 'read_all');
    assertEqual(peer.bytes_available(), 0, 'drained');
    server.close();
});

test('a QDataStream QString frame, read with a transaction', async () => {
    // Qt's fortune protocol: big-endian quint32 byte count, then UTF-16BE.
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    const text = 'Ünïcödé fortune ✓';
    const frame = new Uint8Array(4 + text.length * 2);
    const view = new DataView(frame.buffer);
    view.setUint32(0, text.length * 2, false);
    for (let i = 0; i < text.length; i++)
        view.setUint16(4 + i * 2, text.charCodeAt(i), false);

    // Half a frame: the transaction rolls back and keeps the bytes.
    peer.write(frame.subarray(0, 7));
    await nextSignal(client, 'ready-read');
    client.start_transaction();
    assertEqual(client.is_transaction_started(), true, 'transaction started');
    assertEqual(client.read(4).get_size(), 4, 'length read inside the transaction');
    client.rollback_transaction();
    assertEqual(client.bytes_available(), 7, 'rolled back');

    peer.write(frame.subarray(7));
    const header = bytesOf(await client.read_exactly_async(4, null));
    const size = new DataView(header.buffer, header.byteOffset, 4).getUint32(0, false);
    const body = bytesOf(await client.read_exactly_async(size, null));
    const units = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let decoded = '';
    for (let i = 0; i < size; i += 2)
        decoded += String.fromCharCode(units.getUint16(i, false));
    assertEqual(decoded, text, 'fortune text');
    server.close();
});

test('connect refused: GLib.Error in the QSOCK_SOCKET_ERROR domain and error-occurred', async () => {
    const port = closedPort();
    const client = new QSock.Tcp();
    const errors = [];
    client.connect('error-occurred', (_sock, error) => errors.push(error));
    const error = await assertRejects(
        client.connect_to_host_async('127.0.0.1', port, RW, ANY_IP, null),
        QSock.SocketError, QSock.SocketError.CONNECTION_REFUSED, 'connect_to_host_async');
    assertEqual(error.domain, QSock.socket_error_quark(), 'error domain');
    assertEqual(error.message, 'Connection refused', 'error message');
    assertArrayEqual(errors, [QSock.SocketError.CONNECTION_REFUSED], 'error-occurred arguments');
    assertEqual(client.get_error(), QSock.SocketError.CONNECTION_REFUSED, 'get_error');
    assertEqual(client.error, QSock.SocketError.CONNECTION_REFUSED, 'error property');
    assertEqual(client.get_error_string(), 'Connection refused', 'get_error_string');
    assertEqual(client.get_state(), QSock.SocketState.UNCONNECTED, 'state after refusal');
});

test('the remote end closing: disconnected, wait_for_disconnected_async, REMOTE_HOST_CLOSED', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    const log = new SignalLog(client, ['read-channel-finished', 'disconnected', 'state-changed', 'error-occurred']);

    // A read waiting for more than will ever come fails once the peer goes.
    const pending = client.read_exactly_async(100, null);
    peer.write(encode('last words'));
    peer.disconnect_from_host();
    await assertRejects(pending, QSock.SocketError, QSock.SocketError.REMOTE_HOST_CLOSED,
        'read_exactly_async across a close');
    assertEqual(await client.wait_for_disconnected_async(null), true, 'wait_for_disconnected_finish');
    assertEqual(client.get_state(), QSock.SocketState.UNCONNECTED, 'state');
    assertEqual(log.named('disconnected').length, 1, 'disconnected once');
    assertArrayEqual(log.named('error-occurred').map(a => a[0]),
        [QSock.SocketError.REMOTE_HOST_CLOSED], 'error-occurred arguments');
    assertEqual(log.named('state-changed').map(a => a[0]).pop(), QSock.SocketState.UNCONNECTED,
        'last state-changed');
    // Nothing that arrived was lost.
    assertEqual(decode(client.read_all()), 'last words', 'bytes read after the close');
    server.close();
});

test('cancelling a read: Gio.IOErrorEnum.CANCELLED, the socket stays usable', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    const cancellable = new Gio.Cancellable();
    const first = peer.read_line_async(0, cancellable);
    // A second read of the same kind while the first is running is refused.
    await assertRejects(peer.read_line_async(0, null), Gio.IOErrorEnum, Gio.IOErrorEnum.PENDING,
        'a concurrent read_line_async');
    client.write(encode('partial'));
    await sleep(20);
    cancellable.cancel();
    await assertRejects(first, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'the cancelled read_line_async');
    assertEqual(peer.get_state(), QSock.SocketState.CONNECTED, 'still connected');
    client.write(encode(' line\n'));
    assertEqual(decode(await peer.read_line_async(0, null)), 'partial line\n',
        'a new read after cancelling lost nothing');
    server.close();
});

test('cancelling accept and connect', async () => {
    const server = listeningServer();
    const cancellable = new Gio.Cancellable();
    const accept = server.accept_async(cancellable);
    GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
        cancellable.cancel();
        return GLib.SOURCE_REMOVE;
    });
    await assertRejects(accept, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'accept_async');
    assertEqual(server.is_listening(), true, 'still listening');

    // Already cancelled: nothing starts.
    const client = new QSock.Tcp();
    await assertRejects(
        client.connect_to_host_async('127.0.0.1', server.get_server_port(), RW, ANY_IP, cancellable),
        Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'connect_to_host_async');
    assertEqual(client.get_state(), QSock.SocketState.UNCONNECTED, 'unconnected');

    // And an accept after a cancelled one still works.
    const [other, peer] = await connectedPair(server);
    assertEqual(other.get_state(), QSock.SocketState.CONNECTED, 'connected after cancelling');
    assertEqual(peer.get_state(), QSock.SocketState.CONNECTED, 'accepted after cancelling');
    server.close();
});

run();
