"""Property-based fuzzing (hypothesis) of every input path: binary datagrams and JSON.

No exception escapes a source, every rejection carries a reason, anything accepted
is a valid record, and rejected input leaves the accepted state unchanged.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.f1util import header
from workbench.hub.session import RaceSession
from workbench.telemetry.f1udp import LAYOUTS, encode_packet, zero_body
from workbench.telemetry.f1udp.layouts import HEADER_SIZE
from workbench.telemetry.ingestor import TelemetryIngestor
from workbench.telemetry.schema import FIELDS, to_wire, validate
from workbench.telemetry.sources import DatagramDecoder, IngestError

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KEYS = [(f, p) for f, table in LAYOUTS.items() for p in table]
F1_REASONS = {"f1: truncated", "f1: oversized", "f1: unknown_format", "f1: unknown_packet_id", "f1: bad_header"}


def state(hub: RaceSession):
    hub.flush()
    return dict(hub.accepted), len(hub.telemetry), len(hub.laps), len(hub.events), hub.environment.state()


@st.composite
def sized_packets(draw):
    """A header of a known (format, id) and random body bytes of exactly the right size."""
    fmt, pid = draw(st.sampled_from(KEYS))
    size = LAYOUTS[fmt][pid].size - HEADER_SIZE
    t = draw(st.floats(min_value=0, max_value=86_400, allow_nan=False))
    player = draw(st.integers(0, 255))
    body = draw(st.binary(min_size=size, max_size=size))
    return encode_packet(header(fmt, pid, t, player), zero_body(fmt, pid))[:HEADER_SIZE] + body


@st.composite
def mutated_packets(draw):
    """A valid zero packet with random bytes overwritten, cut or appended."""
    fmt, pid = draw(st.sampled_from(KEYS))
    data = bytearray(encode_packet(header(fmt, pid, draw(st.floats(0, 1e4))), zero_body(fmt, pid)))
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    tail = draw(st.binary(max_size=64))
    return bytes(data[:cut] + tail) if draw(st.booleans()) else bytes(data)


@FUZZ
@given(st.lists(st.one_of(st.binary(max_size=3000), sized_packets(), mutated_packets()), min_size=1, max_size=8))
def test_no_datagram_raises_and_every_record_is_valid(datagrams):
    decoder = DatagramDecoder()
    for data in datagrams:
        try:
            records = decoder.decode(data)
        except IngestError as exc:
            assert exc.reason and str(exc)
            continue
        for record in records:
            assert validate(to_wire(record)) == record


@FUZZ
@given(st.lists(st.binary(max_size=2100), min_size=1, max_size=10))
def test_rejected_datagrams_leave_the_hub_unchanged(junk):
    hub = RaceSession("C00", reorder_window_s=0.0)
    ing = TelemetryIngestor(hub)
    ing.ingest_json({"type": "car_sample", "session_time_s": 1.0, "driver": "C00", "lap": 1}, "seed")
    before = state(hub)
    for data in junk:
        decoder = DatagramDecoder()
        try:
            produced = decoder.decode(data)
        except IngestError:
            produced = None
        if produced is None:  # only feed what is rejected
            assert ing.ingest_datagram(data, "udp") == 0
    assert state(hub) == before
    m = ing.sources.get("udp")
    if m is not None:
        assert all(reason for reason in m.rejected) and all(r["reason"] for r in m.last_rejects)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@st.composite
def record_like(draw):
    """Objects shaped like our records, with random values (often invalid)."""
    kind = draw(st.sampled_from([*FIELDS, "batch", "nope"]))
    if kind == "batch":
        return {"type": "batch", "records": draw(st.lists(record_like(), max_size=3))}
    names = list(FIELDS.get(kind, {"x": None}))
    obj = {"type": kind}
    for name in draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True)):
        obj[name] = draw(json_values)
    return obj


valid_samples = st.fixed_dictionaries({
    "type": st.just("car_sample"), "session_time_s": st.floats(0, 86_400), "driver": st.sampled_from(["VER", "HAM"]),
    "lap": st.integers(1, 200), "speed_kph": st.floats(0, 400)})


@FUZZ
@given(st.lists(st.one_of(json_values, record_like(), valid_samples), min_size=1, max_size=6), st.data())
def test_no_json_message_raises_and_rejects_change_nothing(messages, data):
    hub = RaceSession("VER", reorder_window_s=0.0)
    ing = TelemetryIngestor(hub)
    for obj in messages:
        text = json.dumps(obj, allow_nan=True)
        message = data.draw(st.sampled_from([obj, text, text.encode()]))
        before = state(hub)
        accepted = ing.ingest_json(message, "ws")
        after = state(hub)
        if accepted == 0:
            assert after == before
        else:
            assert sum(after[0].values()) == sum(before[0].values()) + accepted  # all accepted are applied
    m = ing.sources["ws"]
    assert m.messages == len(messages)
    assert all(reason for reason in m.rejected) and all(r["reason"] and r["message"] for r in m.last_rejects)


@FUZZ
@given(st.binary(max_size=200).map(lambda b: b"{" + b))
def test_json_looking_datagrams_are_rejected_with_a_reason(data):
    try:
        DatagramDecoder().decode(data)
    except IngestError as exc:
        assert exc.reason.startswith("json:") or ":" in exc.reason
