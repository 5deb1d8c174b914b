"""`racetwin record --udp PORT -o FILE.pcap`: capture UDP telemetry to a standard pcap (and/or JSONL of records)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

from workbench.service.commands.common import integer_arg


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "record",
        help="record UDP telemetry (F1 game or JSON datagrams) to pcap and/or JSONL",
        description="Listen on a UDP port and write every datagram to a standard pcap (Wireshark/tshark "
        "readable); with --jsonl also write the decoded records. Stops on Ctrl-C, after --duration "
        "seconds or after --count datagrams.",
    )
    parser.add_argument("--udp", type=integer_arg("--udp", 1, 65535), default=20777,
                        help="UDP port to listen on (default 20777)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="pcap file to write")
    parser.add_argument("--jsonl", type=Path, default=None, help="JSONL file of decoded records to write")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--count", type=int, default=None, help="stop after this many datagrams")


class _Recorder(asyncio.DatagramProtocol):
    def __init__(self, args, done: asyncio.Event):
        from workbench.telemetry.pcap import PcapWriter
        from workbench.telemetry.sources import DatagramDecoder

        self.args, self.done = args, done
        self.pcap = PcapWriter(args.output) if args.output else None
        self.jsonl = open(args.jsonl, "w") if args.jsonl else None
        self.decoder = DatagramDecoder()
        self.count = self.records = self.rejected = 0
        self.local = ("127.0.0.1", 0)

    def connection_made(self, transport) -> None:
        self.local = transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data: bytes, addr) -> None:
        from workbench.telemetry.schema import to_wire
        from workbench.telemetry.sources import IngestError

        self.count += 1
        if self.pcap is not None:
            self.pcap.write(data, time.time(), addr[0], addr[1], self.local[0], self.local[1])
        if self.jsonl is not None:
            try:
                for record in self.decoder.decode(data):
                    self.jsonl.write(json.dumps(to_wire(record)) + "\n")
                    self.records += 1
            except IngestError:
                self.rejected += 1
        if self.args.count is not None and self.count >= self.args.count:
            self.done.set()

    def close(self) -> None:
        if self.pcap is not None:
            self.pcap.close()
        if self.jsonl is not None:
            self.jsonl.close()


async def _record(args) -> int:
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    recorder = _Recorder(args, done)
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: recorder, local_addr=(args.host, args.udp))
    except OSError as exc:
        recorder.close()
        print(f"racetwin record: --udp: cannot listen on {args.host}:{args.udp} ({exc})", file=sys.stderr)
        return 2
    print(f"recording UDP {args.host}:{args.udp} to {args.output or '-'} {args.jsonl or ''}".rstrip(), flush=True)
    try:
        await asyncio.wait_for(done.wait(), args.duration)
    except TimeoutError:
        pass
    finally:
        transport.close()
        recorder.close()
    print(f"recorded {recorder.count} datagrams, {recorder.records} records, {recorder.rejected} rejected",
          flush=True)
    return 0


def run(args) -> int:
    from workbench.service.commands.common import output_file

    if args.output is None and args.jsonl is None:
        print("racetwin record: give -o FILE.pcap and/or --jsonl FILE.jsonl", file=sys.stderr)
        return 2
    if args.output is not None:
        output_file("-o", args.output)
    if args.jsonl is not None:
        output_file("--jsonl", args.jsonl)
    if args.count is not None and args.count < 1:
        print(f"racetwin record: --count: {args.count} is below minimum 1", file=sys.stderr)
        return 2
    if args.duration is not None and not args.duration > 0:
        print(f"racetwin record: --duration: {args.duration} is not above 0", file=sys.stderr)
        return 2
    return asyncio.run(_record(args))
