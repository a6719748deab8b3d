// GJS through the GIR: QSock.Udp and QSock.Datagram on 127.0.0.1 — bound
// state and errors as enum signal arguments, datagrams in (Uint8Array,
// GLib.Bytes, QSock.Datagram) and out (GLib.Bytes, [bytes, address, port]),
// the awaited receive_datagram pair with errors and cancellation.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.searchPath.unshift(imports.gi.GLib.path_get_dirname(imports.system.programPath));
const {QSock, GLib, Gio, test, run, assert, assertEqual, assertArrayEqual, assertRejects,
    sleep, waitFor, nextSignal, SignalLog, encode, decode, bytesOf, localhost} = imports.harness;

function boundUdp() {
    const sock = new QSock.Udp();
    assert(sock.bind(localhost(), 0, QSock.BindFlags.DEFAULT_FOR_PLATFORM),
        `bind: ${sock.get_error_string()}`);
    return sock;
}

test('enums carry Qt 6 numbers', async () => {
    assertEqual(QSock.SocketType.UDP, 1, 'UdpSocket');
    assertEqual(QSock.SocketState.BOUND, 4, 'BoundState');
    assertEqual(QSock.SocketError.DATAGRAM_TOO_LARGE, 6, 'DatagramTooLargeError');
    assertEqual(QSock.SocketError.ADDRESS_IN_USE, 8, 'AddressInUseError');
    assertEqual(QSock.BindFlags.SHARE_ADDRESS, 1, 'ShareAddress');
    assertEqual(QSock.BindFlags.REUSE_ADDRESS_HINT, 4, 'ReuseAddressHint');
    assertEqual(QSock.SocketOption.MULTICAST_TTL, 2, 'MulticastTtlOption');
    assertEqual(QSock.SpecialAddress.ANY_IPV4, 6, 'AnyIPv4');
    assertEqual(new QSock.Udp().get_socket_type(), QSock.SocketType.UDP, 'socket type');
});

test('bind: state-changed(BOUND); a taken port: error-occurred(ADDRESS_IN_USE)', async () => {
    const sock = new QSock.Udp();
    const log = new SignalLog(sock, ['state-changed', 'error-occurred']);
    assertEqual(sock.bind(localhost(), 0, QSock.BindFlags.DEFAULT_FOR_PLATFORM), true, 'bind');
    assertEqual(JSON.stringify(log.entries), JSON.stringify([['state-changed', QSock.SocketState.BOUND]]),
        'signals of bind');
    assertEqual(sock.get_state(), QSock.SocketState.BOUND, 'state');
    assert(sock.get_local_port() > 0, 'a local port');
    assertEqual(sock.get_local_address().to_string(), '127.0.0.1', 'local address');

    const other = new QSock.Udp();
    const otherLog = new SignalLog(other, ['state-changed', 'error-occurred']);
    assertEqual(other.bind(localhost(), sock.get_local_port(), QSock.BindFlags.DONT_SHARE_ADDRESS), false,
        'bind to a taken port');
    assertEqual(JSON.stringify(otherLog.entries),
        JSON.stringify([['error-occurred', QSock.SocketError.ADDRESS_IN_USE]]), 'signals of the failed bind');
    assertEqual(other.get_error(), QSock.SocketError.ADDRESS_IN_USE, 'get_error');
    assertEqual(other.get_state(), QSock.SocketState.UNCONNECTED, 'state after the failure');
});

test('datagrams in as Uint8Array, GLib.Bytes and QSock.Datagram; out as GLib.Bytes', async () => {
    const receiver = boundUdp();
    const sender = new QSock.Udp();
    const senderLog = new SignalLog(sender, ['state-changed', 'bytes-written']);
    const binary = new Uint8Array([0x70, 0x69, 0x6e, 0x67, 0, 0xff]);

    const readyRead = nextSignal(receiver, 'ready-read');
    assertEqual(sender.write_datagram(binary, localhost(), receiver.get_local_port()), binary.length,
        'write_datagram(Uint8Array)');
    // Auto-bound by the first write, and bytes-written inside the call.
    assertEqual(JSON.stringify(senderLog.entries), JSON.stringify([
        ['state-changed', QSock.SocketState.BOUND], ['bytes-written', binary.length]]), 'sender signals');
    await readyRead;
    await waitFor(() => receiver.has_pending_datagrams(), 'a pending datagram');
    assertEqual(receiver.pending_datagram_size(), binary.length, 'pending_datagram_size');
    const [data, address, port] = receiver.read_datagram(100);
    assert(data instanceof GLib.Bytes, 'read_datagram returns GLib.Bytes');
    assertArrayEqual(bytesOf(data), binary, 'read_datagram data');
    assert(address instanceof Gio.InetAddress, 'the sender as Gio.InetAddress');
    assertEqual(address.to_string(), '127.0.0.1', 'sender address');
    assertEqual(port, sender.get_local_port(), 'sender port');

    sender.write_datagram_bytes(new GLib.Bytes(encode('gbytes')), localhost(), receiver.get_local_port());
    let datagram = await receiver.receive_datagram_async(null);
    assert(datagram instanceof QSock.Datagram, 'receive_datagram_finish gives a QSock.Datagram');
    assertEqual(decode(datagram.get_data()), 'gbytes', 'datagram data');
    assertEqual(datagram.get_sender_port(), sender.get_local_port(), 'datagram sender port');
    assertEqual(datagram.get_sender_address().to_string(), '127.0.0.1', 'datagram sender address');
    assertEqual(datagram.is_valid(), true, 'is_valid');

    // The reply goes back to where the datagram came from.
    const reply = datagram.make_reply(new GLib.Bytes(encode('pong')));
    assertEqual(receiver.send_datagram(reply), 4, 'send_datagram(make_reply())');
    datagram = await sender.receive_datagram_async(null);
    assertEqual(decode(datagram.get_data()), 'pong', 'reply data');
    assertEqual(datagram.get_sender_port(), receiver.get_local_port(), 'reply sender port');

    const outgoing = QSock.Datagram.new_with_bytes(new GLib.Bytes(encode('made')), localhost(),
        receiver.get_local_port());
    assertEqual(sender.send_datagram(outgoing), 4, 'send_datagram');
    assertEqual(decode((await receiver.receive_datagram_async(null)).get_data()), 'made', 'sent datagram');

    // An empty datagram is a datagram.
    assertEqual(sender.write_datagram(new Uint8Array(0), localhost(), receiver.get_local_port()), 0,
        'an empty write_datagram');
    assertEqual((await receiver.receive_datagram_async(null)).get_data().get_size(), 0, 'an empty datagram');
});

test('receive_datagram_async: errors, a concurrent call, cancellation', async () => {
    const unbound = new QSock.Udp();
    await assertRejects(unbound.receive_datagram_async(null), QSock.SocketError,
        QSock.SocketError.OPERATION, 'receive on an unbound socket');

    const receiver = boundUdp();
    const cancellable = new Gio.Cancellable();
    const first = receiver.receive_datagram_async(cancellable);
    await assertRejects(receiver.receive_datagram_async(null), Gio.IOErrorEnum, Gio.IOErrorEnum.PENDING,
        'a concurrent receive');
    await sleep(20);
    cancellable.cancel();
    await assertRejects(first, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'the cancelled receive');
    assertEqual(receiver.get_state(), QSock.SocketState.BOUND, 'still bound');

    // Cancelling received nothing: the next datagram goes to the next call.
    const sender = new QSock.Udp();
    sender.write_datagram(encode('after'), localhost(), receiver.get_local_port());
    assertEqual(decode((await receiver.receive_datagram_async(null)).get_data()), 'after',
        'a receive after cancelling');
});

test('a connected UDP socket reads and writes like a stream device', async () => {
    const a = boundUdp();
    const b = boundUdp();
    const log = new SignalLog(a, ['state-changed', 'connected']);
    a.connect_to_host('127.0.0.1', b.get_local_port(), QSock.OpenMode.READ_WRITE,
        QSock.NetworkLayerProtocol.ANY_IP);
    await waitFor(() => a.get_state() === QSock.SocketState.CONNECTED, 'connected');
    assert(log.named('connected').length === 1, 'connected emitted');
    assertEqual(a.write(encode('via write')), 9, 'write on a connected UDP socket');
    const datagram = await b.receive_datagram_async(null);
    assertEqual(decode(datagram.get_data()), 'via write', 'received');
    assertEqual(datagram.get_sender_port(), a.get_local_port(), 'sender');
});

run();
