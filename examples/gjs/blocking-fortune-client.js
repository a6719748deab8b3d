#!/usr/bin/env -S gjs -m
// blocking-fortune-client.js: Qt's Blocking Fortune Client in JavaScript,
// on qsock-glib through GJS.
//
//   gjs -m blocking-fortune-client.js --port PORT [--host HOST] [--timeout MS]
//
// Fetches one fortune from a fortune server (ours or Qt's) and prints it,
// with nothing but blocking calls: connect_to_host() then
// wait_for_connected(), and wait_for_ready_read() until bytes_available()
// covers the QDataStream byte count, then the UTF-16BE text.
//
// Qt's example does this in a worker thread, but GJS has no threads: the
// blocking calls run here on the main thread, and no main loop runs at
// all, so nothing else needs to respond meanwhile. As the worker of the C
// and Python versions does, this pushes a main context of its own before
// making the socket and never iterates it: the waits poll the socket
// themselves.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import System from 'system';
// QSock through qsock-glib's GJS module, from the source tree; an installed
// program imports file:///usr/share/gjs-1.0/qsock-glib-1.0/qsock.js (the
// $datadir of the installation) instead. See docs/scripting.md.
import QSock from '../../introspection/gjs/qsock.js';

const NULL_QSTRING = 0xffffffff;

class FortuneError extends Error {}

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

function socketError(socket) {
    return new FortuneError(`The following error occurred: ${socket.get_error_string()}.`);
}

// Blocks until at least @count bytes can be read from @socket.
function waitForBytes(socket, count, timeoutMs) {
    while (socket.bytes_available() < count) {
        if (!socket.wait_for_ready_read(timeoutMs))
            throw socketError(socket);
    }
}

// One connection, one fortune: Qt's FortuneThread::run() loop body.
function fetchFortune(host, port, timeoutMs) {
    const socket = new QSock.Tcp();
    try {
        socket.connect_to_host(host, port);
        if (!socket.wait_for_connected(timeoutMs))
            throw socketError(socket);

        waitForBytes(socket, 4, timeoutMs);
        const header = socket.read(4);
        const length = new DataView(header.buffer, header.byteOffset, 4).getUint32(0, false);
        if (length === NULL_QSTRING || length === 0)
            return '';
        if (length % 2 !== 0)
            throw new FortuneError('the server sent something that is not a QString');

        waitForBytes(socket, length, timeoutMs);
        try {
            return new TextDecoder('utf-16be', {fatal: true}).decode(socket.read(length));
        } catch (e) {
            throw new FortuneError('the server sent something that is not a QString');
        }
    } finally {
        socket.abort();
    }
}

function main(argv) {
    let options;
    try {
        options = parseArgs(argv, {host: 'localhost', port: '', timeout: '5000'});
        if (!/^\d+$/.test(options.port) || +options.port < 1 || +options.port > 65535)
            throw new Error('--port must be between 1 and 65535');
        if (!/^-?\d+$/.test(options.timeout))
            throw new Error('--timeout must be a number of milliseconds (-1: none)');
    } catch (e) {
        printerr(`blocking-fortune-client.js: ${e.message}`);
        return 2;
    }

    const context = GLib.MainContext.new();
    // Never iterated: the waits poll the socket themselves.
    context.push_thread_default();
    try {
        print(fetchFortune(options.host, +options.port, +options.timeout));
        return 0;
    } catch (e) {
        if (!(e instanceof FortuneError))
            throw e;
        printerr(`blocking-fortune-client.js: ${e.message}`);
        return 1;
    } finally {
        context.pop_thread_default();
    }
}

System.exit(main(System.programArgs));
