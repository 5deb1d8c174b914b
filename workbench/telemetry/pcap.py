"""A small pure-Python reader and writer for classic libpcap files of UDP datagrams.

Reads the classic pcap format (either byte order, micro- or nanosecond
timestamps) with link types RAW/IPv4 (101, 228), Ethernet (1), BSD loopback (0, 108)
and Linux cooked (113); yields the UDP datagrams over IPv4 with their capture time.
Writes link type 101 (raw IPv4) with valid IPv4 and UDP checksums, which Wireshark
and tshark read. pcapng is not supported (a clear error says so).
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["UdpDatagram", "read_pcap", "PcapWriter", "PcapError", "is_pcap"]

_MAGICS = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
           b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
LINKTYPE_RAW = 101


class PcapError(ValueError):
    """The file is not a pcap we can read; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class UdpDatagram:
    """One UDP datagram from a capture: capture time (s since the epoch), addresses and payload."""

    time_s: float
    src: str
    src_port: int
    dst: str
    dst_port: int
    payload: bytes


def is_pcap(path: str | Path) -> bool:
    """True when the file starts with a classic pcap magic number."""
    with open(path, "rb") as f:
        return f.read(4) in _MAGICS


def _ip(b: bytes) -> str:
    return ".".join(map(str, b))


def _udp_from_ipv4(pkt: bytes) -> tuple[str, int, str, int, bytes] | None:
    if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 17:
        return None
    ihl = (pkt[0] & 0x0F) * 4
    total = struct.unpack_from(">H", pkt, 2)[0]
    if len(pkt) < ihl + 8:
        return None
    sport, dport, ulen = struct.unpack_from(">HHH", pkt, ihl)
    end = min(ihl + ulen, total or len(pkt), len(pkt))
    return _ip(pkt[12:16]), sport, _ip(pkt[16:20]), dport, pkt[ihl + 8:end]


def _ipv4_of_frame(linktype: int, frame: bytes, order: str) -> bytes | None:
    if linktype in (101, 228):
        return frame
    if linktype == 1:  # Ethernet II, optional 802.1Q tag
        if len(frame) < 14:
            return None
        ethertype, off = struct.unpack_from(">H", frame, 12)[0], 14
        if ethertype == 0x8100 and len(frame) >= 18:
            ethertype, off = struct.unpack_from(">H", frame, 16)[0], 18
        return frame[off:] if ethertype == 0x0800 else None
    if linktype in (0, 108):  # BSD loopback: 4-byte family
        return frame[4:] if len(frame) > 4 else None
    if linktype == 113:  # Linux cooked capture v1
        return frame[16:] if len(frame) > 16 and struct.unpack_from(">H", frame, 14)[0] == 0x0800 else None
    raise PcapError(f"linktype: {linktype} is not supported (raw IPv4, Ethernet, loopback, Linux cooked)")


def read_pcap(path: str | Path) -> Iterator[UdpDatagram]:
    """Yield the UDP/IPv4 datagrams of a classic pcap file, in file order.

    Raises
    ------
    PcapError
        When the file is not classic pcap (e.g. pcapng) or is cut inside a record header.
    """
    with open(path, "rb") as f:
        yield from _read(f, str(path))


def _read(f: BinaryIO, name: str) -> Iterator[UdpDatagram]:
    head = f.read(24)
    if len(head) < 24 or head[:4] not in _MAGICS:
        what = "pcapng, which is not supported (save as pcap)" if head[:4] == b"\x0a\x0d\x0d\x0a" else \
            "not a pcap file"
        raise PcapError(f"{name}: magic {head[:4].hex() or 'empty'} is {what}")
    order, unit = _MAGICS[head[:4]]
    linktype = struct.unpack_from(order + "I", head, 20)[0] & 0x0FFFFFFF
    rec = struct.Struct(order + "IIII")
    n = 0
    while True:
        rh = f.read(16)
        if not rh:
            return
        n += 1
        if len(rh) < 16:
            raise PcapError(f"{name}: record {n}: header cut short ({len(rh)} of 16 bytes)")
        sec, frac, incl, _orig = rec.unpack(rh)
        frame = f.read(incl)
        if len(frame) < incl:
            raise PcapError(f"{name}: record {n}: {len(frame)} of {incl} bytes present (file cut short)")
        ip = _ipv4_of_frame(linktype, frame, order)
        udp = _udp_from_ipv4(ip) if ip is not None else None
        if udp is not None:
            yield UdpDatagram(sec + frac * unit, *udp)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class PcapWriter:
    """Write UDP datagrams as a classic pcap (link type raw IPv4, microsecond timestamps).

    Use as a context manager; `write` one datagram at a time.
    """

    def __init__(self, path: str | Path, snaplen: int = 65535):
        self._f = open(path, "wb")
        self._f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, LINKTYPE_RAW))
        self._ip_id = 0
        self.count = 0

    def write(self, payload: bytes, time_s: float, src: str = "127.0.0.1", src_port: int = 20778,
              dst: str = "127.0.0.1", dst_port: int = 20777) -> None:
        """Append one datagram captured at ``time_s`` (seconds since the epoch)."""
        s, d = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
        ulen = 8 + len(payload)
        pseudo = s + d + struct.pack(">BBH", 0, 17, ulen)
        udp_nock = struct.pack(">HHHH", src_port, dst_port, ulen, 0) + payload
        ucs = _checksum(pseudo + udp_nock) or 0xFFFF
        udp = struct.pack(">HHHH", src_port, dst_port, ulen, ucs) + payload
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        iph = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + ulen, self._ip_id, 0x4000, 64, 17, 0, s, d)
        iph = iph[:10] + struct.pack(">H", _checksum(iph)) + iph[12:]
        frame = iph + udp
        sec = int(time_s)
        usec = int(round((time_s - sec) * 1e6))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        self._f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
        self.count += 1

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
