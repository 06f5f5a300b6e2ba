#!/usr/bin/python3
"""Reads a running game server's /metrics with Prometheus's own parser (Debian's
python3-prometheus-client) and /healthz, and checks what an operator's dashboard relies on.

  check_metrics.py HOST:PORT MIN_MATCHES_FINISHED [TRANSPORT]
TRANSPORT (enet or websocket, default enet) is the one the players used: its bytes and
datagrams must have been counted both ways. Exits 1 with the reason when a check fails.
"""
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def fail(message):
    print(f"FAIL: metrics: {message}")
    sys.exit(1)


def main():
    address, min_finished = sys.argv[1], int(sys.argv[2])
    transport = sys.argv[3] if len(sys.argv) > 3 else "enet"
    with urllib.request.urlopen(f"http://{address}/healthz", timeout=10) as answer:
        health = answer.read().decode()
        if answer.status != 200 or health != "ok\n":
            fail(f"/healthz answered {answer.status} {health!r}")
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
        content_type = answer.headers.get("Content-Type", "")
        text = answer.read().decode()
    if not content_type.startswith("text/plain; version=0.0.4"):
        fail(f"Content-Type is {content_type!r}")

    families = {}
    samples = {}
    for family in text_string_to_metric_families(text):  # raises on a malformed page
        if family.name in families:
            fail(f"family {family.name} appears twice")
        families[family.name] = family
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)

    def value(name, **labels):
        found = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
        if len(found) != 1:
            fail(f"{name}{labels} has {len(found)} samples")
        return found[0]

    tick = families.get("tickwire_game_tick_seconds")
    if tick is None or tick.type != "histogram":
        fail("no histogram tickwire_game_tick_seconds")
    buckets = [(float(s.labels["le"]), s.value) for s in tick.samples if s.name.endswith("_bucket")]
    if buckets != sorted(buckets) or any(b[1] > a[1] for a, b in zip(buckets[1:], buckets)):
        fail("tick histogram buckets are not cumulative")
    count = value("tickwire_game_tick_seconds_count")
    if buckets[-1] != (float("inf"), count) or count < 100:
        fail(f"tick histogram: +Inf bucket {buckets[-1]} and count {count}")
    if value("tickwire_game_matches_finished_total") < min_finished:
        fail("fewer matches finished than the bots saw")
    for name in ("tickwire_game_players", "tickwire_game_matches"):
        if families[name].type != "gauge":
            fail(f"{name} is not a gauge")
    if value("tickwire_game_inputs_total", outcome="applied") <= 0:
        fail("no inputs applied")
    for direction in ("received", "sent"):
        for unit in ("bytes", "datagrams"):
            if value(f"tickwire_game_transport_{direction}_{unit}_total", transport=transport) <= 0:
                fail(f"no {unit} {direction} over {transport}")
    reasons = {s.labels["reason"] for s in samples["tickwire_game_transport_drops_total"]}
    if not {"malformed", "forged", "replayed", "unauthenticated"} <= reasons:
        fail(f"drop reasons {sorted(reasons)}")
    value("tickwire_game_transport_rejected_tickets_total", transport="enet")
    print(f"metrics: {len(families)} families parsed, {int(count)} ticks in the histogram")


main()
