#!/usr/bin/env -S gjs -m
// fortune-server.js: Qt's Fortune Server in JavaScript, on qsock-glib
// through GJS.
//
//   gjs -m fortune-server.js [--address ADDR] [--port PORT] [--fortune TEXT]... [--count N]
//
// Each client gets one fortune as Qt 6's QDataStream writes a QString (a
// big-endian 32-bit byte count, then UTF-16BE) and is disconnected, so Qt's
// fortune clients read it. Prints "listening on ADDR:PORT" once listening.
// Written with the promises of the GJS module: accept_async() hands over
// the next client, flush_async() waits until its fortune is written.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';
// QSock through qsock-glib's GJS module, from the source tree; an installed
// program imports file:///usr/share/gjs-1.0/qsock-glib-1.0/qsock.js (the
// $datadir of the installation) instead. See docs/scripting.md.
import QSock from '../../introspection/gjs/qsock.js';

const QT_FORTUNES = [
    "You've been leading a dog's life. Stay off the furniture.",
    "You've got to think about tomorrow.",
    'You will be surprised by a loud noise.',
    'You will feel hungry again in another hour.',
    'You might have mail.',
    'You cannot kill time without injuring eternity.',
    'Computers are not intelligent. They only think they are.',
];

function parseArgs(argv) {
    const options = {address: 'any', port: '0', count: '0', fortune: []};
    for (let i = 0; i < argv.length; i++) {
        const match = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
        if (!match || !(match[1] in options))
            throw new Error(`unknown argument “${argv[i]}”`);
        const value = match[2] ?? argv[++i];
        if (value === undefined)
            throw new Error(`--${match[1]} needs a value`);
        if (match[1] === 'fortune')
            options.fortune.push(value);
        else
            options[match[1]] = value;
    }
    return options;
}

function parseAddress(text) {
    if (text.toLowerCase() === 'any')
        return QSock.host_address_new_special(QSock.SpecialAddress.ANY);
    if (text.toLowerCase() === 'localhost')
        return QSock.host_address_new_special(QSock.SpecialAddress.LOCAL_HOST);
    const address = Gio.InetAddress.new_from_string(text.replace(/^\[(.*)\]$/, '$1'));
    if (address === null)
        throw new Error(`“${text}” is not an IP address (nor “localhost” or “any”)`);
    return address;
}

// `QDataStream out; out << QString(text);` as bytes. JavaScript strings
// are UTF-16 already: each code unit goes out big-endian.
function qdatastreamQString(text) {
    const block = new Uint8Array(4 + 2 * text.length);
    const view = new DataView(block.buffer);
    view.setUint32(0, 2 * text.length, false);
    for (let i = 0; i < text.length; i++)
        view.setUint16(4 + 2 * i, text.charCodeAt(i), false);
    return block;
}

async function sendFortune(socket, fortune) {
    socket.write(qdatastreamQString(fortune));
    await socket.flush_async();
    socket.disconnect_from_host();
}

async function serve(server, fortunes, count) {
    for (let served = 0; count === 0 || served < count; served++) {
        const socket = await server.accept_async();
        const fortune = fortunes[Math.floor(Math.random() * fortunes.length)];
        // One client at a time is plenty for a fortune; report, go on.
        try {
            await sendFortune(socket, fortune);
        } catch (e) {
            printerr(`fortune-server.js: client: ${e.message}`);
        }
    }
}

async function main(argv) {
    let options, address;
    try {
        options = parseArgs(argv);
        address = parseAddress(options.address);
        if (!/^\d+$/.test(options.port) || +options.port > 65535)
            throw new Error('--port must be between 0 and 65535');
        if (!/^\d+$/.test(options.count))
            throw new Error('--count must be a number');
    } catch (e) {
        printerr(`fortune-server.js: ${e.message}`);
        return 2;
    }

    const server = new QSock.TcpServer();
    if (!server.listen(address, +options.port)) {
        printerr(`fortune-server.js: Unable to start the server: ${server.get_error_string()}.`);
        return 1;
    }
    const bound = server.get_server_address();
    const host = bound.get_family() === Gio.SocketFamily.IPV6
        ? `[${bound.to_string()}]` : bound.to_string();
    print(`listening on ${host}:${server.get_server_port()}`);

    await serve(server, options.fortune.length ? options.fortune : QT_FORTUNES, +options.count);
    server.close();
    return 0;
}

const loop = new GLib.MainLoop(null, false);
let exitStatus = 1;
for (const signum of [2 /* SIGINT */, 15 /* SIGTERM */]) {
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, () => {
        exitStatus = 0;
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
}
main(System.programArgs).then(status => {
    exitStatus = status;
}).catch(e => {
    logError(e);
}).finally(() => loop.quit());
loop.run();
System.exit(exitStatus);
