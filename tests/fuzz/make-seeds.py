#!/usr/bin/env python3
# make-seeds.py: writes the seed corpora in corpus/<target>/ from readable
# descriptions, in each target's input encoding (see the enums at the top of
# fuzz-stream.c, fuzz-datagram.c and fuzz-fds.c).
#
#   tests/fuzz/make-seeds.py        (rewrites corpus/*/seed-*)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def size(n):
    """fuzz_input_size(): 0, 1, 2, 1 + u8, u32 % 140000, negative, huge."""
    if n == 'neg':
        return bytes([6])            # -1
    if n == '2^31':
        return bytes([7])
    if n == '2^40':
        return bytes([15])
    if n == 'max':
        return bytes([23])           # G_MAXINT64
    if n in (0, 1, 2):
        return bytes([n])
    if n <= 256:
        return bytes([3, n - 1])
    return bytes([5]) + struct.pack('>I', n)


# ---- fuzz-stream ----------------------------------------------------------
(S_WRITE, S_SETTLE, S_ITERATE, S_READ, S_READ_BYTES, S_READ_ALL, S_READ_LINE,
 S_READ_LINE_BYTES, S_PEEK, S_PEEK_BYTES, S_GET_CHAR, S_UNGET_CHAR, S_SKIP,
 S_CAN_READ_LINE, S_BYTES_AVAILABLE, S_AT_END, S_START, S_COMMIT, S_ROLLBACK,
 S_SET_READ_BUFFER_SIZE, S_SET_TEXT_MODE, S_WAIT, S_SET_HANDLER, S_SHUTDOWN,
 S_CLOSE, S_SET_HALF_CLOSE, S_SHUTDOWN_WRITE, S_READ_LINE_ASYNC, S_READ_EXACTLY_ASYNC) = range(29)


def s_op(code, n=0):
    if code in (S_UNGET_CHAR, S_SET_TEXT_MODE, S_SET_HALF_CLOSE):
        return bytes([code, n])
    return bytes([code]) + size(n)


def s_write(data, length=None):
    """Writes @length bytes: @data (at most 64) repeated."""
    length = len(data) if length is None else length
    if length < 256:
        word = length
    else:
        assert length % 3 == 0 and length // 3 < 0x8000
        word = 0x8000 | length // 3
    return bytes([S_WRITE]) + struct.pack('>H', word) + data[:min(length, 64)]


def s_handler(code, n=0):
    return bytes([S_SET_HANDLER]) + s_op(code, n)


STREAM = {
    'lines': s_write(b'hello\nworld\r\nno end') + s_op(S_SETTLE) + s_op(S_CAN_READ_LINE)
             + s_op(S_READ_LINE, 100) + s_op(S_READ_LINE_BYTES, 0) + s_op(S_CAN_READ_LINE)
             + s_op(S_READ_LINE, 4) + s_op(S_READ_ALL),
    'transaction': s_write(b'0123456789\nabc') + s_op(S_SETTLE) + s_op(S_START) + s_op(S_READ, 5)
                   + s_op(S_BYTES_AVAILABLE) + s_op(S_ROLLBACK) + s_op(S_START)
                   + s_op(S_READ_LINE_BYTES, 0) + s_op(S_PEEK, 3) + s_op(S_COMMIT)
                   + s_op(S_BYTES_AVAILABLE) + s_op(S_START) + s_op(S_SKIP, 2) + s_op(S_START)
                   + s_op(S_COMMIT),
    'text-mode': s_op(S_SET_TEXT_MODE, 1) + s_write(b'a\r\nb\r\r\nc\r\r\r\rd\n') + s_op(S_SETTLE)
                 + s_op(S_READ, 3) + s_op(S_PEEK, 4) + s_op(S_PEEK_BYTES, 8) + s_op(S_READ_LINE, 10)
                 + s_op(S_GET_CHAR) + s_op(S_READ_BYTES, 2) + s_op(S_SET_TEXT_MODE, 0) + s_op(S_READ_ALL),
    'limit': s_op(S_SET_READ_BUFFER_SIZE, 16) + s_write(b'x' * 63 + b'\n', 4998 // 3 * 3)
             + s_op(S_SETTLE) + s_op(S_READ, 8) + s_op(S_SETTLE) + s_op(S_READ_ALL) + s_op(S_SETTLE)
             + s_op(S_BYTES_AVAILABLE) + s_op(S_SET_READ_BUFFER_SIZE, 0) + s_op(S_SETTLE)
             + s_op(S_SKIP, 100000),
    'unget': s_write(b'bc') + s_op(S_SETTLE) + s_op(S_UNGET_CHAR, ord('a')) + s_op(S_GET_CHAR)
             + s_op(S_UNGET_CHAR, ord('\n')) + s_op(S_CAN_READ_LINE) + s_op(S_SKIP, 1) + s_op(S_START)
             + s_op(S_UNGET_CHAR, ord('z')) + s_op(S_ROLLBACK) + s_op(S_AT_END) + s_op(S_READ, 200),
    'handler': s_handler(S_READ_LINE_BYTES, 0) + s_write(b'one\ntwo\nthree\n') + s_op(S_SETTLE)
               + s_write(b'four') + s_op(S_ITERATE) + s_op(S_SETTLE) + s_op(S_READ_ALL),
    'handler-close': s_handler(S_CLOSE) + s_write(b'bye') + s_op(S_SETTLE) + s_op(S_READ, 3)
                     + s_op(S_BYTES_AVAILABLE),
    'peer-closed': s_write(b'last words\n') + s_op(S_SHUTDOWN) + s_op(S_SETTLE) + s_op(S_READ_LINE, 5)
                   + s_op(S_READ_ALL) + s_op(S_READ, 1) + s_op(S_READ_LINE, 2) + s_op(S_SKIP, 1)
                   + s_op(S_WAIT),
    'close': s_write(b'data') + s_op(S_SETTLE) + s_op(S_START) + s_op(S_CLOSE) + s_op(S_READ, 4)
             + s_op(S_PEEK, 1) + s_op(S_SKIP, 1) + s_op(S_UNGET_CHAR, 1) + s_op(S_START)
             + s_op(S_COMMIT) + s_op(S_SET_TEXT_MODE, 1) + s_op(S_CLOSE) + s_op(S_READ_ALL),
    'bulk': s_write(bytes(range(64)), 90000) + s_op(S_ITERATE) + s_op(S_BYTES_AVAILABLE)
            + s_op(S_ITERATE) + s_op(S_SETTLE) + s_op(S_PEEK, 70000) + s_op(S_SKIP, '2^40')
            + s_op(S_READ_ALL),
    'half-close': s_op(S_SET_HALF_CLOSE, 1) + s_write(b'half\n') + s_op(S_SHUTDOWN) + s_op(S_SETTLE)
                  + s_op(S_READ_ALL) + s_op(S_READ, 1) + s_op(S_SHUTDOWN_WRITE) + s_op(S_SETTLE)
                  + s_op(S_READ, 1),
    'async': s_op(S_READ_LINE_ASYNC, 0) + s_write(b'line\nrest') + s_op(S_READ_LINE_ASYNC, 0)
             + s_op(S_READ_EXACTLY_ASYNC, 3) + s_op(S_READ_EXACTLY_ASYNC, 10) + s_op(S_SET_READ_BUFFER_SIZE, 4)
             + s_op(S_READ_EXACTLY_ASYNC, 5) + s_op(S_SHUTDOWN) + s_op(S_READ_LINE_ASYNC, 2)
             + s_op(S_READ_EXACTLY_ASYNC, 2) + s_op(S_CLOSE) + s_op(S_READ_LINE_ASYNC, 0),
    'misuse': s_op(S_READ, 'neg') + s_op(S_READ_BYTES, 'neg') + s_op(S_READ_LINE, 1)
              + s_op(S_READ_LINE_BYTES, 1) + s_op(S_PEEK, 'neg') + s_op(S_PEEK_BYTES, 'neg')
              + s_op(S_SKIP, 'neg') + s_op(S_COMMIT) + s_op(S_ROLLBACK) + s_op(S_START) + s_op(S_START)
              + s_op(S_READ_BYTES, 'max') + s_op(S_READ_LINE_BYTES, 'max') + s_op(S_PEEK_BYTES, '2^31'),
}

# ---- fuzz-datagram ----------------------------------------------------------
(D_SEND, D_SETTLE, D_ITERATE, D_HAS_PENDING, D_PENDING_SIZE, D_BYTES_AVAILABLE,
 D_READ, D_READ_BYTES, D_RECEIVE, D_DRAIN, D_RECEIVE_ASYNC) = range(11)
IPV4, IPV6 = b'\x00', b'\x01'


def d_send(payload, length=None, sender=0, hops=64):
    """@length bytes: @payload (at most 64) repeated; 65507 for the maximum."""
    length = len(payload) if length is None else length
    if length == 65507:
        how, word = 2, 0
    elif length == 0:
        how, word = 3, 0
    elif length < 256:
        how, word = 0, length
    else:
        how, word = 1, length
    pattern = (payload * 64)[:min(length, 64)] if payload else b''
    return bytes([D_SEND, how << 1 | sender]) + struct.pack('>H', word) + bytes([hops - 1]) + pattern


def d_read(code, n, address=True):
    return bytes([code, 1 if address else 0]) + size(n)


DATAGRAM = {
    'v4-basic': IPV4 + d_send(b'hello') + bytes([D_SETTLE, D_HAS_PENDING, D_PENDING_SIZE, D_BYTES_AVAILABLE])
                + d_read(D_RECEIVE, 'neg') + bytes([D_HAS_PENDING]),
    'v6-basic': IPV6 + d_send(b'hello six', sender=1, hops=3) + bytes([D_SETTLE, D_PENDING_SIZE])
                + d_read(D_READ_BYTES, 'neg') + d_send(b'again') + d_read(D_RECEIVE, 100),
    'truncate': IPV4 + d_send(b'0123456789' * 6, 1000) + d_read(D_READ, 10) + d_send(b'abcde')
                + d_read(D_READ, 0) + d_send(b'xyz') + d_read(D_READ_BYTES, 2) + d_send(b'q' * 40)
                + d_read(D_RECEIVE, 39),
    'largest': IPV6 + d_send(b'L' * 64, 65507) + bytes([D_PENDING_SIZE]) + d_read(D_RECEIVE, '2^40')
               + d_send(b'M' * 64, 65507, sender=1) + d_read(D_READ_BYTES, 'max')
               + d_send(b'N' * 64, 65507) + d_read(D_READ, '2^31'),
    'sizes-edge': IPV4 + d_send(b'E' * 64, 65507) + d_read(D_READ, 65506) + d_send(b'F' * 64, 65507)
                  + d_read(D_READ_BYTES, 65507) + d_send(b'G' * 64, 65507) + d_read(D_RECEIVE, 65508),
    'empty-queue': IPV4 + d_read(D_READ, 'neg') + d_read(D_READ, 5) + d_read(D_READ_BYTES, 'neg')
                   + d_read(D_RECEIVE, 'neg') + d_read(D_RECEIVE, '2^40') + d_read(D_READ_BYTES, 'max')
                   + bytes([D_HAS_PENDING, D_PENDING_SIZE, D_BYTES_AVAILABLE]),
    'drain-handler': IPV6 + bytes([D_DRAIN]) + d_send(b'a') + d_send(b'bb', sender=1) + d_send(b'', 0)
                     + bytes([D_SETTLE, D_DRAIN]) + d_send(b'c') + bytes([D_SETTLE, D_HAS_PENDING]),
    'zero-length': IPV4 + d_send(b'', 0) + bytes([D_SETTLE, D_HAS_PENDING, D_PENDING_SIZE])
                   + d_read(D_READ, 0) + d_send(b'', 0, sender=1) + d_read(D_RECEIVE, 'neg'),
    # receive_async: cancelled on an empty queue; then one sent while it
    # waits (the 1 after the op); then one already there.
    'async': IPV6 + bytes([D_RECEIVE_ASYNC, 0]) + bytes([D_RECEIVE_ASYNC, 1]) + d_send(b'waited for')[1:]
             + d_send(b'there') + bytes([D_RECEIVE_ASYNC, 0, D_SETTLE]),
    'hops': IPV4 + d_send(b'one', hops=1) + d_send(b'two', sender=1, hops=255) + bytes([D_ITERATE])
            + d_read(D_RECEIVE, 'neg') + d_read(D_RECEIVE, 'neg'),
}

# ---- fuzz-fds -----------------------------------------------------------------
(F_SEND, F_SEND_FDS, F_SETTLE, F_READ_ALL, F_READ, F_TAKE, F_SET_READ_BUFFER_SIZE, F_SHUTDOWN,
 F_LIBRARY_SENDS) = range(9)


def f_words(length):
    return struct.pack('>H', length if length < 256 else 0x8000 | length // 4)


def f_send(data, length=None):
    length = len(data) if length is None else length
    return bytes([F_SEND]) + f_words(length) + data[:32]


def f_send_fds(n_fds, data=b'F', two_headers=False, mix=0):
    return bytes([F_SEND_FDS, mix << 1 | int(two_headers), n_fds]) + f_words(len(data)) + data[:32]


FDS = {
    'one': f_send_fds(1) + bytes([F_SETTLE, F_READ_ALL, F_TAKE]),
    'two-headers': f_send_fds(3, b'abc', two_headers=True, mix=1) + bytes([F_SETTLE, F_TAKE, F_READ_ALL]),
    'truncated': f_send_fds(253, b'T', mix=2) + bytes([F_SETTLE, F_TAKE]) + f_send_fds(65) + f_send_fds(64)
                 + bytes([F_SETTLE, F_TAKE]),
    'over-256': b''.join(f_send_fds(253, bytes([65 + i]), mix=i) for i in range(5))
                + bytes([F_SETTLE, F_TAKE, F_READ_ALL]) + f_send_fds(2) + bytes([F_SETTLE, F_TAKE]),
    'limit': bytes([F_SET_READ_BUFFER_SIZE, 10]) + f_send(b'd' * 32, 4000) + f_send_fds(2, b'xy')
             + bytes([F_SETTLE, F_TAKE, F_READ, 0, 100, F_SETTLE, F_TAKE, F_READ_ALL, F_SETTLE, F_TAKE]),
    'peer-closed': f_send_fds(7, b'bye', mix=3) + bytes([F_SHUTDOWN, F_SETTLE, F_READ_ALL]),
    'untaken': f_send_fds(20) + f_send(b'tail') + bytes([F_SETTLE]),
    # qsock_local_send_fds (): 1, 64, 65 (refused) and 0 (refused) descriptors, 0 bytes (refused).
    'library-sends': bytes([F_LIBRARY_SENDS, 1, 3, F_LIBRARY_SENDS, 64, 7, F_LIBRARY_SENDS, 65, 1,
                            F_LIBRARY_SENDS, 0, 1, F_LIBRARY_SENDS, 2, 0, F_SHUTDOWN, F_SETTLE,
                            F_LIBRARY_SENDS, 1, 1]),
    'data-only': f_send(bytes(range(32)), 60000) + bytes([F_SETTLE, F_READ, 0xff, 0xff, F_READ_ALL, F_TAKE]),
}


def write(target, seeds):
    folder = os.path.join(HERE, 'corpus', target)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith('seed-'):
            os.remove(os.path.join(folder, name))
    for name, data in seeds.items():
        with open(os.path.join(folder, 'seed-' + name), 'wb') as f:
            f.write(data)


write('fuzz-stream', STREAM)
write('fuzz-datagram', DATAGRAM)
write('fuzz-fds', FDS)
