#!/usr/bin/env -S gjs -m
// fortune-client.js: Qt's Fortune Client in JavaScript, on qsock-glib
// through GJS.
//
//   gjs -m fortune-client.js --port PORT [--host HOST] [--timeout MS]
//
// Fetches one fortune from a fortune server (ours or Qt's) and prints it.
// The GJS module makes each GIO-style async pair return a promise (and a
// read's result a Uint8Array), so the whole conversation reads top to
// bottom: connect, read the QDataStream byte count, read that many bytes
// of UTF-16BE. read_exactly_async()
// completes only once all its bytes are there, so no transaction is
// needed; a connection that ends early rejects with REMOTE_HOST_CLOSED.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';
// QSock through qsock-glib's GJS module, from the source tree; an installed
// program imports file:///usr/share/gjs-1.0/qsock-glib-1.0/qsock.js (the
// $datadir of the installation) instead. See docs/scripting.md.
import QSock from '../../introspection/gjs/qsock.js';

const NULL_QSTRING = 0xffffffff;

function parseArgs(argv, defaults) {
    const options = {...defaults};
    for (let i = 0; i < argv.length; i++) {
        const match = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
        if (!match || !(match[1] in defaults))
            throw new Error(`unknown argument “${argv[i]}”`);
        const value = match[2] ?? argv[++i];
        if (value === undefined)
            throw new Error(`--${match[1]} needs a value`);
        options[match[1]] = value;
    }
    return options;
}

async function fetchFortune(host, port, cancellable) {
    const socket = new QSock.Tcp();
    // Qt's default open mode and protocol, then the cancellable.
    await socket.connect_to_host_async(host, port, cancellable);

    const header = await socket.read_exactly_async(4, cancellable);
    const length = new DataView(header.buffer, header.byteOffset, 4).getUint32(0, false);
    if (length === NULL_QSTRING)
        return '';
    if (length % 2 !== 0)
        throw new Error('the server sent something that is not a QString');

    const text = await socket.read_exactly_async(length, cancellable);
    return new TextDecoder('utf-16be').decode(text);
}

function describe(error) {
    if (error instanceof GLib.Error &&
        error.matches(QSock.socket_error_quark(), QSock.SocketError.REMOTE_HOST_CLOSED))
        return 'the server closed the connection before a whole fortune arrived';
    if (error instanceof GLib.Error &&
        error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
        return 'timed out waiting for a fortune';
    if (error instanceof GLib.Error)
        return `The following error occurred: ${error.message}.`;
    return error.message;
}

async function main(argv) {
    let options;
    try {
        options = parseArgs(argv, {host: 'localhost', port: '', timeout: '30000'});
        if (!/^\d+$/.test(options.port) || +options.port < 1 || +options.port > 65535)
            throw new Error('--port must be between 1 and 65535');
    } catch (e) {
        printerr(`fortune-client.js: ${e.message}`);
        return 2;
    }

    // The timeout cancels whatever is in progress.
    const cancellable = new Gio.Cancellable();
    const timeoutId = GLib.timeout_add(GLib.PRIORITY_DEFAULT, +options.timeout, () => {
        cancellable.cancel();
        return GLib.SOURCE_REMOVE;
    });
    try {
        print(await fetchFortune(options.host, +options.port, cancellable));
        return 0;
    } catch (e) {
        printerr(`fortune-client.js: ${describe(e)}`);
        return 1;
    } finally {
        if (!cancellable.is_cancelled())
            GLib.source_remove(timeoutId);
    }
}

const loop = new GLib.MainLoop(null, false);
let exitStatus = 1;
main(System.programArgs).then(status => {
    exitStatus = status;
}).catch(e => {
    logError(e);
}).finally(() => loop.quit());
loop.run();
System.exit(exitStatus);
