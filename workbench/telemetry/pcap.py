"""A small pure-Python reader of pcap and pcapng captures of UDP datagrams, and a pcap writer.

Reads the classic pcap format (either byte order, micro- or nanosecond timestamps) and
pcapng, Wireshark's default save format (IETF draft-ietf-opsawg-pcapng: Section Header,
Interface Description, Enhanced / Simple / obsolete Packet blocks; any number of sections
and interfaces, either byte order, the ``if_tsresol`` timestamp resolution; other blocks
are skipped), with link types RAW/IPv4 (101, 228), Ethernet (1), BSD loopback (0, 108) and
Linux cooked (113); yields the UDP datagrams over IPv4 with their capture time.
Writes classic pcap, link type 101 (raw IPv4) with valid IPv4 and UDP checksums, which
Wireshark and tshark read.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["UdpDatagram", "read_pcap", "PcapWriter", "PcapError", "is_pcap", "PCAPNG_SHB"]

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


PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_PCAPNG_BOM = 0x1A2B3C4D


def is_pcap(path: str | Path) -> bool:
    """True when the file starts with a classic pcap or a pcapng magic number."""
    with open(path, "rb") as f:
        return f.read(4) in (*_MAGICS, PCAPNG_SHB)


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
    """Yield the UDP/IPv4 datagrams of a pcap or pcapng file, in file order.

    Raises
    ------
    PcapError
        When the file is neither, or is cut or malformed (the message names the record or block).
    """
    with open(path, "rb") as f:
        if f.read(4) == PCAPNG_SHB:
            f.seek(0)
            yield from _read_pcapng(f, str(path))
            return
        f.seek(0)
        yield from _read(f, str(path))


def _datagram(linktype: int, frame: bytes, order: str, time_s: float) -> UdpDatagram | None:
    ip = _ipv4_of_frame(linktype, frame, order)
    udp = _udp_from_ipv4(ip) if ip is not None else None
    return UdpDatagram(time_s, *udp) if udp is not None else None


def _tsresol(options: bytes, order: str) -> float:
    """Seconds per timestamp unit from an Interface Description Block's options (default 1 us)."""
    i = 0
    while i + 4 <= len(options):
        code, length = struct.unpack_from(order + "HH", options, i)
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = options[i + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        i += 4 + (length + 3) // 4 * 4
    return 1e-6


def _read_pcapng(f: BinaryIO, name: str) -> Iterator[UdpDatagram]:
    order = "<"
    interfaces: list[tuple[int, float]] = []  # per interface of this section: (link type, seconds per unit)
    n = 0
    while True:
        head = f.read(8)
        if not head:
            return
        n += 1
        if len(head) < 8:
            raise PcapError(f"{name}: block {n}: header cut short ({len(head)} of 8 bytes)")
        if head[:4] == PCAPNG_SHB:
            bom = f.read(4)
            if len(bom) < 4:
                raise PcapError(f"{name}: block {n}: section header cut short")
            if struct.unpack("<I", bom)[0] == _PCAPNG_BOM:
                order = "<"
            elif struct.unpack(">I", bom)[0] == _PCAPNG_BOM:
                order = ">"
            else:
                raise PcapError(f"{name}: block {n}: byte-order magic {bom.hex()} is not 1a2b3c4d")
            interfaces = []
            length = struct.unpack(order + "I", head[4:])[0]
            body = bom + f.read(max(0, length - 16))
        else:
            length = struct.unpack(order + "I", head[4:])[0]
            body = f.read(max(0, length - 12))
        btype = struct.unpack(order + "I", head[:4])[0]
        if length < 12 or length % 4:
            raise PcapError(f"{name}: block {n}: length {length} is not a multiple of 4 of at least 12")
        trailer = f.read(4)
        if len(body) < length - 12 or len(trailer) < 4:
            raise PcapError(f"{name}: block {n}: {8 + len(body) + len(trailer)} of {length} bytes present "
                            "(file cut short)")
        if struct.unpack(order + "I", trailer)[0] != length:
            raise PcapError(f"{name}: block {n}: trailing length {struct.unpack(order + 'I', trailer)[0]} is not "
                            f"the leading {length}")
        if btype == 1:  # Interface Description
            if len(body) < 8:
                raise PcapError(f"{name}: block {n}: interface description of {len(body)} bytes (needs 8)")
            interfaces.append((struct.unpack_from(order + "H", body)[0], _tsresol(body[8:], order)))
        elif btype in (6, 3, 2):  # Enhanced, Simple, obsolete Packet
            if btype == 6:
                if len(body) < 20:
                    raise PcapError(f"{name}: block {n}: enhanced packet block of {len(body)} bytes (needs 20)")
                iface, hi, lo, caplen, _orig = struct.unpack_from(order + "IIIII", body)
                data_at = 20
            elif btype == 2:
                if len(body) < 20:
                    raise PcapError(f"{name}: block {n}: packet block of {len(body)} bytes (needs 20)")
                iface, _drops, hi, lo, caplen, _orig = struct.unpack_from(order + "HHIIII", body)
                data_at = 20
            else:
                iface, hi, lo, data_at = 0, 0, 0, 4
                caplen = min(struct.unpack_from(order + "I", body)[0], len(body) - 4)
            if iface >= len(interfaces):
                raise PcapError(f"{name}: block {n}: interface {iface} is not described (the section has "
                                f"{len(interfaces)})")
            if data_at + caplen > len(body):
                raise PcapError(f"{name}: block {n}: captured length {caplen} is beyond the block")
            linktype, unit = interfaces[iface]
            dg = _datagram(linktype, body[data_at:data_at + caplen], order, ((hi << 32) | lo) * unit)
            if dg is not None:
                yield dg


def _read(f: BinaryIO, name: str) -> Iterator[UdpDatagram]:
    head = f.read(24)
    if len(head) < 24 or head[:4] not in _MAGICS:
        raise PcapError(f"{name}: magic {head[:4].hex() or 'empty'} is not a pcap or pcapng file")
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
        dg = _datagram(linktype, frame, order, sec + frac * unit)
        if dg is not None:
            yield dg


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
