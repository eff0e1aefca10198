"""A TCP proxy that adds network latency: loopback made to behave like a distant network.

    python bench/latency_proxy.py --rtt-ms 100 127.0.0.1:18081=127.0.0.1:18080 127.0.1.2:15433=127.0.0.1:15432

Each mapping forwards a listen address to a target address. For a round trip time RTT:

- a new connection relays nothing before one RTT has passed since it was accepted (what the TCP
  handshake costs a client on a real network before its first byte can leave);
- every chunk, in each direction, is delivered half an RTT after it was read, in order. Chunks
  wait in a timestamped queue per direction, so a chunk is never held behind the delay of the
  one before it: a stream costs one delay, not one per chunk;
- a half-close (EOF) is passed on after the same delay, so a peer that shuts down its writing
  side still reads the answer; a reset or an unreachable target closes the other side too.

As a library (bench/run.py), the proxy runs its own event loop in a thread:

    proxy = LatencyProxy([Mapping("127.0.0.1", 0, "127.0.0.1", 18080)], rtt_ms=100)
    proxy.start()
    host, port = proxy.addresses[0]
    ...
    proxy.stop()

Standard library only. Listen addresses may be any loopback address (127.0.1.N for a fleet of
environments): on Linux the whole 127.0.0.0/8 is routed to the loopback interface.
"""

import argparse
import asyncio
import collections
import signal
import sys
import threading

Mapping = collections.namedtuple("Mapping", "listen_host listen_port target_host target_port")

CHUNK_SIZE = 65536
# Chunks queued per direction before the reader stops reading (TCP back-pressure then applies).
MAX_QUEUED_CHUNKS = 64
_RESET = object()


class ProxyError(RuntimeError):
    """A proxy that cannot start (bad mapping, address in use)."""


def _split_address(text, default_host="127.0.0.1"):
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    host = host.strip("[]") or default_host
    try:
        number = int(port)
    except ValueError:
        raise ProxyError("%r: the port must be a number" % text)
    if not 0 <= number <= 65535:
        raise ProxyError("%r: the port must be between 0 and 65535" % text)
    return host, number


def parse_mapping(text):
    """``[LISTEN_HOST:]PORT=[TARGET_HOST:]PORT`` (hosts default to 127.0.0.1; listen port 0 picks one)."""
    listen, sep, target = text.partition("=")
    if not sep or not listen or not target:
        raise ProxyError("%r is not a mapping: expected [LISTEN_HOST:]PORT=[TARGET_HOST:]PORT" % text)
    listen_host, listen_port = _split_address(listen)
    target_host, target_port = _split_address(target)
    if target_port == 0:
        raise ProxyError("%r: the target port cannot be 0" % text)
    return Mapping(listen_host, listen_port, target_host, target_port)


class _Stats:
    """Counters of one mapping (updated in the proxy's loop; read from any thread)."""

    def __init__(self):
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0
        # Changes of direction of the data flow, summed over connections: each one is half a round
        # trip a client waits for at least once (a request/answer exchange counts two).
        self.turns = 0

    def as_dict(self):
        return {"connections": self.connections, "bytes_up": self.bytes_up, "bytes_down": self.bytes_down,
                "turns": self.turns}


class LatencyProxy:
    """Forward every mapping with ``rtt_ms`` of round trip time (0 forwards without delay)."""

    def __init__(self, mappings, rtt_ms=100.0, chunk_size=CHUNK_SIZE):
        if not mappings:
            raise ProxyError("no mapping to proxy")
        if rtt_ms < 0:
            raise ProxyError("the round trip time cannot be negative (%r ms)" % rtt_ms)
        self.mappings = [m if isinstance(m, Mapping) else Mapping(*m) for m in mappings]
        self.rtt = rtt_ms / 1000.0
        self.chunk_size = chunk_size
        self.addresses = []
        self._stats = [_Stats() for dummy in self.mappings]
        self._servers = []
        self._tasks = set()
        self._loop = None
        self._thread = None

    # Public interface ---------------------------------------------------------------------
    def start(self, timeout=10.0):
        """Bind every listen address and relay in a background thread; returns the addresses."""
        if self._thread is not None:
            raise ProxyError("the proxy is already running")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="latency-proxy", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.open(), self._loop)
        try:
            future.result(timeout)
        except BaseException:
            self.stop()
            raise
        return self.addresses

    def stop(self, timeout=10.0):
        """Close the listeners and every relayed connection; wait for the thread to end."""
        if self._thread is None:
            return
        if self._loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.close(), self._loop)
            try:
                future.result(timeout)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None
        self._loop = None

    def stats(self):
        """Per mapping (in order): connections, bytes up/down, turns of direction."""
        return [s.as_dict() for s in self._stats]

    def reset_stats(self):
        for stats in self._stats:
            stats.__init__()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # Inside the event loop ----------------------------------------------------------------
    def _run_loop(self):
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def open(self):
        """Start the listeners on the running loop (also usable from asyncio code directly)."""
        self.addresses = []
        try:
            for index, mapping in enumerate(self.mappings):
                server = await asyncio.start_server(
                    lambda r, w, i=index: self._connection(i, r, w), mapping.listen_host, mapping.listen_port,
                    reuse_address=True, backlog=512)
                self._servers.append(server)
                self.addresses.append(server.sockets[0].getsockname()[:2])
        except OSError as exc:
            await self.close()
            where = "%s:%d" % (mapping.listen_host, mapping.listen_port)
            raise ProxyError("cannot listen on %s: %s" % (where, exc.strerror or exc))

    async def close(self):
        for server in self._servers:
            server.close()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers = []

    async def _connection(self, index, client_reader, client_writer):
        task = asyncio.current_task()
        self._tasks.add(task)
        loop = asyncio.get_running_loop()
        # Nothing is relayed before the handshake a real network would cost has passed.
        gate = loop.time() + self.rtt
        mapping, stats = self.mappings[index], self._stats[index]
        stats.connections += 1
        upstream_writer = None
        pipes = []
        try:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(mapping.target_host,
                                                                                 mapping.target_port)
            except OSError:
                client_writer.transport.abort()
                return
            flow = {"last": None}
            pipes = [asyncio.ensure_future(self._pipe(client_reader, upstream_writer, gate, stats, "up", flow)),
                     asyncio.ensure_future(self._pipe(upstream_reader, client_writer, gate, stats, "down", flow))]
            pending = set(pipes)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if any(t.cancelled() or t.exception() is not None or t.result() == "reset" for t in done):
                    # A reset on one side resets the other: nothing more can be relayed.
                    for writer in (client_writer, upstream_writer):
                        writer.transport.abort()
                    break
        except asyncio.CancelledError:
            # stop(): the connection ends here; the task asyncio made for it ends without an error.
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    writer.transport.abort()
        finally:
            for pipe in pipes:
                pipe.cancel()
            if pipes:
                await asyncio.gather(*pipes, return_exceptions=True)
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    writer.close()
            self._tasks.discard(task)

    async def _pipe(self, reader, writer, gate, stats, direction, flow):
        """Relay one direction; returns "eof" after a clean half-close, "reset" otherwise."""
        loop = asyncio.get_running_loop()
        half = self.rtt / 2.0
        queue = asyncio.Queue(MAX_QUEUED_CHUNKS)

        async def read():
            try:
                while True:
                    data = await reader.read(self.chunk_size)
                    if data:
                        if flow["last"] != direction:
                            flow["last"] = direction
                            stats.turns += 1
                        if direction == "up":
                            stats.bytes_up += len(data)
                        else:
                            stats.bytes_down += len(data)
                    await queue.put((max(loop.time(), gate) + half, data))
                    if not data:
                        return
            except (ConnectionError, OSError):
                await queue.put((max(loop.time(), gate) + half, _RESET))

        reading = asyncio.ensure_future(read())
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is _RESET:
                    return "reset"
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return "eof"
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return "reset"
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="TCP proxy that injects a round trip time (loopback only)")
    parser.add_argument("--rtt-ms", type=float, default=100.0, help="round trip time in ms (default 100)")
    parser.add_argument("mappings", nargs="+", metavar="[LISTEN_HOST:]PORT=[TARGET_HOST:]PORT")
    args = parser.parse_args(argv)
    # The proxy's thread inherits the blocked signals: they all wait for sigwait() below.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        proxy = LatencyProxy([parse_mapping(m) for m in args.mappings], rtt_ms=args.rtt_ms)
        proxy.start()
    except ProxyError as exc:
        print("latency_proxy: error: %s" % exc, file=sys.stderr)
        return 2
    for mapping, (host, port) in zip(proxy.mappings, proxy.addresses):
        print("%s:%d -> %s:%d (rtt %g ms)" % (host, port, mapping.target_host, mapping.target_port, args.rtt_ms),
              flush=True)
    signal.sigwait(stop_signals)
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
