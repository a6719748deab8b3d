# TCP server scenarios: QTcpServer / QSock.TcpServer with plain Python
# clients (§5.1; tst_QTcpServer).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import socket

from scenarios import scenario
from scenarios.util import props, q, drain_events, replacing, CONNECTED, UNCONNECTED

SERVER_PROPS = ('is_listening', 'server_port', 'server_address', 'max_pending_connections',
                'listen_backlog_size', 'socket_descriptor', 'server_error', 'error_string',
                'has_pending_connections')


def listening(d, tag='srv', addr='127.0.0.1'):
    srv = d.tcp_server(tag)
    with d.setup():
        if not srv.listen(addr, 0):
            raise RuntimeError('setup: listen failed')
    d.alias(q(d, srv.server_port), 'SRVPORT')
    return srv


def counter(h, signal):
    n = {'n': 0}

    def inc(*a):
        n['n'] += 1
    h.on(signal, inc)
    return n


@scenario('server.fresh_defaults', ref='§5.1 Defaults; tst_QTcpServer::constructing')
def _(d):
    srv = d.tcp_server('srv')
    props(d, srv, *SERVER_PROPS)
    srv.next_pending_connection()
    srv.wait_for_new_connection(10)
    srv.close()
    props(d, srv, 'server_error', 'error_string', 'is_listening')


@scenario('server.accept', ref='§5.1 Accept; probe_tcp1 (server side); tst_QTcpServer::clientServerLoop')
def _(d):
    srv = d.tcp_server('srv')
    srv.listen('127.0.0.1', 0)
    port = d.alias(q(d, srv.server_port), 'SRVPORT')
    props(d, srv, 'is_listening', 'server_address', 'server_error', 'error_string')
    d.note('socket descriptor >= 0', q(d, srv.socket_descriptor) >= 0)
    cl = d.tcp_client(port)
    d.alias(cl.sock.getsockname()[1], 'CLIENTPORT')
    d.run_until(lambda: srv.has_pending_connections(), label='pending')
    drain_events(d)
    s = srv.next_pending_connection()
    props(d, s, 'state', 'open_mode', 'peer_name', 'peer_address', 'peer_port', 'local_address',
          'local_port', 'error', 'error_string', 'bytes_available', 'is_valid')
    srv.has_pending_connections()
    srv.next_pending_connection()
    cl.send(b'hello server')
    d.run_until(lambda: s.bytes_available() == 12, label='12 bytes')
    s.read_all()
    s.write(b'hello client')
    d.run_until(lambda: cl.got(12), label='client got 12')
    d.note('client got', cl.take())
    s.disconnect_from_host()
    d.poll_until(cl.closed, label='client sees close')


@scenario('server.accepted_remote_close', ref='§2.3 F on an accepted socket')
def _(d):
    srv = listening(d)
    cl = d.tcp_client(q(d, srv.server_port))
    d.run_until(lambda: srv.has_pending_connections(), label='pending')
    s = srv.next_pending_connection()
    cl.send(b'bye')
    cl.close()
    d.run_until(lambda: s.state() == UNCONNECTED, label='unconnected')
    props(d, s, 'state', 'error', 'error_string', 'bytes_available', 'is_open')
    s.read_all()


ANY_IS_V6 = ('porting guide: after listen/bind with no address (dual stack, Qt\'s Any) the '
             'address is "::", the address the socket is bound to: a GInetAddress has no '
             'dual-stack "any", and Qt prints its Any as "0.0.0.0"')


@scenario('server.listen_default', ref='§5.1 listen(Any) (observed "0.0.0.0" or "::")',
          differs=ANY_IS_V6,
          expect_qsock=replacing(("server_address: '0.0.0.0'", "server_address: '::'")))
def _(d):
    srv = d.tcp_server('srv')
    srv.listen()
    port = d.alias(q(d, srv.server_port), 'SRVPORT')
    props(d, srv, 'is_listening', 'server_address')
    cl = d.tcp_client(port, '127.0.0.1')
    d.run_until(lambda: srv.has_pending_connections(), label='pending v4')
    s = srv.next_pending_connection()
    props(d, s, 'peer_address', 'local_address')
    cl6 = d.tcp_client(port, '::1')
    d.run_until(lambda: srv.has_pending_connections(), label='pending v6')
    s6 = srv.next_pending_connection()
    props(d, s6, 'peer_address', 'local_address')


@scenario('server.listen_any_ipv4', ref='§5.1 listen')
def _(d):
    srv = d.tcp_server('srv')
    srv.listen('AnyIPv4')
    port = d.alias(q(d, srv.server_port), 'SRVPORT')
    props(d, srv, 'is_listening', 'server_address')
    d.tcp_client(port, '127.0.0.1')
    d.run_until(lambda: srv.has_pending_connections(), label='pending')
    s = srv.next_pending_connection()
    props(d, s, 'peer_address', 'local_address')


@scenario('server.listen_ipv6', ref='§5.1; tst_QTcpServer::ipv6Server')
def _(d):
    srv = d.tcp_server('srv')
    srv.listen('::1')
    port = d.alias(q(d, srv.server_port), 'SRVPORT')
    props(d, srv, 'is_listening', 'server_address')
    d.tcp_client(port, '::1')
    d.run_until(lambda: srv.has_pending_connections(), label='pending')
    s = srv.next_pending_connection()
    props(d, s, 'peer_address', 'local_address', 'state')


@scenario('server.listen_address_in_use', ref='§5.1 listen errors (probe_server S1); tst_QTcpServer::addressReusable',
          differs='porting guide: "A failed qsock_tcp_server_listen() closes the socket it '
                  'made; Qt keeps the descriptor open."',
          expect_qsock=replacing(('descriptor >= 0 = True', 'descriptor >= 0 = False')))
def _(d):
    peer = d.tcp_listener()
    srv = d.tcp_server('srv')
    srv.listen('127.0.0.1', peer.port)
    props(d, srv, 'is_listening', 'server_error', 'error_string', 'server_port')
    d.note('socket descriptor >= 0', q(d, srv.socket_descriptor) >= 0)


@scenario('server.listen_not_available', ref='§5.1 listen errors; tst_QTcpServer::listenError')
def _(d):
    srv = d.tcp_server('srv')
    srv.listen('1.2.3.4', 0)
    props(d, srv, 'is_listening', 'server_error', 'error_string')
    srv.listen('127.0.0.1', 0)
    props(d, srv, 'is_listening', 'server_error', 'error_string')


@scenario('server.listen_while_listening', ref='§5.1 listen; tst_QTcpServer::listenWhileListening')
def _(d):
    srv = listening(d)
    srv.listen('127.0.0.1', 0)
    props(d, srv, 'is_listening', 'server_error', 'error_string', 'server_port')


@scenario('server.close_and_listen_again', ref='§5.1 close()')
def _(d):
    srv = listening(d)
    srv.close()
    props(d, srv, 'is_listening', 'server_port', 'server_address', 'socket_descriptor',
          'server_error', 'error_string')
    srv.close()
    srv.listen('127.0.0.1', 0)
    props(d, srv, 'is_listening')


@scenario('server.close_with_pending', ref='§5.1 close() deletes pending sockets (probe_server S5)')
def _(d):
    srv = listening(d)
    cl = d.tcp_client(q(d, srv.server_port))
    d.run_until(lambda: srv.has_pending_connections(), label='pending')
    srv.close()
    props(d, srv, 'has_pending_connections', 'is_listening')
    d.poll_until(cl.closed, label='client sees close')
    srv.next_pending_connection()


@scenario('server.max_pending', ref='§5.1 maxPendingConnections (probe_server S2); §8.13; tst_QTcpServer::maxPendingConnections')
def _(d):
    srv = d.tcp_server('srv')
    srv.set_max_pending_connections(2)
    srv.max_pending_connections()
    with d.setup():
        srv.listen('127.0.0.1', 0)
    port = d.alias(q(d, srv.server_port), 'SRVPORT')
    n = counter(srv, 'new-connection')
    clients = [d.tcp_client(port) for _ in range(4)]
    d.run_until(lambda: n['n'] >= 2, label='2 accepted')
    drain_events(d, 200)
    d.note('accepted', n['n'])
    srv.next_pending_connection()
    d.run_until(lambda: n['n'] >= 3, label='3 accepted')
    drain_events(d, 100)
    srv.next_pending_connection()
    srv.next_pending_connection()
    d.run_until(lambda: n['n'] >= 4, label='4 accepted')
    drain_events(d, 100)
    d.note('accepted', n['n'])
    d.note('clients still open', [not c.closed() for c in clients])


@scenario('server.accept_burst', ref='§5.1 Accept (loops until EAGAIN)')
def _(d):
    srv = listening(d)
    n = counter(srv, 'new-connection')
    for _ in range(5):
        d.tcp_client(q(d, srv.server_port))
    d.run_until(lambda: n['n'] >= 5, label='5 accepted')
    drain_events(d)
    handles = [srv.next_pending_connection() for _ in range(6)]
    d.note('accepted', n['n'])


@scenario('server.pause_resume', ref='§5.1 pauseAccepting/resumeAccepting (probe_server S3); tst_QTcpServer::pauseAccepting')
def _(d):
    srv = listening(d)
    n = counter(srv, 'new-connection')
    srv.pause_accepting()
    clients = [d.tcp_client(q(d, srv.server_port)) for _ in range(3)]
    drain_events(d, 200)
    props(d, srv, 'has_pending_connections')
    srv.resume_accepting()
    d.run_until(lambda: n['n'] >= 3, label='3 accepted')
    drain_events(d)
    d.note('accepted', n['n'])


@scenario('server.pause_before_listen', ref='§5.1, §8.15 (Qt 6.4 dereferences a null engine)',
          differs='porting guide: pause_accepting()/resume_accepting() are safe before '
                  'listen(); in Qt 6.4 they dereference a null pointer',
          expect_qsock=['call srv.pause_accepting() -> None',
                        'call srv.resume_accepting() -> None',
                        'call srv.listen(\'127.0.0.1\', 0) -> True',
                        'loop srv.pending-connection-available()',
                        'loop srv.new-connection()',
                        'run_until pending -> True',
                        'end', 'teardown'])
def _(d):
    srv = d.tcp_server('srv')
    srv.pause_accepting()
    srv.resume_accepting()
    srv.listen('127.0.0.1', 0)
    d.tcp_client(q(d, srv.server_port))
    d.run_until(lambda: q(d, srv.has_pending_connections), label='pending')


@scenario('server.next_pending_after_pause',
          ref='§5.1 nextPendingConnection ("It re-enables accepting if it was paused")',
          differs='porting guide: qsock_tcp_server_next_pending_connection() does not undo an '
                  'explicit pause_accepting(); it only resumes a server that stopped because '
                  'its pending queue was full',
          expect_qsock=replacing(('note run_until second accepted = True',
                                  'note run_until second accepted = False'),
                                 ('note accepted = 2', 'note accepted = 1')))
def _(d):
    srv = listening(d)
    n = counter(srv, 'new-connection')
    d.tcp_client(q(d, srv.server_port))
    d.run_until(lambda: n['n'] >= 1, label='first accepted')
    srv.pause_accepting()
    d.tcp_client(q(d, srv.server_port))
    drain_events(d, 100)
    srv.next_pending_connection()
    with d.setup():
        ok = d.run_until(lambda: n['n'] >= 2, 500)
    d.note('run_until second accepted', ok)   # recorded as a note: the signals, if any,
    d.note('accepted', n['n'])                # were not recorded (setup)


@scenario('server.wait_for_new_connection', ref='§5.1 waitForNewConnection (probe_server S1); tst_QTcpServer::waitForConnectionTest')
def _(d):
    srv = d.tcp_server('srv')
    srv.wait_for_new_connection(10)
    props(d, srv, 'server_error', 'error_string')
    with d.setup():
        srv.listen('127.0.0.1', 0)
    port = d.alias(q(d, srv.server_port), 'SRVPORT')
    srv.wait_for_new_connection(100)
    props(d, srv, 'server_error', 'error_string', 'is_listening')
    d.tcp_client(port)
    srv.wait_for_new_connection(2000)
    props(d, srv, 'server_error', 'error_string', 'has_pending_connections')
    srv.next_pending_connection()
    d.tcp_client(port)
    srv.wait_for_new_connection(-1)
    srv.wait_for_new_connection(0)


@scenario('server.set_socket_descriptor', ref='§5.1 setSocketDescriptor (probe_server S6); tst_QTcpServer::setSocketDescriptor')
def _(d):
    raw = socket.socket()
    raw.bind(('127.0.0.1', 0))
    raw.listen(5)
    port = d.alias(raw.getsockname()[1], 'RAWPORT')
    srv = d.tcp_server('srv')
    srv.set_socket_descriptor(raw.detach())
    props(d, srv, 'is_listening', 'server_port', 'server_address', 'server_error')
    d.tcp_client(port)
    d.run_until(lambda: srv.has_pending_connections(), label='pending')
    s = srv.next_pending_connection()
    props(d, s, 'state', 'peer_address')
    srv.set_socket_descriptor(987)
    props(d, srv, 'is_listening', 'server_error', 'error_string')
    bad = d.tcp_server('bad')
    bad.set_socket_descriptor(987)
    props(d, bad, 'is_listening', 'server_error', 'error_string')


@scenario('server.pending_after_close', ref='§5.1 nextPendingConnection; tst_QTcpServer::canAccessPendingConnectionsWhileNotListening')
def _(d):
    srv = listening(d)
    d.tcp_client(q(d, srv.server_port))
    srv.wait_for_new_connection(2000)
    srv.close()
    srv.has_pending_connections()
    srv.next_pending_connection()


@scenario('server.backlog_size', ref='§5.1 Defaults (listenBacklogSize 50)')
def _(d):
    srv = d.tcp_server('srv')
    srv.listen_backlog_size()
    srv.set_listen_backlog_size(3)
    srv.listen_backlog_size()
    srv.set_max_pending_connections(0)
    srv.max_pending_connections()
    srv.set_max_pending_connections(-1)
    srv.max_pending_connections()


@scenario('server.accepted_write_then_close', ref='§2.3 J on an accepted socket; tst_QTcpServer::qtbug6305 (adapted)')
def _(d):
    srv = listening(d)
    cl = d.tcp_client(q(d, srv.server_port))
    d.run_until(lambda: srv.has_pending_connections(), label='pending')
    s = srv.next_pending_connection()
    s.write(b'z' * 20000)
    s.close()
    props(d, s, 'state', 'bytes_to_write', 'is_open')
    d.run_until(lambda: cl.closed(), label='client sees close')
    d.note('client got', len(cl.take()))
    d.run_until(lambda: s.state() == UNCONNECTED, label='unconnected')


@scenario('server.accept_error_out_of_fds', ref='§5.1 Accept errors ("pauseAccepting() then acceptError(SocketError)")',
          differs='porting guide: QSockTcpServer resumes accepting by itself a short while after '
                  'running out of descriptors (accept-error with SOCKET_RESOURCE); Qt stays '
                  'paused until resumeAccepting()',
          expect_qsock=replacing(('note accepted once descriptors are back = 0',
                                  'note accepted once descriptors are back = 1')))
def _(d):
    import os
    import resource
    srv = listening(d)
    errors = []
    srv.on('accept-error', errors.append)
    n = counter(srv, 'new-connection')
    port = q(d, srv.server_port)
    pending = socket.socket()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir('/proc/self/fd')) - 1     # less the listdir fd itself
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use, hard))
    try:
        pending.connect(('127.0.0.1', port))
        d.run_until(lambda: errors, 2000, label='accept error')
        with d.setup():
            d.spin(100)        # qsock retries meanwhile: how often is timing
        props(d, srv, 'is_listening', 'has_pending_connections', 'server_error', 'error_string')
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    with d.setup():
        d.run_until(lambda: n['n'] > 0, 3000)
    d.note('accepted once descriptors are back', n['n'])
    pending.close()


@scenario('server.server_address', ref='§5.1 serverPort()/serverAddress(); tst_QTcpServer::serverAddress')
def _(d):
    for tag, addr in (('v4', '127.0.0.1'), ('lh', 'LocalHost'), ('lh6', 'LocalHostIPv6'),
                      ('any4', 'AnyIPv4'), ('any6', 'AnyIPv6')):
        srv = d.tcp_server(tag)
        srv.listen(addr, 0)
        props(d, srv, 'server_address', 'is_listening')
        srv.close()
        props(d, srv, 'server_address', 'server_port')


@scenario('server.address_reusable', ref='§5.1 listen ("sets SO_REUSEADDR=1 on Unix"); tst_QTcpServer::addressReusable')
def _(d):
    srv = listening(d)
    port = q(d, srv.server_port)
    cl = d.tcp_client(port)
    d.run_until(lambda: srv.has_pending_connections(), label='pending')
    s = srv.next_pending_connection()
    s.disconnect_from_host()         # the server side closes first: TIME_WAIT here
    d.poll_until(cl.closed, label='client sees close')
    cl.close()
    srv.close()
    again = d.tcp_server('again')
    again.listen('127.0.0.1', port)
    props(d, again, 'is_listening', 'server_error', 'error_string')


@scenario('server.crash_tests', ref='tst_QTcpServer::crashTests, constructing')
def _(d):
    srv = d.tcp_server('srv')
    srv.close()
    srv.listen('127.0.0.1', 0)
    srv.close()
    srv.listen('127.0.0.1', 0)
    srv.close()
    srv.close()
    srv.next_pending_connection()
    srv.has_pending_connections()
    props(d, srv, 'is_listening', 'server_port', 'server_error', 'error_string')
