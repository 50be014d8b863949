#!/usr/bin/env python3
"""The agent's per-stage latency histograms (issue 25), read from its /metrics, as p50/p99 per stage.

stages.py METRICS_URL  ->  JSON on stdout:
  {"read_lag": {"caught_up": {"count": N, "p50_s": x, "p99_s": y}, "behind": {...}}, "queue_wait": ..., "delivery": ...}

Quantiles as Prometheus's histogram_quantile computes them: linear within the bucket that holds the
rank (from 0 for the first bucket); a rank in the +Inf bucket gives the highest finite bound. So a
quantile is only as fine as the buckets (1, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5 s ...).
An agent without the histograms gives {}.
"""
import json, re, sys, urllib.request

STAGES = ("read_lag", "queue_wait", "delivery")
LINE = re.compile(r'^logferry_event_(\w+?)_seconds_bucket\{tailer="(\w+)",le="([^"]+)"\} ([0-9.eE+-]+)$')


def quantile(q, buckets):
    """buckets: [(upper bound, cumulative count)] sorted, the last +Inf."""
    total = buckets[-1][1] if buckets else 0
    if total == 0:
        return None
    rank = q * total
    lower, below = 0.0, 0
    for le, cum in buckets:
        if cum >= rank:
            if le == float("inf"):
                return lower
            if cum == below:
                return le
            return lower + (le - lower) * (rank - below) / (cum - below)
        lower, below = le, cum
    return lower


def main():
    url = sys.argv[1]
    names = "&".join("name[]=logferry_event_%s_seconds" % s for s in STAGES)
    with urllib.request.urlopen(url + ("&" if "?" in url else "?") + names, timeout=10) as r:
        text = r.read().decode()
    series = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m and m.group(1) in STAGES:
            le = float("inf") if m.group(3) == "+Inf" else float(m.group(3))
            series.setdefault(m.group(1), {}).setdefault(m.group(2), []).append((le, int(float(m.group(4)))))
    out = {}
    for stage, by in series.items():
        for tailer, b in by.items():
            b.sort()
            out.setdefault(stage, {})[tailer] = {"count": b[-1][1] if b else 0,
                                                 "p50_s": quantile(0.5, b), "p99_s": quantile(0.99, b)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
