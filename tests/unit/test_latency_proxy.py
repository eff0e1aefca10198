"""bench/latency_proxy.py: bytes intact, the round trip and handshake delays, close propagation."""

import os
import socket
import socketserver
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from latency_proxy import LatencyProxy, Mapping, ProxyError, parse_mapping  # noqa: E402

RTT = 0.1


class _Handler(socketserver.BaseRequestHandler):
    """echo: answers every chunk; greet: says hello first; drain: reads to EOF, then answers."""

    def handle(self):
        mode = self.server.mode
        sock = self.request
        if mode == "greet":
            sock.sendall(b"hello\n")
        if mode == "drain":
            total = 0
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                total += len(data)
            sock.sendall(b"got %d bytes" % total)
            return
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionError:
                return
            if not data:
                return
            sock.sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode):
        self.mode = mode
        super().__init__(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server_address[1]

    def close(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def server(request):
    servers = []

    def make(mode="echo"):
        srv = _Server(mode)
        servers.append(srv)
        return srv
    yield make
    for srv in servers:
        srv.close()


@pytest.fixture
def proxy():
    proxies = []

    def make(target_ports, rtt_ms=RTT * 1000, listen_host="127.0.0.1"):
        p = LatencyProxy([Mapping(listen_host, 0, "127.0.0.1", port) for port in target_ports], rtt_ms=rtt_ms)
        p.start()
        proxies.append(p)
        return p
    yield make
    for p in proxies:
        p.stop()


def _connect(address):
    sock = socket.create_connection(address, timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv_exactly(sock, size):
    chunks, got = [], 0
    while got < size:
        data = sock.recv(min(65536, size - got))
        assert data, "connection closed after %d of %d bytes" % (got, size)
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)


def _recv_all(sock):
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def test_bytes_are_forwarded_intact_both_ways(server, proxy):
    echo = server("echo")
    p = proxy([echo.port], rtt_ms=10)
    payload = os.urandom(3 * 1024 * 1024 + 17)
    with _connect(p.addresses[0]) as sock:
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        answer = _recv_exactly(sock, len(payload))
        sender.join()
    assert answer == payload
    stats = p.stats()[0]
    assert stats["connections"] == 1
    assert stats["bytes_up"] == stats["bytes_down"] == len(payload)


def test_a_request_answer_round_trip_costs_the_rtt_and_not_much_more(server, proxy):
    p = proxy([server("echo").port])
    with _connect(p.addresses[0]) as sock:
        started = time.monotonic()
        sock.sendall(b"ping")
        assert _recv_exactly(sock, 4) == b"ping"
        first = time.monotonic() - started
        started = time.monotonic()
        sock.sendall(b"pong")
        assert _recv_exactly(sock, 4) == b"pong"
        second = time.monotonic() - started
    # The first exchange pays the handshake (one RTT) and the round trip (one RTT).
    assert 2 * RTT - 0.005 <= first < 2 * RTT + 0.1
    # Later exchanges on the open connection pay the round trip only.
    assert RTT - 0.005 <= second < RTT + 0.08


def test_a_new_connection_waits_one_round_trip_before_its_first_byte(server, proxy):
    p = proxy([server("greet").port])
    started = time.monotonic()
    with _connect(p.addresses[0]) as sock:
        assert _recv_exactly(sock, 6) == b"hello\n"
    elapsed = time.monotonic() - started
    # Sent by the server at once: held until the handshake is done, then half a round trip.
    assert 1.5 * RTT - 0.005 <= elapsed < 1.5 * RTT + 0.08


def test_chunks_are_not_serialised_behind_each_others_delay(server, proxy):
    p = proxy([server("echo").port])
    with _connect(p.addresses[0]) as sock:
        sock.sendall(b"x")
        _recv_exactly(sock, 1)
        started = time.monotonic()
        for index in range(10):
            sock.sendall(b"%02d" % index)
            time.sleep(0.01)
        answer = _recv_exactly(sock, 20)
        elapsed = time.monotonic() - started
    assert answer == b"".join(b"%02d" % i for i in range(10))
    # Ten chunks spread over 0.1 s come back one RTT after the last one, not ten RTTs later.
    assert elapsed < 0.1 + RTT + 0.1


def test_a_half_close_is_passed_on_and_the_answer_still_arrives(server, proxy):
    p = proxy([server("drain").port], rtt_ms=20)
    with _connect(p.addresses[0]) as sock:
        sock.sendall(b"a" * 1000)
        sock.shutdown(socket.SHUT_WR)
        # The server sees EOF only through the proxy, answers, closes: the client reads all, then EOF.
        assert _recv_all(sock) == b"got 1000 bytes"


def test_the_server_closing_closes_the_client(server, proxy):
    p = proxy([server("greet").port], rtt_ms=20)
    with _connect(p.addresses[0]) as sock:
        assert _recv_exactly(sock, 6) == b"hello\n"
        sock.shutdown(socket.SHUT_WR)
        assert _recv_all(sock) == b""


def test_an_unreachable_target_closes_the_client_connection(proxy):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    p = proxy([closed_port], rtt_ms=20)
    with _connect(p.addresses[0]) as sock:
        sock.settimeout(2)
        try:
            data = sock.recv(10)
        except ConnectionResetError:
            data = b""
    assert data == b""


def test_several_mappings_and_other_loopback_addresses(server, proxy):
    first, second = server("echo"), server("greet")
    p = proxy([first.port, second.port], rtt_ms=0, listen_host="127.0.1.7")
    assert [host for host, dummy in p.addresses] == ["127.0.1.7", "127.0.1.7"]
    with _connect(p.addresses[0]) as one, _connect(p.addresses[1]) as two:
        one.sendall(b"abc")
        assert _recv_exactly(one, 3) == b"abc"
        assert _recv_exactly(two, 6) == b"hello\n"


def test_stop_closes_open_connections_and_leaves_no_task(server):
    p = LatencyProxy([Mapping("127.0.0.1", 0, "127.0.0.1", server("echo").port)], rtt_ms=10)
    p.start()
    sock = _connect(p.addresses[0])
    sock.sendall(b"hi")
    assert _recv_exactly(sock, 2) == b"hi"
    thread = p._thread
    p.stop()
    assert not thread.is_alive()
    assert not p._tasks
    sock.settimeout(2)
    try:
        assert sock.recv(10) == b""
    except ConnectionResetError:
        pass
    sock.close()
    with pytest.raises(OSError):
        socket.create_connection(p.addresses[0], timeout=1).close()


def test_a_busy_listen_address_is_a_clear_error():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        p = LatencyProxy([Mapping("127.0.0.1", holder.getsockname()[1], "127.0.0.1", 9)], rtt_ms=0)
        with pytest.raises(ProxyError, match="cannot listen on 127.0.0.1:%d" % holder.getsockname()[1]):
            p.start()
        assert p._thread is None
    finally:
        holder.close()


@pytest.mark.parametrize("text, expected", [
    ("18081=18080", Mapping("127.0.0.1", 18081, "127.0.0.1", 18080)),
    ("127.0.1.3:0=127.0.0.1:5432", Mapping("127.0.1.3", 0, "127.0.0.1", 5432)),
])
def test_parse_mapping(text, expected):
    assert parse_mapping(text) == expected


@pytest.mark.parametrize("text", ["18080", "a=b", "1=0", "1=70000", "=5"])
def test_parse_mapping_rejects_bad_input(text):
    with pytest.raises(ProxyError):
        parse_mapping(text)


def test_command_line_rejects_a_bad_mapping_without_a_traceback():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "latency_proxy.py"), "nonsense"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert "latency_proxy: error:" in proc.stderr and "Traceback" not in proc.stderr
