#!/usr/bin/env python3
"""Summary table and ratios of one scripts/bench.sh run: report.py RESULTS_DIR"""
import json, os, sys

# The issue's reference numbers, measured on this kind of machine (2 cores).
FB = {"plain_cpu": 1.75, "plain_rate": 410_000, "plain_rss_mib": 92, "real_cpu": 10.5,
      "es_rate": (42_000, 52_000), "es_cpu": 5.0, "es_es_cpu": (30, 39)}
RSYSLOG = {"es_rate": 19_000, "es_cpu": 30}

WHAT = {"run1": "discard, plain", "run2": "discard, realistic (java multiline + json)",
        "run3": "elasticsearch, plain", "run4": "raw _bulk loader (ceiling), plain",
        "run4b": "raw _bulk loader, no _id (ES makes the ids)",
        "run5": "N containers steady, elasticsearch",
        "run6": "plain beside N quiet containers, elasticsearch",
        "fb-run1": "Fluent Bit: discard, plain", "fb-run2": "Fluent Bit: discard, realistic",
        "fb-run3": "Fluent Bit: elasticsearch, plain", "fb-run5": "Fluent Bit: N containers steady, elasticsearch"}

# logferry's runs and Fluent Bit's counterpart (scripts/bench/fluent-bit.sh); None: none by design
PAIRS = [("run1", "fb-run1", "run 1, discard, plain"), ("run2", "fb-run2", "run 2, discard, realistic"),
         ("run3", "fb-run3", "run 3, elasticsearch, plain"), ("run4", None, "run 4, raw _bulk ceiling"),
         ("run4b", None, "run 4b, raw _bulk without _id"), ("run5", "fb-run5", "run 5, steady containers"),
         ("run7", "fb-run7", "run 7, idle containers")]


def mib(r):
    return r["peak_rss_bytes"] / 2**20 if r and r.get("peak_rss_bytes") else None


def load(d, name):
    p = os.path.join(d, name + ".json")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def fmt(v, spec=",.0f"):
    if v is None:
        return "-"
    return format(v, spec)


def stage_line(title, st):
    """The agent's per-stage histograms (scripts/bench/stages.py): p50/p99 of each stage, per tailer state."""
    if not st:
        return f"{title}: not exported by this agent"
    parts = []
    for tailer in ("caught_up", "behind"):
        cells = []
        for stage, label in (("read_lag", "read lag"), ("queue_wait", "queue wait"), ("delivery", "delivery")):
            s = (st.get(stage) or {}).get(tailer) or {}
            if s.get("count"):
                cells.append(f"{label} p50 {fmt(s.get('p50_s'), '.3f')} / p99 {fmt(s.get('p99_s'), '.3f')} s")
        n = ((st.get("queue_wait") or {}).get(tailer) or {}).get("count", 0)
        if cells:
            parts.append(f"tailer={tailer} ({fmt(n)} events): " + ", ".join(cells))
    return f"{title} (histogram buckets; quiet lines are tailer=caught_up): " + ("; ".join(parts) or "no events")


def main():
    d = sys.argv[1]
    info = open(os.path.join(d, "info.txt")).read().strip() if os.path.exists(os.path.join(d, "info.txt")) else ""
    print(info)
    print()
    rows = []
    res = {}
    for name in ["run7", "fb-run7"]:   # idle: not in the table
        if load(d, name) is not None:
            res[name] = load(d, name)
    for name in ["run1", "run2", "run3", "run6", "run4", "run4b", "run5", "fb-run1", "fb-run2", "fb-run3", "fb-run5"]:
        r = load(d, name)
        if r is None:
            continue
        res[name] = r
        per = "message" if name.endswith("run2") else "entry"
        what = WHAT[name].replace("N containers", f"{r.get('containers')} containers")
        rows.append([name, what, r.get("status", "?"), fmt(r.get("entries")) + ("" if per == "entry" else f" ({fmt(r.get('messages'))} msgs)"),
                     fmt(r.get("wall_s"), ".1f"), fmt(r.get("lines_per_s")), fmt(r.get("lines_per_s_excl_startup")),
                     fmt(r.get("cpu_s_per_million"), ".2f"), fmt(r.get("cpu_s_per_million_excl_startup"), ".2f"),
                     fmt((r.get("peak_rss_bytes") or 0) / 2**20 if r.get("peak_rss_bytes") else None, ".0f"),
                     fmt(r.get("es_cpu_s_per_million"), ".1f"), fmt(r.get("other_cpu_s"), ".1f"),
                     fmt(r.get("load_start"), ".2f")])
    head = ["run", "what", "status", "entries", "wall s", "lines/s", "lines/s excl. start", "CPU s/M", "CPU s/M excl. start",
            "peak RSS MiB", "ES CPU s/M", "other CPU s", "load"]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths)) + " |")
    print()
    print("CPU s/M: the agent's CPU seconds (user+sys) per million entries (run 2: per million messages), JVM start")
    print("included; 'excl. start' counts from the first acknowledged event. ES CPU s/M: Elasticsearch's CPU over the")
    print("same window. other CPU s: everything else on the machine meanwhile (dockerd, the poller, other work).")
    for name, who in (("run5", "run 5"), ("fb-run5", "run 5, Fluent Bit")):
        r5 = res.get(name)
        if r5 and isinstance(r5.get("latency"), dict):
            lat = r5["latency"]
            cpu = r5.get("cpu_s_per_million_excl_startup")
            steady_cores = None
            if r5.get("first_ack_s") is not None and r5.get("cpu_s") is not None:
                steady_cores = (r5["cpu_s"] - r5["cpu_at_first_ack_s"]) / max(1e-9, r5["wall_s"] - r5["first_ack_s"])
            print()
            print(f"{who}: {r5.get('containers')} containers x {r5.get('rate_per_container')} lines/s x {r5.get('seconds')} s: "
                  f"{'agent' if name == 'run5' else 'Fluent Bit'} {fmt(cpu, '.2f')} CPU s per million lines ({fmt(steady_cores * 100 if steady_cores is not None else None, '.1f')}% of one core), "
                  f"peak RSS {fmt((r5.get('peak_rss_bytes') or 0) / 2**20, '.0f')} MiB, ES {fmt(r5.get('es_cpu_s_per_million'), '.1f')} CPU s per million; "
                  f"latency Docker timestamp -> searchable: p50 {fmt(lat.get('p50_s'), '.2f')} s, p99 {fmt(lat.get('p99_s'), '.2f')} s, "
                  f"max {fmt(lat.get('max_s'), '.2f')} s ({lat.get('probes_seen')}/{lat.get('probes_expected')} probes); "
                  f"_count {r5.get('es_count')}/{r5.get('entries')}: {'ok' if r5.get('es_count') == r5.get('entries') else 'MISMATCH'}")
    r5 = res.get("run5")
    if r5 and "stages" in r5:
        print(stage_line("run 5: the agent's share per stage", r5.get("stages")))
    r6 = res.get("run6")
    if r6 and isinstance(r6.get("latency"), dict):
        lat = r6["latency"]
        r3 = res.get("run3")
        print()
        print(f"run 6: the plain corpus beside {r6.get('containers')} quiet containers (a line every 0.5 s each): quiet lines "
              f"Docker timestamp -> searchable p50 {fmt(lat.get('p50_s'), '.2f')} s, p99 {fmt(lat.get('p99_s'), '.2f')} s, "
              f"max {fmt(lat.get('max_s'), '.2f')} s ({lat.get('probes_seen')}/{lat.get('probes_expected')} probes); "
              f"total {fmt(r6.get('lines_per_s'))} lines/s (run 3 alone: {fmt(r3.get('lines_per_s') if r3 else None)}); "
              f"_count {r6.get('es_count')}/{r6.get('entries')}")
        if "stages" in r6:
            print(stage_line("run 6: the agent's share per stage", r6.get("stages")))
    if any(res.get(n, {}).get("es_count") is not None for n in ("run3", "fb-run3", "run4", "run4b")):
        print()
    for name in ("run3", "fb-run3", "run4", "run4b"):
        r = res.get(name)
        if r and r.get("es_count") is not None:
            print(f"{name}: _count {r['es_count']} of {r.get('entries')} expected: {'ok' if r['es_count'] == r.get('entries') else 'MISMATCH'}")
    for name, who in (("run7", "logferry"), ("fb-run7", "Fluent Bit")):
        r7 = res.get(name)
        if not r7:
            continue
        print()
        line = (f"run 7, {who}: {r7.get('containers')} idle containers, {r7.get('status')}, all logs open after "
                f"{fmt(r7.get('ready_since_launch_s'), '.1f')} s from launch, then {fmt(r7.get('settle_s'), '.0f')} s to settle; over "
                f"{fmt(r7.get('window_s'), '.1f')} s idle: {fmt(r7.get('cpu_s'), '.3f')} CPU s = {fmt(r7.get('cpu_s_per_min'), '.3f')} CPU s per minute")
        if r7.get("health_checks") is not None:
            line += (f", plus the image's health check: {r7['health_checks']} checks ({r7.get('health_failures')} failed), "
                     f"{fmt(r7.get('health_cpu_s'), '.3f')} CPU s, one every {fmt(r7.get('health_interval_s'), '.0f')} s = "
                     f"{fmt(r7.get('health_cpu_s_per_min'), '.3f')} CPU s per minute; "
                     f"total {fmt(r7.get('total_cpu_s_per_min'), '.3f')} CPU s per minute")
        elif name == "fb-run7":
            line += " (no health check)"
        line += (f"; RSS {fmt((r7.get('rss_end_bytes') or 0) / 2**20, '.0f')} MiB (peak {fmt(mib(r7), '.0f')}); "
                 f"ES {fmt(r7.get('es_cpu_s'), '.2f')} CPU s, other {fmt(r7.get('other_cpu_s'), '.1f')} CPU s meanwhile")
        print(line)

    print()
    print("Ratios, logferry / Fluent Bit measured here in this invocation (CPU, RSS, latency: lower is better; lines/s: higher):")
    measured = set()

    def pair(label, a, b, unit, spec=",.2f"):
        if a is None or b is None:
            return
        unit = " " + unit if unit else ""
        print(f"  {label}: {format(a, spec)} / {format(b, spec)}{unit} = {a / b:.2f}" if b
              else f"  {label}: {format(a, spec)} / 0{unit} (below what /proc counts: one clock tick, 0.01 CPU s)")

    for ours, peer, what in PAIRS:
        a = res.get(ours)
        if a is None:
            continue
        b = res.get(peer) if peer else None
        if b is None:
            why = ("no Fluent Bit counterpart by design (a raw loader)" if peer is None
                   else "no Fluent Bit counterpart in this invocation (set PEER_FLUENT_BIT=/path/to/fluent-bit)")
            print(f"  {what}: {why}")
            continue
        measured.add(ours)
        if ours == "run7":
            pair(f"{what}: CPU s per minute idle, agent + health check", a.get("total_cpu_s_per_min"), b.get("total_cpu_s_per_min"), "", ".3f")
            pair(f"{what}: CPU s per minute idle, agent alone", a.get("cpu_s_per_min"), b.get("cpu_s_per_min"), "", ".3f")
            pair(f"{what}: RSS at the end", (a.get("rss_end_bytes") or 0) / 2**20 or None, (b.get("rss_end_bytes") or 0) / 2**20 or None, "MiB", ",.0f")
            continue
        per = "per million messages" if ours == "run2" else "per million"
        pair(f"{what}: CPU s {per}, start included", a.get("cpu_s_per_million"), b.get("cpu_s_per_million"), "")
        pair(f"{what}: CPU s {per}, start excluded", a.get("cpu_s_per_million_excl_startup"), b.get("cpu_s_per_million_excl_startup"), "")
        pair(f"{what}: peak RSS", mib(a), mib(b), "MiB", ",.0f")
        pair(f"{what}: lines/s (higher is better)", a.get("lines_per_s"), b.get("lines_per_s"), "", ",.0f")
        if ours in ("run3", "run5"):
            pair(f"{what}: Elasticsearch's CPU s per million on logferry's documents / on Fluent Bit's",
                 a.get("es_cpu_s_per_million"), b.get("es_cpu_s_per_million"), "")
        if ours == "run5" and isinstance(a.get("latency"), dict) and isinstance(b.get("latency"), dict):
            pair(f"{what}: latency p50", a["latency"].get("p50_s"), b["latency"].get("p50_s"), "s")
            pair(f"{what}: latency p99", a["latency"].get("p99_s"), b["latency"].get("p99_s"), "s")

    r1, r2, r3, r4, r4b = res.get("run1"), res.get("run2"), res.get("run3"), res.get("run4"), res.get("run4b")
    if (r3 and r4 and r4.get("lines_per_s")) or (r4 and r4b and r4b.get("es_cpu_s_per_million")):
        print()
        print("Ratios within logferry's runs:")
    if r3 and r4 and r4.get("lines_per_s"):
        print(f"  run 3 / run 4 (agent vs raw _bulk ceiling, lines/s): {r3.get('lines_per_s', 0):,.0f} / {r4['lines_per_s']:,.0f} = "
              f"{r3.get('lines_per_s', 0) / r4['lines_per_s']:.2f}"
              + (f"; excluding the agent's start: {r3['lines_per_s_excl_startup'] / r4['lines_per_s']:.2f}" if r3.get("lines_per_s_excl_startup") else ""))
        if r3.get("es_cpu_s_per_million") and r4.get("es_cpu_s_per_million"):
            print(f"  ES CPU per million, run 3 / run 4: {r3['es_cpu_s_per_million']:.1f} / {r4['es_cpu_s_per_million']:.1f} = "
                  f"{r3['es_cpu_s_per_million'] / r4['es_cpu_s_per_million']:.2f}")
    if r4 and r4b and r4b.get("es_cpu_s_per_million"):
        print(f"  run 4 / run 4b (deterministic _id vs ES-generated ids): lines/s {r4['lines_per_s']:,.0f} / {r4b['lines_per_s']:,.0f} = "
              f"{r4['lines_per_s'] / r4b['lines_per_s']:.2f}; ES CPU per million {r4['es_cpu_s_per_million']:.1f} / "
              f"{r4b['es_cpu_s_per_million']:.1f} = {r4['es_cpu_s_per_million'] / r4b['es_cpu_s_per_million']:.2f}")

    if not any(res.get(n) for n in ("run1", "run2", "run3")):
        return
    print()
    print("Ratios, logferry / reference figures of the issue (another day, another build: Fluent Bit's only where it was not measured here):")

    def ratio(label, ours, ref, unit):
        if ours is None:
            return
        if isinstance(ref, tuple):
            print(f"  {label}: {ours:,.2f} {unit} vs {ref[0]:,}-{ref[1]:,}: x{ours / ref[1]:.2f}-x{ours / ref[0]:.2f}")
        else:
            print(f"  {label}: {ours:,.2f} {unit} vs {ref:,}: x{ours / ref:.2f}")

    if r1 and "run1" not in measured:
        ratio("run 1 CPU per million / Fluent Bit 5.1.1 (issue)", r1.get("cpu_s_per_million"), FB["plain_cpu"], "CPU s/M")
        ratio("run 1 lines/s / Fluent Bit 5.1.1 (issue)", r1.get("lines_per_s"), FB["plain_rate"], "lines/s")
        ratio("run 1 peak RSS / Fluent Bit 5.1.1 (issue)", mib(r1), FB["plain_rss_mib"], "MiB")
    if r2 and "run2" not in measured:
        ratio("run 2 CPU per million messages / Fluent Bit 5.1.1 (issue)", r2.get("cpu_s_per_million"), FB["real_cpu"], "CPU s/M")
    if r3 and "run3" not in measured:
        ratio("run 3 lines/s / Fluent Bit 5.1.1 to ES (issue)", r3.get("lines_per_s"), FB["es_rate"], "lines/s")
        ratio("run 3 agent CPU per million / Fluent Bit 5.1.1 to ES (issue)", r3.get("cpu_s_per_million"), FB["es_cpu"], "CPU s/M")
        ratio("run 3 ES CPU per million / ES under Fluent Bit (issue)", r3.get("es_cpu_s_per_million"), FB["es_es_cpu"], "CPU s/M")
    if r3:
        ratio("run 3 lines/s / rsyslog omelasticsearch (issue)", r3.get("lines_per_s"), RSYSLOG["es_rate"], "lines/s")
        ratio("run 3 agent CPU per million / rsyslog omelasticsearch (issue)", r3.get("cpu_s_per_million"), RSYSLOG["es_cpu"], "CPU s/M")


if __name__ == "__main__":
    main()
