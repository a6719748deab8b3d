// The GJS module (introspection/gjs/qsock.js) from the source tree, against
// real loopback sockets (127.0.0.1, ::1, Unix sockets in a temporary
// directory): Qt's default arguments, Uint8Array out, strings and
// Uint8Arrays in, IP address strings, no always-true arrays, promises for
// every _async pair, and the documented rules (write() only queues, the
// close order). Every test fails against plain gi://QSock. Run with
// `gjs -m`; TAP on stdout.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';
import QSock from '../gjs/qsock.js';

const here = GLib.path_get_dirname(GLib.filename_from_uri(import.meta.url)[0]);
const tests = [];
const dir = GLib.dir_make_tmp('qsock-gjs-bind-XXXXXX');
let serial = 0;

function test(name, fn) {
    tests.push({name, fn});
}

// A test returns skip(reason) when the system cannot run it.
const SKIP = Symbol('skip');
function skip(reason) {
    return {[SKIP]: reason};
}

function describe(value) {
    if (value instanceof Uint8Array)
        return `Uint8Array[${Array.from(value).join(',')}]`;
    try {
        return JSON.stringify(value);
    } catch (e) {
        return String(value);
    }
}

function assert(condition, message = 'assertion failed') {
    if (!condition)
        throw new Error(message);
}

function assertEqual(actual, expected, what = 'value') {
    if (actual !== expected)
        throw new Error(`${what}: expected ${describe(expected)}, got ${describe(actual)}`);
}

function assertBytes(actual, expected, what = 'bytes') {
    assert(actual instanceof Uint8Array, `${what}: expected a Uint8Array, got ${describe(actual)}`);
    const e = typeof expected === 'string' ? new TextEncoder().encode(expected) : expected;
    if (actual.length !== e.length || actual.some((v, i) => v !== e[i]))
        throw new Error(`${what}: expected ${describe(e)}, got ${describe(actual)}`);
}

function assertThrows(fn, type, pattern, what = 'call') {
    try {
        fn();
    } catch (e) {
        assert(e instanceof type, `${what}: expected a ${type.name}, got ${e}`);
        assert(pattern.test(e.message), `${what}: message “${e.message}” does not match ${pattern}`);
        return e;
    }
    throw new Error(`${what}: expected a ${type.name}`);
}

async function assertRejects(promise, domain, code, what = 'call') {
    let error = null;
    try {
        const result = await promise;
        throw new Error(`${what}: expected an error, got ${describe(result)}`);
    } catch (e) {
        error = e;
    }
    if (!(error instanceof GLib.Error) || !error.matches(domain, code))
        throw new Error(`${what}: expected error code ${code}, got ${error}`);
    return error;
}

function spin(ms) {
    return new Promise(resolve => {
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

async function waitFor(condition, what, timeoutMs = 5000) {
    const deadline = GLib.get_monotonic_time() + timeoutMs * 1000;
    while (!condition()) {
        if (GLib.get_monotonic_time() > deadline)
            throw new Error(`timed out waiting for ${what}`);
        // eslint-disable-next-line no-await-in-loop
        await spin(5);
    }
}

function haveIPv6() {
    try {
        const probe = Gio.Socket.new(Gio.SocketFamily.IPV6, Gio.SocketType.STREAM, Gio.SocketProtocol.TCP);
        probe.bind(Gio.InetSocketAddress.new_from_string('::1', 0), false);
        probe.close();
        return true;
    } catch (e) {
        return false;
    }
}

function listeningServer(address = '127.0.0.1') {
    const server = new QSock.TcpServer();
    assert(server.listen(address), `listen: ${server.get_error_string()}`);
    return server;
}

async function connectedPair(server, host = '127.0.0.1') {
    const client = new QSock.Tcp();
    const [connected, peer] = await Promise.all([
        client.connect_to_host_async(host, server.get_server_port()),
        server.accept_async(),
    ]);
    assertEqual(connected, true, 'connect_to_host_async');
    return [client, peer];
}

function localPath() {
    return GLib.build_filenamev([dir, `s${serial++}`]);
}

test('Qt default arguments on the blocking calls', async () => {
    const server = new QSock.TcpServer();
    assertEqual(server.listen(), true, 'listen() on Any, any port');
    const client = new QSock.Tcp();
    client.connect_to_host('127.0.0.1', server.get_server_port());
    assertEqual(client.get_open_mode(), QSock.OpenMode.READ_WRITE, 'default open mode');
    assertEqual(client.wait_for_connected(), true, 'wait_for_connected()');
    assertEqual(server.wait_for_new_connection(5000), true, 'wait_for_new_connection');
    const peer = server.next_pending_connection();
    peer.write('one\ntwo\n');
    assertEqual(peer.wait_for_bytes_written(), true, 'wait_for_bytes_written()');
    assertEqual(client.wait_for_ready_read(), true, 'wait_for_ready_read()');
    await waitFor(() => client.can_read_line() && client.bytes_available() === 8, 'two lines');
    assertBytes(client.read_line(), 'one\n', 'read_line()');
    const udp = new QSock.Udp();
    assertEqual(udp.bind(), true, 'bind()');
    assert(udp.get_local_port() > 0, 'bound to a port');
    server.close();
});

test('reads return Uint8Array', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    client.write(new Uint8Array([0, 1, 0xff, 0x0a, 0x41, 0x42, 0x43, 0x44]));
    await waitFor(() => peer.bytes_available() === 8, '8 bytes');
    assertBytes(peer.peek(2), [0, 1], 'peek');
    assertBytes(peer.read(1), [0], 'read');
    assertBytes(peer.read_line(0), [1, 0xff, 0x0a], 'read_line');
    assertBytes(peer.read_all(), 'ABCD', 'read_all');
    assertBytes(peer.read_all(), [], 'read_all with nothing there');
    server.close();
});

test('the read _finish calls return Uint8Array, as promises and with callbacks', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    client.write('line\nexact');
    assertBytes(await peer.read_line_async(), 'line\n', 'await read_line_async()');
    assertBytes(await peer.read_exactly_async(3), 'exa', 'await read_exactly_async(3)');
    const viaCallback = await new Promise((resolve, reject) => {
        peer.read_exactly_async(2, null, (source, result) => {
            try {
                resolve(source.read_exactly_finish(result));
            } catch (e) {
                reject(e);
            }
        });
    });
    assertBytes(viaCallback, 'ct', 'read_exactly_finish in a callback');
    server.close();
});

test('UDP: read_datagram, Datagram.get_data and receive_datagram_async give Uint8Array', async () => {
    const receiver = new QSock.Udp();
    assert(receiver.bind('127.0.0.1', 0), receiver.get_error_string());
    const port = receiver.get_local_port();
    const sender = new QSock.Udp();
    assertEqual(sender.write_datagram('first', '127.0.0.1', port), 5, 'write_datagram(string)');
    await waitFor(() => receiver.has_pending_datagrams(), 'a datagram');
    const [data, address, senderPort] = receiver.read_datagram();
    assertBytes(data, 'first', 'read_datagram()');
    assertEqual(address.to_string(), '127.0.0.1', 'sender address');
    assertEqual(senderPort, sender.get_local_port(), 'sender port');

    const pending = receiver.receive_datagram_async();
    assertEqual(sender.write_datagram_bytes(new Uint8Array([7, 0, 7]), '127.0.0.1', port), 3,
        'write_datagram_bytes(Uint8Array)');
    const datagram = await pending;
    assertBytes(datagram.get_data(), [7, 0, 7], 'receive_datagram_async');
    const reply = datagram.make_reply('pong');
    assertBytes(reply.get_data(), 'pong', 'make_reply(string)');
    assertEqual(reply.get_destination_port(), sender.get_local_port(), 'reply destination');

    const made = QSock.Datagram.new_with_bytes(new Uint8Array([1, 2]), '127.0.0.1', port);
    assertEqual(made.get_destination_address().to_string(), '127.0.0.1', 'new_with_bytes destination');
    assertEqual(sender.send_datagram(made), 2, 'send_datagram');
    const bare = QSock.Datagram.new_with_bytes('x');
    assertEqual(bare.get_destination_address(), null, 'default destination');
    bare.set_data('data');
    bare.set_destination('127.0.0.1', port);
    assertEqual(sender.send_datagram(bare), 4, 'send_datagram after set_data(string)');
    assertEqual(sender.send_datagram(QSock.Datagram.new_with_data('six', '127.0.0.1', port)), 3,
        'new_with_data(string)');
    assertBytes((await receiver.receive_datagram_async()).get_data(), [1, 2], 'first sent datagram');
    assertBytes((await receiver.receive_datagram_async()).get_data(), 'data', 'second sent datagram');
    assertBytes((await receiver.receive_datagram_async()).get_data(), 'six', 'third sent datagram');
});

test('write takes Uint8Array, strings as UTF-8, GLib.Bytes and ArrayBuffer views', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    assertEqual(client.write('Grüße'), 7, 'write(string) counts UTF-8 bytes');
    assertEqual(client.write(new Uint8Array([0, 0xff])), 2, 'write(Uint8Array)');
    assertEqual(client.write(new GLib.Bytes(new Uint8Array([1]))), 1, 'write(GLib.Bytes)');
    assertEqual(client.write(new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2)), 2, 'write(DataView)');
    assertEqual(client.write_bytes('é'), 2, 'write_bytes(string)');
    assertEqual(client.write_bytes(new Uint8Array([5])), 1, 'write_bytes(Uint8Array)');
    assertThrows(() => client.write(42), TypeError, /takes a Uint8Array, a string/, 'write(number)');
    assertThrows(() => client.write_bytes(null), TypeError, /takes a Uint8Array/, 'write_bytes(null)');
    assertEqual(client.bytes_to_write(), 15, 'bytes queued');
    assertEqual(await client.flush_async(), true, 'flush_async()');
    assertBytes(await peer.read_exactly_async(15),
        [0x47, 0x72, 0xc3, 0xbc, 0xc3, 0x9f, 0x65, 0, 0xff, 1, 8, 7, 0xc3, 0xa9, 5], 'bytes received');
    server.close();
});

test('IP address strings wherever a Gio.InetAddress goes; host names are a clear TypeError', async () => {
    const server = listeningServer('127.0.0.1');
    assertEqual(server.get_server_address().to_string(), '127.0.0.1', 'listen(string)');
    const client = new QSock.Tcp();
    client.connect_to_address('127.0.0.1', server.get_server_port());
    assertEqual(client.wait_for_connected(5000), true, 'connect_to_address(string)');

    const udp = new QSock.Udp();
    const e = assertThrows(() => udp.write_datagram('x', 'localhost', 9), TypeError,
        /'localhost' is not an IP address/, 'write_datagram to a host name');
    assert(/connect_to_host/.test(e.message), `the message names connect_to_host: ${e.message}`);
    assertThrows(() => client.connect_to_address('localhost', 9), TypeError,
        /'localhost' is not an IP address/, 'connect_to_address(host name)');
    assertThrows(() => udp.bind('example.org', 0), TypeError, /'example.org' is not an IP address/, 'bind');
    assertThrows(() => new QSock.TcpServer().listen('1.2.3.256'), TypeError,
        /is not an IP address/, 'listen');
    assertThrows(() => QSock.Datagram.new_with_bytes('x', 'localhost', 9), TypeError,
        /is not an IP address/, 'new_with_bytes');
    server.close();
});

test('::1 as a string', async () => {
    if (!haveIPv6())
        return skip('IPv6 loopback (::1) is not available');
    const server = listeningServer('::1');
    const [client] = await connectedPair(server, '::1');
    assertEqual(client.get_peer_address().to_string(), '::1', 'peer address');
    const udp = new QSock.Udp();
    assertEqual(udp.bind('::1', 0), true, 'bind(::1)');
    assertEqual(udp.get_local_address().to_string(), '::1', 'local address');
    server.close();
});

test("Qt's bind(port, mode) overload", async () => {
    const probe = new QSock.Udp();
    assert(probe.bind('127.0.0.1', 0));
    const port = probe.get_local_port();
    probe.close();
    const udp = new QSock.Udp();
    assertEqual(udp.bind(port, QSock.BindFlags.SHARE_ADDRESS), true,
        `bind(port, mode): ${udp.get_error_string()}`);
    assertEqual(udp.get_local_port(), port, 'bound port');
});

test('wait_for_new_connection: a boolean, false when nothing came', async () => {
    const server = listeningServer();
    let taken = false;
    if (server.wait_for_new_connection(100))
        taken = true;
    assertEqual(taken, false, 'if (wait_for_new_connection(100)) with nothing pending');
    assertEqual(server.wait_for_new_connection(), false, 'default timeout 0');
    const [ok, timedOut] = server.wait_for_new_connection(10, {returnTimedOut: true});
    assertEqual(ok, false, 'ok');
    assertEqual(timedOut, true, 'timedOut');
    const client = new QSock.Tcp();
    client.connect_to_host('127.0.0.1', server.get_server_port());
    assertEqual(server.wait_for_new_connection(5000), true, 'a connection came');

    const local = new QSock.LocalServer();
    const path = localPath();
    assert(local.listen(path), local.get_error_string());
    assertEqual(local.wait_for_new_connection(50), false, 'local: nothing pending');
    const localClient = new QSock.Local();
    localClient.connect_to_server(path);
    assertEqual(JSON.stringify(local.wait_for_new_connection(5000, {returnTimedOut: true})),
        '[true,false]', 'local: [ok, timedOut]');
    server.close();
    local.close();
});

test('get_char: a one-byte Uint8Array or null; put_char and unget_char take it back', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    assertEqual(peer.get_char(), null, 'nothing to read');
    client.write(new Uint8Array([0, 0x7a]));
    await waitFor(() => peer.bytes_available() === 2, 'two bytes');
    const nul = peer.get_char();
    assert(nul, 'a NUL byte is truthy');
    assertBytes(nul, [0], 'get_char');
    peer.unget_char(nul);
    assertBytes(peer.get_char(), [0], 'unget_char(Uint8Array)');
    assertBytes(peer.get_char(), 'z', 'second byte');
    assertEqual(peer.get_char(), null, 'drained');
    assertEqual(client.put_char('!'), true, "put_char('!')");
    assertEqual(client.put_char(0x3f), true, 'put_char(0x3f)');
    assertThrows(() => client.put_char('é'), RangeError, /one byte/, 'put_char of two UTF-8 bytes');
    assertThrows(() => client.put_char(256), RangeError, /0-255/, 'put_char(256)');
    assertBytes(await peer.read_exactly_async(2), '!?', 'put_char bytes');
    server.close();
});

test('get_socket_option: the number, or null', async () => {
    const server = listeningServer();
    const [client] = await connectedPair(server);
    client.set_socket_option(QSock.SocketOption.LOW_DELAY, 1);
    assertEqual(client.get_socket_option(QSock.SocketOption.LOW_DELAY), 1, 'LOW_DELAY on');
    client.set_socket_option(QSock.SocketOption.LOW_DELAY, 0);
    assertEqual(client.get_socket_option(QSock.SocketOption.LOW_DELAY), 0, 'LOW_DELAY off');
    assertEqual(new QSock.Tcp().get_socket_option(QSock.SocketOption.LOW_DELAY), null, 'no socket');
    server.close();
});

test('promises with Qt defaults, a trailing cancellable, cancellation', async () => {
    const server = listeningServer();
    const client = new QSock.Tcp();
    const cancelled = new Gio.Cancellable();
    cancelled.cancel();
    await assertRejects(client.connect_to_host_async('127.0.0.1', server.get_server_port(), cancelled),
        Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'connect with a cancelled cancellable');
    const [connected, peer] = await Promise.all([
        client.connect_to_host_async('127.0.0.1', server.get_server_port(), QSock.OpenMode.READ_WRITE,
            QSock.NetworkLayerProtocol.IPV4, null),
        server.accept_async(null),
    ]);
    assertEqual(connected, true, 'full argument list');
    assert(peer instanceof QSock.Tcp, 'accept_async() gives a QSock.Tcp');

    const cancellable = new Gio.Cancellable();
    const line = peer.read_line_async(cancellable);
    client.write('partial');
    await spin(20);
    cancellable.cancel();
    await assertRejects(line, Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'cancelled read_line_async');
    client.write(' line\n');
    assertBytes(await peer.read_line_async(0, null), 'partial line\n', 'nothing was lost');
    const disconnected = client.wait_for_disconnected_async();
    peer.disconnect_from_host();
    assertEqual(await disconnected, true, 'wait_for_disconnected_async()');
    assertThrows(() => peer.read_exactly_async(), TypeError,
        /read_exactly_async\(\) takes 1 argument,/, 'read_exactly_async()');
    server.close();
});

test('local sockets: defaults, promises, names with NUL refused', async () => {
    const server = new QSock.LocalServer();
    const path = localPath();
    assert(server.listen(path), server.get_error_string());
    const client = new QSock.Local();
    client.set_server_name(path);
    const [connected, peer] = await Promise.all([client.connect_to_server_async(), server.accept_async()]);
    assertEqual(connected, true, 'connect_to_server_async() to the server-name');
    peer.write('hi\n');
    assertBytes(await client.read_line_async(), 'hi\n', 'read_line_async');
    assertThrows(() => new QSock.Local().connect_to_server(`${path}\0evil`), TypeError,
        /NUL/, 'connect_to_server');
    assertThrows(() => new QSock.LocalServer().listen(`${path}\0`), TypeError, /NUL/, 'listen');
    assertThrows(() => new QSock.Tcp().connect_to_host('127.0.0.1\0evil', 9), TypeError,
        /NUL/, 'connect_to_host');
    const disconnected = client.wait_for_disconnected_async();
    peer.disconnect_from_server();
    assertEqual(await disconnected, true, 'wait_for_disconnected_async');
    server.close();
});

test('Gio._promisify on top of the module still works', async () => {
    Gio._promisify(QSock.IODevice.prototype, 'read_exactly_async', 'read_exactly_finish');
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    client.write('abcd');
    assertBytes(await peer.read_exactly_async(2, null), 'ab', 'promisified with the cancellable');
    assertBytes(await peer.read_exactly_async(2), 'cd', 'promisified without');
    server.close();
});

test('importing the module again does not wrap it twice', async () => {
    const copy = GLib.build_filenamev([dir, 'qsock-copy.js']);
    GLib.file_set_contents(copy,
        GLib.file_get_contents(GLib.build_filenamev([here, '..', 'gjs', 'qsock.js']))[1]);
    const {default: again} = await import(GLib.filename_to_uri(copy, null));
    assertEqual(again, QSock, 'the same namespace');
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    client.write('once');
    await waitFor(() => peer.bytes_available() === 4, 'four bytes');
    assertBytes(peer.read_all(), 'once', 'read_all after a second import');
    GLib.unlink(copy);
    server.close();
});

test('write() only queues; flush() sends', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    assertEqual(client.write('queued'), 6, 'write');
    assertEqual(client.bytes_to_write(), 6, 'queued');
    assertEqual(peer.wait_for_ready_read(100), false, 'nothing left yet');
    assertEqual(client.flush(), true, 'flush()');
    assertEqual(client.bytes_to_write(), 0, 'sent');
    assertEqual(peer.wait_for_ready_read(5000), true, 'arrived');
    assertBytes(peer.read_all(), 'queued', 'data');
    server.close();
});

test('the close order: ready-read, read-channel-finished, disconnected, all bytes readable', async () => {
    const server = listeningServer();
    const [client, peer] = await connectedPair(server);
    const log = [];
    for (const name of ['ready-read', 'read-channel-finished', 'disconnected'])
        client.connect(name, sock => log.push(`${name}:${sock.bytes_available()}`));
    peer.write('last words');
    peer.flush();
    peer.disconnect_from_host();
    await waitFor(() => log.some(entry => entry.startsWith('disconnected')), 'disconnected');
    assertEqual(log.join(' '), 'ready-read:10 read-channel-finished:10 disconnected:10', 'signal order');
    assertBytes(client.read_all(), 'last words', 'bytes after disconnected');
    server.close();
});

async function runAll() {
    let failed = 0;
    print(`1..${tests.length}`);
    for (const [index, {name, fn}] of tests.entries()) {
        try {
            // eslint-disable-next-line no-await-in-loop
            const result = await fn();
            const reason = result?.[SKIP];
            print(`ok ${index + 1} - ${name}${reason === undefined ? '' : ` # SKIP ${reason}`}`);
        } catch (e) {
            failed++;
            print(`not ok ${index + 1} - ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.trim().split('\n'))
                print(`# ${line}`);
        }
    }
    return failed;
}

const loop = new GLib.MainLoop(null, false);
let status = 1;
const watchdog = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 50, () => {
    print('Bail out! the tests did not finish within 50 s');
    loop.quit();
    return GLib.SOURCE_REMOVE;
});
runAll().then(failed => {
    status = failed === 0 ? 0 : 1;
    GLib.source_remove(watchdog);
}).catch(e => {
    print(`Bail out! ${e}`);
}).finally(() => loop.quit());
loop.run();
GLib.rmdir(dir);
System.exit(status);
