"""EA F1-game UDP telemetry (packet formats 2023, 2024, 2025 and a provisional 2026).

`decode_packet` parses one datagram with the layout tables of `layouts`;
`F1GameMapper` turns the decoded packets of one stream into our records.
"""

from workbench.telemetry.f1udp.layouts import FORMATS, LAYOUTS, PACKET_NAMES
from workbench.telemetry.f1udp.mapper import F1GameMapper, car_code
from workbench.telemetry.f1udp.packets import (
    REJECT_REASONS,
    F1PacketError,
    decode_header,
    decode_packet,
    encode_packet,
    zero_body,
)

__all__ = ["FORMATS", "LAYOUTS", "PACKET_NAMES", "F1GameMapper", "car_code", "REJECT_REASONS", "F1PacketError",
           "decode_header", "decode_packet", "encode_packet", "zero_body"]
