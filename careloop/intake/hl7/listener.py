"""P4.2: the MLLP listener (`careloop hl7 listen`), on python-hl7's asyncio server.

The event loop only moves bytes. Each connection reads one MLLP block at a time as *raw bytes*
(python-hl7's ``readmessage`` would decode with one fixed encoding before we could read MSH-18)
and waits for its ACK before reading the next, so one sender's messages are applied in the order
sent. The database work runs in worker threads (Django's ORM is synchronous), each keeping its
connection and its cached department/staff lookups for the listener's lifetime.

Group commit (S4 kept): a worker takes every message waiting at that moment — from different
connections — and processes them in one transaction, each message in its own savepoint; every
ACK is written only after that commit. Under load this turns one WAL flush per message into one
per batch; with a single sender it is simply one message per transaction.

The listener never stops because of a message: bad input is answered AE/AR, a database outage
AR (resend), a broken connection is closed, and SIGINT/SIGTERM finish the work in hand first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from asyncio import IncompleteReadError, LimitOverrunError
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, connections
from hl7.mllp import start_hl7_server

from careloop.audit.context import Actor, acting_as
from careloop.intake.hl7.parse import CR, EB, MAX_MESSAGE, OVERSIZE, SB, unframe

logger = logging.getLogger("careloop.intake.hl7")

SEPARATOR = EB + CR


class Dispatcher:
    """Queues messages from all connections and feeds them to the worker threads in batches."""

    # How long a batch may wait for messages that other busy connections are about to send:
    # when ACKs go out together, the senders answer within a fraction of a millisecond of each
    # other, and waiting for them turns many one-message commits into one. A lone sender never
    # waits (it is the only connection with work in hand).
    LINGER = 0.002

    def __init__(self, *, workers: int = 1, max_batch: int = 100):
        self.workers = workers
        self.max_batch = max_batch
        self.queue: asyncio.Queue = asyncio.Queue()
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="hl7-db")
        self._local = threading.local()
        self._tasks: list[asyncio.Task] = []
        self.processed = 0
        self.batches = 0
        self.connections = 0  # open connections; the ones not waiting for an ACK may send soon
        self.in_flight = 0  # messages taken by a worker, ACK not yet sent

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._consume()) for _ in range(self.workers)]

    async def submit(self, payload: bytes) -> bytes:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((payload, future))
        return await future

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = await self.queue.get()
            if item is None:  # drain()'s stop mark: everything queued before it is done
                break
            batch = await self._collect(item)
            self.in_flight += len(batch)
            payloads = [payload for payload, _future in batch]
            try:
                acks = await loop.run_in_executor(self.executor, self._run, payloads)
            except Exception:  # _run never raises; this is the last line of defence
                logger.exception("HL7 worker failed")
                acks = [None] * len(batch)
            self.in_flight -= len(batch)
            for (_payload, future), ack in zip(batch, acks, strict=True):
                if not future.done():
                    future.set_result(ack)
            self.processed += len(batch)
            self.batches += 1

    async def _collect(self, first) -> list:
        batch = [first]
        deadline = None
        while len(batch) < self.max_batch:
            if self.queue.empty():
                # Others connected and not yet waiting for an ACK: their message may be a
                # moment away. Otherwise go now.
                if self.connections - self.in_flight - len(batch) <= 0:
                    break
                loop = asyncio.get_running_loop()
                deadline = deadline or loop.time() + self.LINGER
                try:
                    item = await asyncio.wait_for(self.queue.get(), deadline - loop.time())
                except TimeoutError:
                    break
            else:
                item = self.queue.get_nowait()
            if item is None:
                self.queue.put_nowait(None)  # drain(): this consumer stops on its next round
                break
            batch.append(item)
        return batch

    def _run(self, payloads: list[bytes]) -> list[bytes | None]:
        """In a worker thread: the batch's ACK payloads, after commit."""
        from careloop.intake.hl7.processing import Processor

        processor = getattr(self._local, "processor", None)
        if processor is None:
            processor = self._local.processor = Processor()
        with acting_as(Actor(name="system:hl7")):
            return [ack.payload for ack in processor.process_batch(payloads)]

    async def drain(self) -> None:
        """Finish every queued message, then close each worker thread's database connection
        in that thread (Django connections are per thread)."""
        for _ in self._tasks:
            self.queue.put_nowait(None)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        barrier = threading.Barrier(self.workers)

        def close():
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)  # holds each thread until all have a job: one per thread
            connections.close_all()

        await asyncio.gather(
            *(loop.run_in_executor(self.executor, close) for _ in range(self.workers))
        )
        self.executor.shutdown(wait=True)


async def _read_block(reader) -> bytes | None:
    """The next MLLP block as raw bytes; None at end of stream."""
    try:
        block = await reader.readuntil(SEPARATOR)
    except IncompleteReadError as exc:
        if exc.partial.strip(b"\r\n\x0b\x1c \t"):
            logger.warning("HL7 connection closed mid-message (%d bytes dropped)", len(exc.partial))
        return None
    except LimitOverrunError as exc:
        # Skip the oversized block (it is answered AR) and carry on with the next one.
        buffer = (
            reader._buffer
        )  # what StreamReader.readuntil leaves us to clear, as python-hl7 does
        if buffer.startswith(SEPARATOR, exc.consumed):
            del buffer[: exc.consumed + len(SEPARATOR)]
        else:
            buffer.clear()
        reader._maybe_resume_transport()
        return OVERSIZE
    return unframe(block)


async def handle_connection(reader, writer, dispatcher: Dispatcher) -> None:
    peer = writer.get_extra_info("peername")
    dispatcher.connections += 1
    try:
        while True:
            payload = await _read_block(reader)
            if payload is None:
                break
            if not payload.strip(b"\r\n \t"):
                continue  # keep-alive noise between blocks
            ack = await dispatcher.submit(payload)
            if ack is None:
                break  # cannot even answer: close, so the sender resends
            writer.write(SB + ack + SEPARATOR)
            await writer.drain()
    except ConnectionError:
        pass  # the sender hung up; whatever it had not been answered for, it will resend
    except Exception:
        logger.exception("HL7 connection from %s failed", peer)
    finally:
        dispatcher.connections -= 1
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def serve(
    host: str,
    port: int,
    *,
    workers: int = 1,
    max_batch: int = 100,
    ready=None,
    stop: asyncio.Event | None = None,
) -> tuple[int, int]:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives; (messages, transactions)."""
    if connection.vendor == "sqlite":
        workers = 1  # SQLite has one writer; more threads would only wait for its lock
    dispatcher = Dispatcher(workers=workers, max_batch=max_batch)
    dispatcher.start()
    server = await start_hl7_server(
        lambda r, w: handle_connection(r, w, dispatcher), host, port, limit=MAX_MESSAGE
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    address = server.sockets[0].getsockname()
    if ready is not None:
        ready(address, workers)
    try:
        await stop.wait()
    finally:
        server.close()
        await dispatcher.drain()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
    return dispatcher.processed, dispatcher.batches
