"""Serve Keystone's public WSGI application on one loopback port, multi-threaded.

keystone-wsgi-public (Debian python3-keystone) serves with wsgiref's single-threaded server;
Heat's auth_token middleware and the tests talk to Keystone concurrently, so this wrapper
uses a ThreadingMixIn server instead. Usage (run with /usr/bin/python3):

    keystone_server.py HOST PORT -- --config-file keystone.conf
"""
import socketserver
import sys
import wsgiref.simple_server as wss


class ThreadingWSGIServer(socketserver.ThreadingMixIn, wss.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class QuietHandler(wss.WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - keystone logs requests itself
        pass


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    if rest and rest[0] == '--':
        rest = rest[1:]
    sys.argv[1:] = rest
    from keystone.server.wsgi import initialize_public_application
    app = initialize_public_application()
    server = wss.make_server(host, port, app, server_class=ThreadingWSGIServer,
                             handler_class=QuietHandler)
    print('keystone listening on http://%s:%d/' % (host, port), flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
