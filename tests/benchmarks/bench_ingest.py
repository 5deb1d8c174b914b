"""Ingest benchmark: decode + validate + hub update throughput and per-message latency (prints numbers).

Not a pass/fail test (pytest does not collect ``bench_*.py``). Run from the repository root:

    python -m tests.benchmarks.bench_ingest [--seconds-of-race 20]

Scenario: 22 cars at 60 Hz. F1-game path: per tick one LapData, CarStatus, CarDamage and
CarTelemetry packet (format 2025) → 22 car samples. JSON path: per tick one batch of 22
car_sample records (and, separately, one record per message). Every message goes through
`TelemetryIngestor` into a `RaceSession` (reorder window 0.5 s), as in the server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from tests.f1util import packet
from workbench.hub.session import RaceSession
from workbench.telemetry.ingestor import TelemetryIngestor

N_CARS = 22
HZ = 60


def game_ticks(seconds: float) -> list[list[bytes]]:
    ticks = []
    for k in range(int(seconds * HZ)):
        t = k / HZ
        cars = range(N_CARS)
        ticks.append([
            packet(2025, 2, t, cars={i: {"resultStatus": 2, "currentLapNum": 1 + int(t // 90), "carPosition": i + 1,
                                         "lapDistance": (t * 80.0 + i * 10) % 5000} for i in cars}),
            packet(2025, 7, t, cars={i: {"fuelInTank": 100 - t / 60, "visualTyreCompound": 17,
                                         "actualTyreCompound": 19, "tyresAgeLaps": 3} for i in cars}),
            packet(2025, 10, t, cars={i: {"tyresWear": (5.0, 5.5, 6.0, 6.5)} for i in cars}),
            packet(2025, 6, t, cars={i: {"speed": 200 + (k + i) % 100, "throttle": 0.8, "gear": 7,
                                         "engineRPM": 11000} for i in cars}),
        ])
    return ticks


def json_ticks(seconds: float) -> list[list[str]]:
    drivers = [f"D{i:02d}" for i in range(N_CARS)]
    return [[json.dumps({"type": "car_sample", "session_time_s": k / HZ, "driver": d, "lap": 1 + int(k / HZ // 90),
                         "speed_kph": 200.0 + (k + i) % 100, "throttle_pct": 80.0, "gear": 7, "rpm": 11000.0,
                         "fuel_kg": 100 - k / HZ / 60, "compound": "MEDIUM", "tyre_age_laps": 3})
             for i, d in enumerate(drivers)] for k in range(int(seconds * HZ))]


def p99_ms(latencies_s: list[float]) -> float:
    return statistics.quantiles(latencies_s, n=100)[98] * 1000.0


def run(name: str, messages: list, feed, samples_per_message: float) -> None:
    lat = []
    t0 = time.perf_counter()
    for m in messages:
        s = time.perf_counter()
        feed(m)
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    n_samples = len(messages) * samples_per_message
    print(f"{name:<44} {len(messages):>7} msgs {n_samples / total:>10,.0f} car-samples/s  "
          f"{len(messages) / total:>9,.0f} msgs/s  p50 {statistics.median(lat) * 1e3:6.3f} ms  "
          f"p99 {p99_ms(lat):6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds-of-race", type=float, default=20.0)
    args = parser.parse_args()
    print(f"22 cars x 60 Hz, {args.seconds_of_race:g} s of race; one core, single thread")

    ticks = game_ticks(args.seconds_of_race)
    hub = RaceSession("C00", telemetry_buffer=6000)
    ing = TelemetryIngestor(hub)
    flat = [d for tick in ticks for d in tick]
    run("F1 25 binary: 4 packets/tick (all datagrams)", flat, lambda d: ing.ingest_datagram(d, "udp", "a"),
        N_CARS / 4)
    hub = RaceSession("C00")
    ing = TelemetryIngestor(hub)
    for tick in ticks[:1]:
        for d in tick[:3]:
            ing.ingest_datagram(d, "udp", "a")
    telemetry = [tick[3] for tick in ticks]
    run("F1 25 binary: CarTelemetry datagram (22 cars)", telemetry, lambda d: ing.ingest_datagram(d, "udp", "a"),
        N_CARS)

    class NullHub(RaceSession):  # isolates decode + validate + de-duplication from the hub's twin updates
        def _offer(self, record, source, check_future):
            return None
    ing = TelemetryIngestor(NullHub("D00", dedup_window=1))
    for d in ticks[0][:3]:
        ing.ingest_datagram(d, "udp", "a")
    run("F1 25 binary CarTelemetry, no hub (decode only)", telemetry,
        lambda d: ing.ingest_datagram(d, "udp", "a"), N_CARS)

    jt = json_ticks(args.seconds_of_race)
    ing = TelemetryIngestor(NullHub("D00", dedup_window=1))
    run("JSON: batch of 22, no hub (parse+validate only)",
        ['{"type": "batch", "records": [' + ", ".join(tick) + "]}" for tick in jt],
        lambda m: ing.ingest_json(m, "ws"), N_CARS)
    hub = RaceSession("D00")
    ing = TelemetryIngestor(hub)
    singles = [m for tick in jt for m in tick]
    run("JSON: one car_sample per message", singles, lambda m: ing.ingest_json(m, "ws"), 1)
    hub = RaceSession("D00")
    ing = TelemetryIngestor(hub)
    batches = ['{"type": "batch", "records": [' + ", ".join(tick) + "]}" for tick in jt]
    run("JSON: batch of 22 car_samples per tick", batches, lambda m: ing.ingest_json(m, "ws"), N_CARS)

    capture = Path(__file__).resolve().parents[2].parent / "shared/data/f1-udp/f1-25-catalunya-time-trial.pcap"
    if capture.is_file():
        from workbench.telemetry.pcap import read_pcap

        datagrams = [d.payload for d in read_pcap(capture)]
        hub = RaceSession("C00")
        ing = TelemetryIngestor(hub)
        t0 = time.perf_counter()
        for d in datagrams:
            ing.ingest_datagram(d, "replay")
        total = time.perf_counter() - t0
        print(f"real F1 25 capture: {len(datagrams)} datagrams (all 16 packet types) in {total:.2f} s = "
              f"{len(datagrams) / total:,.0f} datagrams/s")


if __name__ == "__main__":
    main()
