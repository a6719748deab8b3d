/* fortune-client.vala: Qt's Fortune Client in Vala, on qsock-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   fortune-client-vala --port PORT [--host HOST] [--timeout MS]
 *
 * Fetches one fortune from a fortune server (ours or Qt's) and prints it.
 * Written as Qt's client is: connect_to_host(), then on every ready_read
 * try to read the whole QDataStream QString inside a read transaction,
 * rolling back while it has not all arrived:
 *
 *   in.startTransaction();
 *   QString nextFortune;
 *   in >> nextFortune;
 *   if (!in.commitTransaction())
 *       return;
 */

errordomain FortuneError {
    NOT_A_QSTRING
}

class FortuneClient : Object {
    const uint32 NULL_QSTRING = 0xffffffffU;

    QSock.Tcp socket = new QSock.Tcp ();
    MainLoop loop;
    bool waiting;
    public int exit_status { get; private set; default = 1; }

    public FortuneClient (MainLoop loop) {
        this.loop = loop;
        socket.ready_read.connect (read_fortune);
        socket.error_occurred.connect (display_error);
        socket.disconnected.connect (on_disconnected);
    }

    public void request_new_fortune (string host, uint16 port) {
        waiting = true;
        socket.connect_to_host (host, port);
    }

    /* `in >> fortune` without the transaction: null while the string has
     * not all arrived. Nothing is allocated for bytes not yet here. */
    string? read_qstring () throws Error {
        var header = socket.read (4);
        if (header.get_size () < 4)
            return null;

        unowned uint8[] h = header.get_data ();
        uint32 length = (uint32) h[0] << 24 | (uint32) h[1] << 16 | (uint32) h[2] << 8 | h[3];
        if (length == NULL_QSTRING)
            return "";
        if (length % 2 != 0)
            throw new FortuneError.NOT_A_QSTRING ("an odd UTF-16 byte count");
        if (socket.bytes_available () < length)
            return null;

        var text = socket.read (length);
        return convert ((string) text.get_data (), (ssize_t) length, "UTF-8", "UTF-16BE");
    }

    void read_fortune () {
        if (!waiting)
            return;

        string? fortune;
        socket.start_transaction ();
        try {
            fortune = read_qstring ();
        } catch (Error e) {
            socket.commit_transaction ();
            finish (1, "the server sent something that is not a QString: %s".printf (e.message));
            return;
        }
        if (fortune == null) {
            socket.rollback_transaction ();
            return;
        }
        socket.commit_transaction ();

        stdout.printf ("%s\n", fortune);
        stdout.flush ();
        finish (0, null);
    }

    void display_error (QSock.SocketError error) {
        switch (error) {
        case QSock.SocketError.REMOTE_HOST_CLOSED:
            /* The server always closes after the fortune. */
            return;
        case QSock.SocketError.HOST_NOT_FOUND:
            finish (1, "The host was not found. Please check the host name and port settings.");
            break;
        case QSock.SocketError.CONNECTION_REFUSED:
            finish (1, "The connection was refused by the peer. Make sure the fortune server " +
                       "is running, and check that the host name and port settings are correct.");
            break;
        default:
            finish (1, "The following error occurred: %s.".printf (socket.get_error_string ()));
            break;
        }
    }

    void on_disconnected () {
        if (waiting)
            finish (1, "the server closed the connection before a whole fortune arrived");
    }

    public void finish (int status, string? message) {
        if (message != null)
            stderr.printf ("fortune-client-vala: %s\n", message);
        waiting = false;
        exit_status = status;
        loop.quit ();
    }
}

static string? host = null;
static int port = 0;
static int timeout_ms = 30000;

const OptionEntry[] ENTRIES = {
    { "host", 'H', OptionFlags.NONE, OptionArg.STRING, ref host,
      "The server's host name or address (default localhost)", "HOST" },
    { "port", 'p', OptionFlags.NONE, OptionArg.INT, ref port,
      "The server's port (required)", "PORT" },
    { "timeout", 't', OptionFlags.NONE, OptionArg.INT, ref timeout_ms,
      "Give up after MS milliseconds (default 30000)", "MS" },
    { null }
};

int main (string[] args) {
    Intl.setlocale (LocaleCategory.ALL, "");

    var context = new OptionContext (null);
    context.set_summary ("Qt's Fortune Client on qsock-glib, in Vala: fetches a fortune\n" +
                         "from a fortune server (qsock-glib's or Qt's) and prints it.");
    context.add_main_entries (ENTRIES, null);
    try {
        context.parse (ref args);
    } catch (OptionError e) {
        stderr.printf ("fortune-client-vala: %s\n", e.message);
        return 2;
    }
    if (port < 1 || port > uint16.MAX) {
        stderr.printf ("fortune-client-vala: --port must be between 1 and 65535\n");
        return 2;
    }

    var loop = new MainLoop ();
    var client = new FortuneClient (loop);
    Timeout.add (timeout_ms, () => {
        client.finish (1, "timed out waiting for a fortune");
        return Source.REMOVE;
    });
    client.request_new_fortune (host ?? "localhost", (uint16) port);
    loop.run ();
    return client.exit_status;
}
