"""Write pcapng files block by block, per the pcapng specification (IETF draft-ietf-opsawg-pcapng).

Independent of the reader in `workbench.telemetry.pcap`: tests build captures with it the
way Wireshark saves them (Section Header, Interface Description, Enhanced Packet blocks,
plus blocks a reader must skip).
"""

from __future__ import annotations

import struct

SHB, IDB, SPB, NRB, ISB, EPB = 0x0A0D0D0A, 1, 3, 4, 5, 6


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def option(code: int, value: bytes, order: str = "<") -> bytes:
    return struct.pack(order + "HH", code, len(value)) + _pad(value)


def end_of_options(order: str = "<") -> bytes:
    return struct.pack(order + "HH", 0, 0)


def block(btype: int, body: bytes, order: str = "<") -> bytes:
    body = _pad(body)
    length = 12 + len(body)
    return struct.pack(order + "II", btype, length) + body + struct.pack(order + "I", length)


def section_header(order: str = "<", app: bytes = b"racetwin tests") -> bytes:
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1) + option(4, app, order) + end_of_options(order)
    return block(SHB, body, order)


def interface(linktype: int, order: str = "<", tsresol: int | None = None, snaplen: int = 0) -> bytes:
    opts = option(9, bytes([tsresol]), order) + end_of_options(order) if tsresol is not None else b""
    return block(IDB, struct.pack(order + "HHI", linktype, 0, snaplen) + opts, order)


def enhanced_packet(iface: int, ticks: int, frame: bytes, order: str = "<") -> bytes:
    head = struct.pack(order + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame))
    return block(EPB, head + _pad(frame) + option(1, b"a comment", order) + end_of_options(order), order)


def simple_packet(frame: bytes, order: str = "<") -> bytes:
    return block(SPB, struct.pack(order + "I", len(frame)) + _pad(frame), order)


def name_resolution(order: str = "<") -> bytes:
    record = struct.pack(order + "HH", 1, 4 + 10) + _pad(bytes([127, 0, 0, 1]) + b"localhost\0")
    return block(NRB, record + struct.pack(order + "HH", 0, 0), order)


def interface_statistics(order: str = "<") -> bytes:
    return block(ISB, struct.pack(order + "III", 0, 0, 0) + end_of_options(order), order)


def ipv4_udp(payload: bytes, sport: int = 20778, dport: int = 20777) -> bytes:
    """An IPv4 + UDP frame (checksums zero: allowed for UDP over IPv4, and not checked by readers)."""
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0, bytes([10, 0, 0, 2]),
                       bytes([10, 0, 0, 1])) + udp


def ethernet(ip: bytes) -> bytes:
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip


def write_udp_pcapng(path, datagrams: list[tuple[float, bytes]]) -> None:
    """A Wireshark-like pcapng of UDP datagrams on one Ethernet interface, microsecond timestamps."""
    out = [section_header(), interface(1)]
    for t, payload in datagrams:
        out.append(enhanced_packet(0, round(t * 1e6), ethernet(ipv4_udp(payload))))
    out.append(interface_statistics())
    with open(path, "wb") as f:
        f.write(b"".join(out))
