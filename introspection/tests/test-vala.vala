/* test-vala.vala: Vala through qsock-glib-1.0.vapi — TCP, UDP and Local end
 * to end on loopback, with signals carrying Qt's enums, bytes both ways,
 * the async pairs awaited with yield, errors caught as
 * QSock.SocketErrorDomain and GLib.IOError, and a TcpServer subclass
 * overriding incoming_connection as Qt code overrides incomingConnection().
 * Prints TAP; exits 1 if anything failed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

errordomain TestError {
	FAILED
}

int tests_run = 0;
int tests_failed = 0;

void check (bool condition, string what) throws TestError {
	if (!condition)
		throw new TestError.FAILED ("check failed: %s", what);
}

void check_text (string actual, string expected, string what) throws TestError {
	if (actual != expected)
		throw new TestError.FAILED ("%s: expected \"%s\", got \"%s\"", what, expected.escape (), actual.escape ());
}

void report (string name, GLib.Error? error) {
	tests_run++;
	if (error == null) {
		print ("ok %d - %s\n", tests_run, name);
		return;
	}
	tests_failed++;
	print ("not ok %d - %s\n# %s\n", tests_run, name, error.message);
}

string text_of (GLib.Bytes bytes) {
	var builder = new StringBuilder.sized (bytes.get_size () + 1);
	builder.append_len ((string) bytes.get_data (), (ssize_t) bytes.get_size ());
	return builder.str;
}

GLib.InetAddress localhost () {
	return new GLib.InetAddress.loopback (GLib.SocketFamily.IPV4);
}

/* Yields until @device emits ready-read (from the main loop). */
async void next_ready_read (QSock.IODevice device) {
	ulong id = 0;
	id = device.ready_read.connect (() => {
		device.disconnect (id);
		Idle.add (next_ready_read.callback);
	});
	yield;
}

/* A port nobody listens on. */
uint16 closed_port () throws TestError {
	var probe = new QSock.TcpServer ();
	check (probe.listen (localhost ()), "probe listen");
	var port = probe.get_server_port ();
	probe.close ();
	return port;
}

/* Qt's fortune wire format: one QDataStream QString, a big-endian quint32
 * byte count, then UTF-16BE. */
uint8[] fortune_frame (string text) {
	var units = new ByteArray ();
	unichar c;
	for (int i = 0; text.get_next_char (ref i, out c);) {
		/* BMP only, which is all this test sends. */
		units.append ({ (uint8) (c >> 8), (uint8) (c & 0xff) });
	}
	var frame = new ByteArray ();
	uint32 size = units.len;
	frame.append ({ (uint8) (size >> 24), (uint8) (size >> 16), (uint8) (size >> 8), (uint8) size });
	frame.append (units.data);
	return frame.data;
}

string fortune_text (GLib.Bytes body) {
	unowned uint8[] data = body.get_data ();
	var builder = new StringBuilder ();
	for (int i = 0; i + 1 < data.length; i += 2)
		builder.append_unichar ((unichar) (data[i] << 8 | data[i + 1]));
	return builder.str;
}

/* Qt's incomingConnection() override: count, then hand the descriptor to
 * the default, which queues a QSock.Tcp. */
class CountingServer : QSock.TcpServer {
	public int incoming = 0;

	public override void incoming_connection (int fd) {
		incoming++;
		base.incoming_connection (fd);
	}
}

/* ---- TCP ---------------------------------------------------------- */

async void tcp_connect_signals_and_bytes () throws GLib.Error {
	var server = new CountingServer ();
	check (server.listen (localhost ()), "listen");
	int new_connections = 0;
	server.new_connection.connect (() => new_connections++);

	var client = new QSock.Tcp ();
	QSock.SocketState[] states = {};
	client.state_changed.connect ((state) => states += state);
	bool host_found = false;
	client.host_found.connect (() => host_found = true);

	check (yield client.connect_to_host_async ("127.0.0.1", server.get_server_port ()), "connected");
	var peer = yield server.accept_async ();
	check (server.incoming == 1, "incoming_connection override ran");
	check (new_connections == 1, "new-connection");
	check (host_found, "host-found");
	check (states.length == 3, "three state changes");
	check (states[0] == QSock.SocketState.HOST_LOOKUP && states[1] == QSock.SocketState.CONNECTING
	       && states[2] == QSock.SocketState.CONNECTED, "HostLookup, Connecting, Connected");
	check (client.state == QSock.SocketState.CONNECTED, "state property");
	check (peer.get_peer_port () == client.get_local_port (), "peer port");
	check (client.get_peer_address ().to_string () == "127.0.0.1", "peer address");

	int64 written = 0;
	client.bytes_written.connect ((count) => written += count);
	check (client.write ("line one\nline two\n".data) == 18, "write(uint8[])");
	check (client.write_bytes (new GLib.Bytes ({ 0, 0xff, 0x7f })) == 3, "write_bytes");
	check (yield client.flush_async (), "flush");
	check (written == 21, "bytes-written adds up");

	check_text (text_of (yield peer.read_line_async ()), "line one\n", "read_line_async");
	check_text (text_of (peer.peek (4)), "line", "peek");
	check_text (text_of (peer.read_line ()), "line two\n", "read_line");
	var binary = yield peer.read_exactly_async (3);
	check (binary.compare (new GLib.Bytes ({ 0, 0xff, 0x7f })) == 0, "binary bytes intact");

	/* The Qt-style blocking wait works too (flush: nothing else would send
	 * the queued bytes while this thread blocks). */
	peer.write ("sync".data);
	check (peer.flush (), "flush");
	check (client.wait_for_ready_read (5000), "wait_for_ready_read");
	check_text (text_of (client.read_all ()), "sync", "read_all");
	server.close ();
}

async void tcp_fortune_with_transaction () throws GLib.Error {
	var server = new QSock.TcpServer ();
	check (server.listen (localhost ()), "listen");
	var client = new QSock.Tcp ();
	yield client.connect_to_host_async ("127.0.0.1", server.get_server_port ());
	var peer = yield server.accept_async ();

	var frame = fortune_frame ("Vala fortune: ünïcödé");
	/* ready-read comes from the main loop, after this handler is connected. */
	peer.write (frame[0:7]);
	yield next_ready_read (client);
	/* Half a frame: the fortune client's transaction rolls back. */
	client.start_transaction ();
	var header = client.read (4);
	check (header.get_size () == 4, "length inside the transaction");
	client.rollback_transaction ();
	check (client.bytes_available () == 7, "rolled back");

	peer.write (frame[7:frame.length]);
	var size_bytes = (yield client.read_exactly_async (4)).get_data ();
	uint32 size = size_bytes[0] << 24 | size_bytes[1] << 16 | size_bytes[2] << 8 | size_bytes[3];
	check_text (fortune_text (yield client.read_exactly_async (size)), "Vala fortune: ünïcödé", "fortune");
	server.close ();
}

async void tcp_errors () throws GLib.Error {
	var client = new QSock.Tcp ();
	QSock.SocketError[] errors = {};
	client.error_occurred.connect ((error) => errors += error);
	bool refused = false;
	try {
		yield client.connect_to_host_async ("127.0.0.1", closed_port ());
	} catch (QSock.SocketErrorDomain.CONNECTION_REFUSED e) {
		refused = true;
		check (e.domain == QSock.SocketErrorDomain.quark (), "error domain");
		check (e.code == QSock.SocketError.CONNECTION_REFUSED, "code matches the enum");
	}
	check (refused, "caught CONNECTION_REFUSED");
	check (errors.length == 1 && errors[0] == QSock.SocketError.CONNECTION_REFUSED, "error-occurred(ConnectionRefused)");
	check (client.get_error () == QSock.SocketError.CONNECTION_REFUSED, "get_error");
	check (client.error == QSock.SocketError.CONNECTION_REFUSED, "error property");
	check (client.get_error_string () == "Connection refused", "get_error_string");
	check (client.get_state () == QSock.SocketState.UNCONNECTED, "unconnected");

	/* The peer closing under a pending read. */
	var server = new QSock.TcpServer ();
	check (server.listen (localhost ()), "listen");
	var other = new QSock.Tcp ();
	yield other.connect_to_host_async ("127.0.0.1", server.get_server_port ());
	var peer = yield server.accept_async ();
	bool disconnected = false;
	other.disconnected.connect (() => disconnected = true);
	peer.write ("bye".data);
	peer.disconnect_from_host ();
	bool closed = false;
	try {
		yield other.read_exactly_async (100);
	} catch (QSock.SocketErrorDomain.REMOTE_HOST_CLOSED e) {
		closed = true;
	}
	check (closed, "caught REMOTE_HOST_CLOSED");
	check (yield other.wait_for_disconnected_async (), "wait_for_disconnected_async");
	check (disconnected, "disconnected");
	check (other.get_error () == QSock.SocketError.REMOTE_HOST_CLOSED, "RemoteHostClosedError");
	check_text (text_of (other.read_all ()), "bye", "nothing lost");
	server.close ();
}

async void tcp_cancel () throws GLib.Error {
	var server = new QSock.TcpServer ();
	check (server.listen (localhost ()), "listen");
	var client = new QSock.Tcp ();
	yield client.connect_to_host_async ("127.0.0.1", server.get_server_port ());
	var peer = yield server.accept_async ();

	var cancellable = new Cancellable ();
	Timeout.add (20, () => {
		cancellable.cancel ();
		return Source.REMOVE;
	});
	client.write ("partial".data);
	bool cancelled = false;
	try {
		yield peer.read_line_async (0, cancellable);
	} catch (IOError.CANCELLED e) {
		cancelled = true;
	}
	check (cancelled, "caught IOError.CANCELLED");
	check (peer.get_state () == QSock.SocketState.CONNECTED, "still connected");
	client.write (" line\n".data);
	check_text (text_of (yield peer.read_line_async ()), "partial line\n", "nothing lost by cancelling");

	/* A cancelled accept leaves the server listening. */
	var accept_cancel = new Cancellable ();
	accept_cancel.cancel ();
	cancelled = false;
	try {
		yield server.accept_async (accept_cancel);
	} catch (IOError.CANCELLED e) {
		cancelled = true;
	}
	check (cancelled && server.is_listening (), "accept cancelled, still listening");
	server.close ();
}

/* A coroutine resumes inside the completion callback, so the next call of
 * the same kind starts while the finished one is still unwinding. */
async void tcp_chained_reads () throws GLib.Error {
	var server = new QSock.TcpServer ();
	check (server.listen (localhost ()), "listen");
	var client = new QSock.Tcp ();
	yield client.connect_to_host_async ("127.0.0.1", server.get_server_port ());
	var peer = yield server.accept_async ();
	Timeout.add (20, () => {
		client.write ("one\ntwo\n".data);
		return Source.REMOVE;
	});
	check_text (text_of (yield peer.read_line_async ()), "one\n", "first line");
	check_text (text_of (yield peer.read_line_async ()), "two\n", "second line, chained");
	server.close ();
}

/* ---- UDP ---------------------------------------------------------- */

async void udp_datagrams () throws GLib.Error {
	var receiver = new QSock.Udp ();
	QSock.SocketState[] states = {};
	receiver.state_changed.connect ((state) => states += state);
	check (receiver.bind (localhost ()), "bind");
	check (states.length == 1 && states[0] == QSock.SocketState.BOUND, "state-changed(Bound)");
	var port = receiver.get_local_port ();

	var sender = new QSock.Udp ();
	check (sender.write_datagram ({ 'p', 'i', 'n', 'g', 0 }, localhost (), port) == 5, "write_datagram");
	yield next_ready_read (receiver);
	check (receiver.has_pending_datagrams (), "pending");
	check (receiver.pending_datagram_size () == 5, "pending_datagram_size");
	GLib.InetAddress? from;
	uint16 from_port;
	var data = receiver.read_datagram (100, out from, out from_port);
	check (data != null && data.compare (new GLib.Bytes ({ 'p', 'i', 'n', 'g', 0 })) == 0, "read_datagram");
	check (from.to_string () == "127.0.0.1" && from_port == sender.get_local_port (), "sender");

	sender.write_datagram_bytes (new GLib.Bytes ("async".data), localhost (), port);
	var datagram = yield receiver.receive_datagram_async ();
	check_text (text_of (datagram.get_data ()), "async", "receive_datagram_async");
	check (datagram.get_sender_port () == sender.get_local_port (), "datagram sender port");
	check (receiver.send_datagram (datagram.make_reply (new GLib.Bytes ("pong".data))) == 4, "reply");
	check_text (text_of ((yield sender.receive_datagram_async ()).data), "pong", "reply arrived");
}

async void udp_errors_and_cancel () throws GLib.Error {
	var receiver = new QSock.Udp ();
	check (receiver.bind (localhost ()), "bind");
	var other = new QSock.Udp ();
	QSock.SocketError[] errors = {};
	other.error_occurred.connect ((error) => errors += error);
	check (!other.bind (localhost (), receiver.get_local_port (), QSock.BindFlags.DONT_SHARE_ADDRESS), "bind a taken port");
	check (errors.length == 1 && errors[0] == QSock.SocketError.ADDRESS_IN_USE, "error-occurred(AddressInUse)");
	check (other.get_error () == QSock.SocketError.ADDRESS_IN_USE, "get_error");

	bool refused = false;
	try {
		yield new QSock.Udp ().receive_datagram_async ();
	} catch (QSock.SocketErrorDomain.OPERATION e) {
		refused = true;
	}
	check (refused, "receiving on an unbound socket: OPERATION");

	var cancellable = new Cancellable ();
	Timeout.add (20, () => {
		cancellable.cancel ();
		return Source.REMOVE;
	});
	bool cancelled = false;
	try {
		yield receiver.receive_datagram_async (cancellable);
	} catch (IOError.CANCELLED e) {
		cancelled = true;
	}
	check (cancelled, "caught IOError.CANCELLED");
	check (receiver.get_state () == QSock.SocketState.BOUND, "still bound");
	new QSock.Udp ().write_datagram ("after".data, localhost (), receiver.get_local_port ());
	check_text (text_of ((yield receiver.receive_datagram_async ()).data), "after", "a receive after cancelling");
}

/* ---- Local -------------------------------------------------------- */

async void local_end_to_end (string dir) throws GLib.Error {
	var path = Path.build_filename (dir, "vala.sock");
	var server = new QSock.LocalServer ();
	check (server.listen (path), "listen");
	var client = new QSock.Local ();
	QSock.LocalSocketState[] states = {};
	client.state_changed.connect ((state) => states += state);

	check (yield client.connect_to_server_async (path), "connected");
	var peer = yield server.accept_async ();
	check (states.length == 2 && states[0] == QSock.LocalSocketState.CONNECTING
	       && states[1] == QSock.LocalSocketState.CONNECTED, "Connecting, Connected");
	check (client.get_full_server_name () == path, "full server name");

	peer.write ("hello\n".data);
	check_text (text_of (yield client.read_line_async ()), "hello\n", "read_line_async");
	client.write_bytes (new GLib.Bytes ({ 1, 2, 3, 0 }));
	check ((yield peer.read_exactly_async (4)).compare (new GLib.Bytes ({ 1, 2, 3, 0 })) == 0, "read_exactly_async");

	QSock.LocalSocketError[] errors = {};
	client.error_occurred.connect ((error) => errors += error);
	peer.disconnect_from_server ();
	check (yield client.wait_for_disconnected_async (), "wait_for_disconnected_async");
	check (errors.length == 1 && errors[0] == QSock.LocalSocketError.PEER_CLOSED, "error-occurred(PeerClosed)");
	check (client.get_state () == QSock.LocalSocketState.UNCONNECTED, "unconnected");
	server.close ();

	var lost = new QSock.Local ();
	bool not_found = false;
	try {
		yield lost.connect_to_server_async (path);
	} catch (QSock.SocketErrorDomain.HOST_NOT_FOUND e) {
		/* The numbers are QSockLocalSocketError's. */
		not_found = e.code == QSock.LocalSocketError.SERVER_NOT_FOUND;
	}
	check (not_found, "caught ServerNotFound");
	check (lost.get_error () == QSock.LocalSocketError.SERVER_NOT_FOUND, "get_error");

	var listener = new QSock.LocalServer ();
	check (listener.listen (path), "listen again");
	var cancellable = new Cancellable ();
	Timeout.add (20, () => {
		cancellable.cancel ();
		return Source.REMOVE;
	});
	bool cancelled = false;
	try {
		yield listener.accept_async (cancellable);
	} catch (IOError.CANCELLED e) {
		cancelled = true;
	}
	check (cancelled && listener.is_listening (), "accept cancelled, still listening");
	listener.close ();
}

async void run_all (string dir) {
	GLib.Error? error = null;

	try { yield tcp_connect_signals_and_bytes (); } catch (GLib.Error e) { error = e; }
	report ("tcp: connect, accept, signals with enums, bytes both ways", error);
	error = null;
	try { yield tcp_fortune_with_transaction (); } catch (GLib.Error e) { error = e; }
	report ("tcp: a QDataStream QString frame with a transaction", error);
	error = null;
	try { yield tcp_errors (); } catch (GLib.Error e) { error = e; }
	report ("tcp: refused and closed, caught as QSock.SocketErrorDomain", error);
	error = null;
	try { yield tcp_cancel (); } catch (GLib.Error e) { error = e; }
	report ("tcp: cancelling read and accept", error);
	error = null;
	try { yield tcp_chained_reads (); } catch (GLib.Error e) { error = e; }
	report ("tcp: read_line_async chained from the previous completion", error);
	error = null;
	try { yield udp_datagrams (); } catch (GLib.Error e) { error = e; }
	report ("udp: bind, datagrams in and out, replies", error);
	error = null;
	try { yield udp_errors_and_cancel (); } catch (GLib.Error e) { error = e; }
	report ("udp: errors and cancelling a receive", error);
	error = null;
	try { yield local_end_to_end (dir); } catch (GLib.Error e) { error = e; }
	report ("local: connect, talk, close, not found, cancel", error);
}

int main () {
	print ("1..8\n");
	string dir;
	try {
		dir = DirUtils.make_tmp ("qsock-vala-XXXXXX");
	} catch (FileError e) {
		print ("Bail out! %s\n", e.message);
		return 1;
	}
	var loop = new MainLoop ();
	Timeout.add_seconds (30, () => {
		print ("Bail out! timed out\n");
		Process.exit (1);
	});
	run_all.begin (dir, (obj, res) => {
		run_all.end (res);
		loop.quit ();
	});
	loop.run ();
	DirUtils.remove (dir);
	return tests_failed == 0 ? 0 : 1;
}
