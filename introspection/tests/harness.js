// Shared by the GJS binding tests (test-tcp.js, test-udp.js, test-local.js):
// a TAP runner for async test functions on one GLib.MainLoop, assertions,
// and the Gio._promisify calls that make every QSock _async/_finish pair
// awaitable, exactly as a GJS application would write them.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
/* exported QSock, GLib, Gio, test, run, assert, assertEqual, assertArrayEqual,
   assertRejects, sleep, waitFor, nextSignal, SignalLog, encode, decode,
   bytesOf, localhost, tempDir */

imports.gi.versions.QSock = '1.0';
var {GLib, Gio, QSock} = imports.gi;
const System = imports.system;

// One call per async pair; GJS then returns a Promise whenever the callback
// is left out.
Gio._promisify(QSock.Abstract.prototype, 'connect_to_host_async', 'connect_to_host_finish');
Gio._promisify(QSock.Abstract.prototype, 'wait_for_disconnected_async', 'wait_for_disconnected_finish');
Gio._promisify(QSock.IODevice.prototype, 'read_line_async', 'read_line_finish');
Gio._promisify(QSock.IODevice.prototype, 'read_exactly_async', 'read_exactly_finish');
Gio._promisify(QSock.IODevice.prototype, 'flush_async', 'flush_finish');
Gio._promisify(QSock.TcpServer.prototype, 'accept_async', 'accept_finish');
Gio._promisify(QSock.Udp.prototype, 'receive_datagram_async', 'receive_datagram_finish');
Gio._promisify(QSock.Local.prototype, 'connect_to_server_async', 'connect_to_server_finish');
Gio._promisify(QSock.Local.prototype, 'wait_for_disconnected_async', 'wait_for_disconnected_finish');
Gio._promisify(QSock.LocalServer.prototype, 'accept_async', 'accept_finish');

const TEST_TIMEOUT_MS = 10000;
const tests = [];

function test(name, fn) {
    tests.push({name, fn});
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

function assertArrayEqual(actual, expected, what = 'array') {
    const a = Array.from(actual), e = Array.from(expected);
    if (a.length !== e.length || a.some((v, i) => v !== e[i]))
        throw new Error(`${what}: expected ${describe(e)}, got ${describe(a)}`);
}

// Awaits a promise that must reject with a GLib.Error of the given domain
// (an error class such as QSock.SocketError or Gio.IOErrorEnum) and code;
// returns the error for further checks.
async function assertRejects(promise, domain, code, what = 'call') {
    let error = null;
    try {
        const result = await promise;
        throw new Error(`${what}: expected an error, got ${describe(result)}`);
    } catch (e) {
        error = e;
    }
    if (!(error instanceof GLib.Error))
        throw error;
    if (!error.matches(domain, code)) {
        throw new Error(`${what}: expected error code ${code} of the expected domain, got ` +
            `${GLib.quark_to_string(error.domain)} ${error.code}: ${error.message}`);
    }
    return error;
}

function sleep(ms) {
    return new Promise(resolve => {
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

// Lets the main loop run until condition() holds.
async function waitFor(condition, what = 'condition', timeoutMs = 5000) {
    const deadline = GLib.get_monotonic_time() + timeoutMs * 1000;
    while (!condition()) {
        if (GLib.get_monotonic_time() > deadline)
            throw new Error(`timed out waiting for ${what}`);
        // eslint-disable-next-line no-await-in-loop
        await sleep(5);
    }
}

// Resolves with the arguments (after the emitter) of the next emission.
function nextSignal(object, name, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
        let timer = 0;
        const id = object.connect(name, (_emitter, ...args) => {
            object.disconnect(id);
            GLib.source_remove(timer);
            resolve(args);
        });
        timer = GLib.timeout_add(GLib.PRIORITY_DEFAULT, timeoutMs, () => {
            object.disconnect(id);
            reject(new Error(`timed out waiting for ${name}`));
            return GLib.SOURCE_REMOVE;
        });
    });
}

// Records the named signals of an object with their arguments, in order.
var SignalLog = class SignalLog {
    constructor(object, names) {
        this.entries = [];
        this._object = object;
        this._ids = names.map(name =>
            object.connect(name, (_emitter, ...args) => this.entries.push([name, ...args])));
    }

    named(name) {
        return this.entries.filter(entry => entry[0] === name).map(entry => entry.slice(1));
    }

    disconnect() {
        this._ids.forEach(id => this._object.disconnect(id));
        this._ids = [];
    }
};

function encode(text) {
    return new TextEncoder().encode(text);
}

// Accepts GLib.Bytes as the binding forms return them, or a Uint8Array.
function bytesOf(data) {
    return data instanceof Uint8Array ? data : data.toArray();
}

function decode(data) {
    return new TextDecoder().decode(bytesOf(data));
}

function localhost() {
    return QSock.host_address_new_special(QSock.SpecialAddress.LOCAL_HOST);
}

function tempDir() {
    return GLib.dir_make_tmp('qsock-gjs-XXXXXX');
}

function withTimeout(promise, ms, name) {
    let timer = 0;
    const timeout = new Promise((resolve, reject) => {
        timer = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            reject(new Error(`${name}: did not finish within ${ms} ms`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise, timeout]).finally(() => GLib.source_remove(timer));
}

async function runAll() {
    let failed = 0;
    print(`1..${tests.length}`);
    for (const [index, {name, fn}] of tests.entries()) {
        try {
            // eslint-disable-next-line no-await-in-loop
            await withTimeout(fn(), TEST_TIMEOUT_MS, name);
            print(`ok ${index + 1} - ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${index + 1} - ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.trim().split('\n'))
                print(`# ${line}`);
        }
    }
    return failed;
}

// Runs the registered tests in order on the default main context, then
// cleanup() if given, and exits with 0 when all passed, 1 otherwise.
function run(cleanup = null) {
    const loop = new GLib.MainLoop(null, false);
    let status = 1;
    runAll().then(failed => {
        status = failed === 0 ? 0 : 1;
    }).catch(e => {
        print(`Bail out! ${e}`);
    }).finally(() => loop.quit());
    loop.run();
    if (cleanup)
        cleanup();
    System.exit(status);
}
