// qsock.js: qsock-glib for GJS, the way the PyGObject overrides make it for
// Python. Import it instead of gi://QSock:
//
//   import QSock from 'file:///usr/share/gjs-1.0/qsock-glib-1.0/qsock.js';
//
// (the path is $datadir/gjs-1.0/qsock-glib-1.0/qsock.js of the
// installation; docs/scripting.md shows how to find it at run time). The
// default export is the gi://QSock?version=1.0 namespace itself, with these
// changes made to its classes, for the whole program, once:
//
// - Qt's default arguments: connect_to_host(host, port),
//   wait_for_ready_read(), bind(), listen(), read_line(), ...;
// - bytes out as Uint8Array: read, read_all, read_line, peek,
//   read_line_finish, read_exactly_finish, read_datagram, Datagram.get_data;
// - bytes in: write, write_bytes, write_datagram(_bytes), put_char,
//   send_fds and the Datagram constructors and setters take a Uint8Array
//   (or any ArrayBuffer view, or an ArrayBuffer), GLib.Bytes, or a string,
//   which is sent as UTF-8;
// - addresses: an IP address string ('127.0.0.1', '::1') wherever the C
//   API takes a Gio.InetAddress; a host name is a TypeError that says to
//   resolve it first or use connect_to_host();
// - no always-true arrays: wait_for_new_connection() returns a boolean
//   (pass {returnTimedOut: true} for [ok, timedOut]), get_char() a
//   one-byte Uint8Array or null, get_socket_option() the number or null;
// - promises: every _async call returns a Promise when given no callback,
//   with Qt's defaults and an optional trailing Gio.Cancellable:
//   `await sock.connect_to_host_async(host, port)`,
//   `await sock.read_exactly_async(4, cancellable)`. With a callback it is
//   the GIO call, and the matching _finish gives the converted result.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import QSock from 'gi://QSock?version=1.0';

const INSTALLED = Symbol.for('qsock-glib.gjs-module');

const READ_WRITE = QSock.OpenMode.READ_WRITE;
const ANY_IP = QSock.NetworkLayerProtocol.ANY_IP;
const DEFAULT_FOR_PLATFORM = QSock.BindFlags.DEFAULT_FOR_PLATFORM;
const RESOLVE_HINT = ', or use connect_to_host()';

const utf8 = new TextEncoder();

// A C string ends at the first NUL: '127.0.0.1\0evil' would silently become
// '127.0.0.1'. Refuse it instead of connecting somewhere else.
function checkName(name, what) {
    if (typeof name === 'string' && name.includes('\0'))
        throw new TypeError(`${what} contains a NUL character`);
    return name;
}

function toUint8Array(bytes) {
    return bytes === null ? new Uint8Array(0) : bytes.toArray();
}

// The bytes of @data as a Uint8Array, for the (array) guint8 parameters.
function byteArray(data, call) {
    if (data instanceof Uint8Array)
        return data;
    if (typeof data === 'string')
        return utf8.encode(data);
    if (data instanceof GLib.Bytes)
        return data.toArray();
    if (ArrayBuffer.isView(data))
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (data instanceof ArrayBuffer)
        return new Uint8Array(data);
    throw new TypeError(`${call}() takes a Uint8Array, a string (sent as UTF-8) or GLib.Bytes, ` +
        `not ${data === null ? 'null' : typeof data}`);
}

// The same as GLib.Bytes, for the GBytes parameters.
function gbytes(data, call) {
    return data instanceof GLib.Bytes ? data : new GLib.Bytes(byteArray(data, call));
}

// A Gio.InetAddress from an IP address string; anything else as it is, for
// GJS to check.
function inetAddress(address, call, hint = '') {
    if (typeof address !== 'string')
        return address ?? null;
    const parsed = address.includes('\0') ? null : Gio.InetAddress.new_from_string(address);
    if (parsed === null) {
        throw new TypeError(`${call}(): '${address}' is not an IP address such as '127.0.0.1' ` +
            `or '::1'; resolve host names first (Gio.Resolver)${hint}`);
    }
    return parsed;
}

// One byte for put_char()/unget_char(): a number 0-255, a one-byte
// Uint8Array (what get_char() returns) or a string of one UTF-8 byte.
function oneByte(c, call) {
    if (typeof c === 'number') {
        if (!Number.isInteger(c) || c < 0 || c > 255)
            throw new RangeError(`${call}() takes a byte (0-255), got ${c}`);
        return c;
    }
    const bytes = byteArray(c, call);
    if (bytes.length !== 1)
        throw new RangeError(`${call}() takes one byte, got ${bytes.length}`);
    return bytes[0];
}

function override(klass, name, make) {
    const original = klass.prototype[name];
    klass.prototype[name] = make(original);
}

function overrideStatic(klass, name, make) {
    const original = klass[name];
    klass[name] = make(original);
}

// Makes klass.prototype[name] (an _async method whose GIO parameters are
// the @required ones, those with @defaults, a cancellable and a callback)
// take its parameters with Qt's defaults and an optional trailing
// cancellable, and return a Promise of the _finish result when no
// callback is given. @prepare checks or converts the parameters.
function asyncMethod(klass, name, {required = 0, defaults = [], prepare = args => args} = {}) {
    const finish = name.replace(/_async$/, '_finish');
    const arity = required + defaults.length;
    override(klass, name, original => function (...args) {
        const callback = typeof args[args.length - 1] === 'function' ? args.pop() : null;
        let cancellable = null;
        if (args.length === arity + 1)
            cancellable = args.pop();
        else if (args.length > 0 && args[args.length - 1] instanceof Gio.Cancellable)
            cancellable = args.pop();
        if (args.length < required || args.length > arity) {
            const count = required === arity ? `${arity} argument${arity === 1 ? '' : 's'}`
                : `${required} to ${arity} arguments`;
            throw new TypeError(`${name}() takes ${count}, then an optional Gio.Cancellable ` +
                `and callback; got ${args.length}`);
        }
        const full = prepare(Array.from({length: arity},
            (_, i) => args[i] === undefined && i >= required ? defaults[i - required] : args[i]));
        if (callback !== null)
            return original.call(this, ...full, cancellable, callback);
        return new Promise((resolve, reject) => {
            original.call(this, ...full, cancellable, (source, result) => {
                try {
                    resolve(this[finish](result));
                } catch (e) {
                    reject(e);
                }
            });
        });
    });
}

// wait_for_new_connection(msecs = 0, {returnTimedOut = false}): a boolean,
// or [ok, timedOut] when asked, as Qt's waitForNewConnection(msec, &timedOut).
function waitForNewConnection(original) {
    return function (msecs = 0, {returnTimedOut = false} = {}) {
        const [ok, timedOut] = original.call(this, msecs);
        return returnTimedOut ? [ok, timedOut] : ok;
    };
}

function installIODevice() {
    const C = QSock.IODevice;
    override(C, 'read', original => function (maxSize) {
        return toUint8Array(original.call(this, maxSize));
    });
    override(C, 'read_all', original => function () {
        return toUint8Array(original.call(this));
    });
    override(C, 'read_line', original => function (maxSize = 0) {
        return toUint8Array(original.call(this, maxSize));
    });
    override(C, 'peek', original => function (maxSize) {
        return toUint8Array(original.call(this, maxSize));
    });
    override(C, 'write', original => function (data) {
        return original.call(this, byteArray(data, 'write'));
    });
    override(C, 'write_bytes', original => function (data) {
        return original.call(this, gbytes(data, 'write_bytes'));
    });
    override(C, 'get_char', original => function () {
        const [ok, c] = original.call(this);
        return ok ? Uint8Array.of(c) : null;
    });
    override(C, 'put_char', original => function (c) {
        return original.call(this, oneByte(c, 'put_char'));
    });
    override(C, 'unget_char', original => function (c) {
        return original.call(this, oneByte(c, 'unget_char'));
    });
    override(C, 'wait_for_ready_read', original => function (msecs = 30000) {
        return original.call(this, msecs);
    });
    override(C, 'wait_for_bytes_written', original => function (msecs = 30000) {
        return original.call(this, msecs);
    });
    override(C, 'read_line_finish', original => function (result) {
        return toUint8Array(original.call(this, result));
    });
    override(C, 'read_exactly_finish', original => function (result) {
        return toUint8Array(original.call(this, result));
    });
    asyncMethod(C, 'read_line_async', {defaults: [0]});
    asyncMethod(C, 'read_exactly_async', {required: 1});
    asyncMethod(C, 'flush_async');
}

function installAbstract() {
    const C = QSock.Abstract;
    override(C, 'connect_to_host', original => function (hostName, port, mode = READ_WRITE,
        protocol = ANY_IP) {
        return original.call(this, checkName(hostName, 'host name'), port, mode, protocol);
    });
    override(C, 'connect_to_address', original => function (address, port, mode = READ_WRITE) {
        return original.call(this, inetAddress(address, 'connect_to_address', RESOLVE_HINT), port, mode);
    });
    // Qt's two overloads: bind(address, port, mode) and bind(port, mode).
    override(C, 'bind', original => function (address = null, port = 0, mode = DEFAULT_FOR_PLATFORM) {
        if (typeof address === 'number')
            return original.call(this, null, address, port || mode);
        return original.call(this, inetAddress(address, 'bind'), port, mode);
    });
    override(C, 'get_socket_option', original => function (option) {
        const [ok, value] = original.call(this, option);
        return ok ? value : null;
    });
    override(C, 'wait_for_connected', original => function (msecs = 30000) {
        return original.call(this, msecs);
    });
    override(C, 'wait_for_disconnected', original => function (msecs = 30000) {
        return original.call(this, msecs);
    });
    asyncMethod(C, 'connect_to_host_async', {
        required: 2,
        defaults: [READ_WRITE, ANY_IP],
        prepare: ([hostName, ...rest]) => [checkName(hostName, 'host name'), ...rest],
    });
    asyncMethod(C, 'wait_for_disconnected_async');
}

function installTcpServer() {
    const C = QSock.TcpServer;
    override(C, 'listen', original => function (address = null, port = 0) {
        return original.call(this, inetAddress(address, 'listen'), port);
    });
    override(C, 'wait_for_new_connection', waitForNewConnection);
    asyncMethod(C, 'accept_async');
}

function installUdp() {
    const C = QSock.Udp;
    override(C, 'read_datagram', original => function (maxSize = -1) {
        const [data, address, port] = original.call(this, maxSize);
        return [data === null ? null : data.toArray(), address, port];
    });
    override(C, 'receive_datagram', original => function (maxSize = -1) {
        return original.call(this, maxSize);
    });
    override(C, 'write_datagram', original => function (data, address, port) {
        return original.call(this, byteArray(data, 'write_datagram'),
            inetAddress(address, 'write_datagram', RESOLVE_HINT), port);
    });
    override(C, 'write_datagram_bytes', original => function (data, address, port) {
        return original.call(this, gbytes(data, 'write_datagram_bytes'),
            inetAddress(address, 'write_datagram_bytes', RESOLVE_HINT), port);
    });
    for (const name of ['join_multicast_group', 'leave_multicast_group']) {
        override(C, name, original => function (group, interfaceName = null) {
            return original.call(this, inetAddress(group, name), interfaceName);
        });
    }
    for (const name of ['join_multicast_group_on_index', 'leave_multicast_group_on_index']) {
        override(C, name, original => function (group, interfaceIndex) {
            return original.call(this, inetAddress(group, name), interfaceIndex);
        });
    }
    asyncMethod(C, 'receive_datagram_async');
}

function installDatagram() {
    const C = QSock.Datagram;
    overrideStatic(C, 'new_with_bytes', original => function (data, destination = null, port = 0) {
        return original(gbytes(data, 'new_with_bytes'), inetAddress(destination, 'new_with_bytes'), port);
    });
    overrideStatic(C, 'new_with_data', original => function (data, destination = null, port = 0) {
        return original(byteArray(data, 'new_with_data'), inetAddress(destination, 'new_with_data'), port);
    });
    override(C, 'get_data', original => function () {
        return toUint8Array(original.call(this));
    });
    override(C, 'set_data', original => function (data) {
        return original.call(this, data === null ? null : gbytes(data, 'set_data'));
    });
    override(C, 'make_reply', original => function (data) {
        return original.call(this, gbytes(data, 'make_reply'));
    });
    for (const name of ['set_destination', 'set_sender']) {
        override(C, name, original => function (address, port) {
            return original.call(this, inetAddress(address, name), port);
        });
    }
}

function installLocal() {
    const C = QSock.Local;
    override(C, 'connect_to_server', original => function (name = null, mode = READ_WRITE) {
        return original.call(this, checkName(name, 'server name'), mode);
    });
    override(C, 'set_server_name', original => function (name) {
        return original.call(this, checkName(name, 'server name'));
    });
    override(C, 'wait_for_connected', original => function (msecs = 30000) {
        return original.call(this, msecs);
    });
    override(C, 'wait_for_disconnected', original => function (msecs = 30000) {
        return original.call(this, msecs);
    });
    override(C, 'send_fds', original => function (fds, data = Uint8Array.of(0)) {
        return original.call(this, fds, byteArray(data, 'send_fds'));
    });
    asyncMethod(C, 'connect_to_server_async', {
        defaults: [null, READ_WRITE],
        prepare: ([name, mode]) => [checkName(name, 'server name'), mode],
    });
    asyncMethod(C, 'wait_for_disconnected_async');
}

function installLocalServer() {
    const C = QSock.LocalServer;
    override(C, 'listen', original => function (name) {
        return original.call(this, checkName(name, 'server name'));
    });
    overrideStatic(C, 'remove_server', original => function (name) {
        return original(checkName(name, 'server name'));
    });
    override(C, 'wait_for_new_connection', waitForNewConnection);
    asyncMethod(C, 'accept_async');
}

// Imported twice under two URLs, the module must not wrap the wrappers.
if (!QSock[INSTALLED]) {
    installIODevice();
    installAbstract();
    installTcpServer();
    installUdp();
    installDatagram();
    installLocal();
    installLocalServer();
    QSock[INSTALLED] = true;
}

export default QSock;
