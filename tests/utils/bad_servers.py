"""HTTP servers on 127.0.0.1 that misbehave the way real ones do.

Each is a raw socket server run in a thread: it reads a request's headers
and hands the connection to a ``respond(conn, path)`` function. The
answers here are the ones downloads must survive: a drip of one byte at a
time, a body shorter than its ``Content-Length``, an HTML page with
HTTP 200.
"""
import contextlib
import socket
import threading
import time
from typing import Callable, Iterator, List

__all__ = ['drip', 'html_page', 'serve', 'short_body', 'HTML_PAGE']

#: An 88-byte login page.
HTML_PAGE = (b'<!DOCTYPE html><html><head><title>Sign in</title></head>'
             b'<body>Sign in now</body></html>\n')
assert len(HTML_PAGE) == 88


def _headers(length: int, content_type: str = 'application/octet-stream'
             ) -> bytes:
    return (f'HTTP/1.0 200 OK\r\nContent-Type: {content_type}\r\n'
            f'Content-Length: {length}\r\n\r\n').encode()


def drip(interval: float, length: int = 1 << 20,
         stop_after: float = 20.0, headers_too: bool = False
         ) -> Callable[[socket.socket, str], None]:
    """Send headers announcing ``length`` bytes, then one byte every
    ``interval`` seconds (the headers too, one byte at a time, if
    ``headers_too``); close after ``stop_after`` seconds, so that a client
    without a deadline ends the test instead of hanging it."""

    def respond(conn: socket.socket, path: str) -> None:
        end = time.monotonic() + stop_after
        head = _headers(length)
        if not headers_too:
            conn.sendall(head)
            head = b''
        data = head + b'\0' * length
        for i in range(len(data)):
            if time.monotonic() > end:
                return
            conn.sendall(data[i:i + 1])
            time.sleep(interval)

    return respond


def short_body(body: bytes, declared: int
               ) -> Callable[[socket.socket, str], None]:
    """Announce ``declared`` bytes, send ``body`` and close."""

    def respond(conn: socket.socket, path: str) -> None:
        conn.sendall(_headers(declared) + body)

    return respond


def html_page(page: bytes = HTML_PAGE
              ) -> Callable[[socket.socket, str], None]:
    """Answer every path with HTTP 200 and ``page`` (text/html)."""

    def respond(conn: socket.socket, path: str) -> None:
        conn.sendall(_headers(len(page), 'text/html') + page)

    return respond


@contextlib.contextmanager
def serve(respond: Callable[[socket.socket, str], None]) -> Iterator[str]:
    """Run a server that answers every request with ``respond``.

    Yields:
        str: Its base URL, ``http://127.0.0.1:PORT``.
    """
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(('127.0.0.1', 0))
    server.listen(16)
    server.settimeout(0.1)
    stop = threading.Event()
    threads: List[threading.Thread] = []

    def handle(conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(30)
                request = b''
                while b'\r\n\r\n' not in request:
                    data = conn.recv(4096)
                    if not data:
                        return
                    request += data
                path = request.split(b' ')[1].decode()
                respond(conn, path)
            except OSError:
                pass  # the client went away

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=handle, args=(conn, ),
                                      daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f'http://127.0.0.1:{server.getsockname()[1]}'
    finally:
        stop.set()
        acceptor.join(timeout=5)
        server.close()
