// GJS through the GIR: QSock.Local and QSock.LocalServer on a Unix socket in
// a temporary directory — QSockLocalSocketState/Error as signal arguments,
// bytes both ways, the awaited async pairs, errors as GLib.Error in the
// QSOCK_SOCKET_ERROR domain, cancellation.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.searchPath.unshift(imports.gi.GLib.path_get_dirname(imports.system.programPath));
const {QSock, GLib, Gio, test, run, assert, assertEqual, assertArrayEqual, assertRejects,
    sleep, nextSignal, SignalLog, encode, decode, bytesOf, tempDir} = imports.harness;

const RW = QSock.OpenMode.READ_WRITE;
const dir = tempDir();
let serial = 0;

function listeningServer() {
    const server = new QSock.LocalServer();
    const path = GLib.build_filenamev([dir, `server-${serial++}.sock`]);
    assert(server.listen(path), `listen: ${server.get_error_string()}`);
    return [server, path];
}

async function connectedPair() {
    const [server, path] = listeningServer();
    const client = new QSock.Local();
    const [connected, peer] = await Promise.all([
        client.connect_to_server_async(path, RW, null),
        server.accept_async(null),
    ]);
    assertEqual(connected, true, 'connect_to_server_finish');
    assert(peer instanceof QSock.Local, 'accept_finish gives a QSock.Local');
    return [server, client, peer];
}

test('enums carry Qt 6 numbers', async () => {
    assertEqual(QSock.LocalSocketState.UNCONNECTED, 0, 'UnconnectedState');
    assertEqual(QSock.LocalSocketState.CONNECTING, 2, 'ConnectingState');
    assertEqual(QSock.LocalSocketState.CONNECTED, 3, 'ConnectedState');
    assertEqual(QSock.LocalSocketState.CLOSING, 6, 'ClosingState');
    assertEqual(QSock.LocalSocketError.SERVER_NOT_FOUND, 2, 'ServerNotFoundError');
    assertEqual(QSock.LocalSocketError.PEER_CLOSED, 1, 'PeerClosedError');
    assertEqual(QSock.LocalServerOptions.WORLD_ACCESS, 7, 'WorldAccessOption');
    assertEqual(QSock.LocalSocketOptions.ABSTRACT_NAMESPACE, 1, 'AbstractNamespaceOption');
});

test('connect, accept and talk: signals with QSockLocalSocketState', async () => {
    const [server, path] = listeningServer();
    const serverLog = new SignalLog(server, ['new-connection']);
    const client = new QSock.Local();
    const log = new SignalLog(client, ['state-changed', 'connected']);
    const [connected, peer] = await Promise.all([
        client.connect_to_server_async(path, RW, null),
        server.accept_async(null),
    ]);
    assertEqual(connected, true, 'connected');
    assertEqual(JSON.stringify(log.entries), JSON.stringify([
        ['state-changed', QSock.LocalSocketState.CONNECTING],
        ['state-changed', QSock.LocalSocketState.CONNECTED],
        ['connected'],
    ]), 'client signals');
    assertEqual(serverLog.named('new-connection').length, 1, 'new-connection');
    assertEqual(client.get_state(), QSock.LocalSocketState.CONNECTED, 'client state');
    assertEqual(client.state, QSock.LocalSocketState.CONNECTED, 'state property');
    assertEqual(client.get_full_server_name(), path, 'full server name');
    assertEqual(server.get_full_server_name(), path, 'server full name');

    const binary = new Uint8Array([0, 0xff, 0x80, 0x0a]);
    const readyRead = nextSignal(peer, 'ready-read');
    assertEqual(client.write(binary), 4, 'write(Uint8Array)');
    await readyRead;
    assertArrayEqual(bytesOf(await peer.read_exactly_async(4, null)), binary, 'read_exactly');

    peer.write_bytes(new GLib.Bytes(encode('hello\nworld\n')));
    assertEqual(await peer.flush_async(null), true, 'flush_finish');
    assertEqual(decode(await client.read_line_async(0, null)), 'hello\n', 'read_line_async');
    assertEqual(decode(await client.read_line_async(0, null)), 'world\n', 'second read_line_async');
    server.close();
});

test('server not found: GLib.Error in the QSOCK_SOCKET_ERROR domain and error-occurred', async () => {
    const client = new QSock.Local();
    const errors = [];
    client.connect('error-occurred', (_sock, error) => errors.push(error));
    const missing = GLib.build_filenamev([dir, 'missing.sock']);
    const error = await assertRejects(client.connect_to_server_async(missing, RW, null),
        QSock.SocketError, QSock.LocalSocketError.SERVER_NOT_FOUND, 'connect_to_server_async');
    assertEqual(error.domain, QSock.socket_error_quark(), 'error domain');
    assertArrayEqual(errors, [QSock.LocalSocketError.SERVER_NOT_FOUND], 'error-occurred arguments');
    assertEqual(client.get_error(), QSock.LocalSocketError.SERVER_NOT_FOUND, 'get_error');
    assertEqual(client.get_state(), QSock.LocalSocketState.UNCONNECTED, 'state');

    // listen() on a taken name fails the Qt way, with a code and a string.
    const [server, path] = listeningServer();
    const other = new QSock.LocalServer();
    assertEqual(other.listen(path), false, 'listen on a taken name');
    assertEqual(other.get_server_error(), QSock.SocketError.ADDRESS_IN_USE, 'get_server_error');
    server.close();
});

test('the peer closing: disconnected, wait_for_disconnected_async, PEER_CLOSED', async () => {
    const [server, client, peer] = await connectedPair();
    const log = new SignalLog(client, ['disconnected', 'error-occurred', 'state-changed']);
    const pending = client.read_exactly_async(64, null);
    peer.write(encode('bye'));
    peer.disconnect_from_server();
    await assertRejects(pending, QSock.SocketError, QSock.LocalSocketError.PEER_CLOSED,
        'read_exactly_async across a close');
    assertEqual(await client.wait_for_disconnected_async(null), true, 'wait_for_disconnected_finish');
    assertEqual(client.get_state(), QSock.LocalSocketState.UNCONNECTED, 'state');
    assertEqual(log.named('disconnected').length, 1, 'disconnected once');
    assertArrayEqual(log.named('error-occurred').map(a => a[0]), [QSock.LocalSocketError.PEER_CLOSED],
        'error-occurred arguments');
    assertEqual(decode(client.read_all()), 'bye', 'what arrived before the close');
    server.close();
});

test('cancelling accept, connect and read', async () => {
    const [server, path] = listeningServer();
    const cancellable = new Gio.Cancellable();
    const accept = server.accept_async(cancellable);
    await sleep(10);
    cancellable.cancel();
    await assertRejects(accept, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'accept_async');
    assertEqual(server.is_listening(), true, 'still listening');

    const client = new QSock.Local();
    await assertRejects(client.connect_to_server_async(path, RW, cancellable),
        Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'connect_to_server_async');
    assertEqual(client.get_state(), QSock.LocalSocketState.UNCONNECTED, 'unconnected');
    server.close();

    const [server2, reader, writer] = await connectedPair();
    const readCancel = new Gio.Cancellable();
    const read = reader.read_line_async(0, readCancel);
    writer.write(encode('half'));
    await sleep(20);
    readCancel.cancel();
    await assertRejects(read, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'read_line_async');
    writer.write(encode(' and half\n'));
    assertEqual(decode(await reader.read_line_async(0, null)), 'half and half\n',
        'nothing lost by cancelling');
    server2.close();
});

run(() => GLib.rmdir(dir));
