#!/usr/bin/env python3
"""Measures one benchmark run of a log shipper (used by scripts/bench.sh).

Polls a Prometheus counter (the shipper's acknowledged events) until it reaches --expected,
or until it has not moved for --settle seconds once it started (for shippers whose event count
is not known in advance), or until --deadline. Samples the shipper's CPU (utime+stime from
/proc/PID/stat), Elasticsearch's CPU (--es-pid) and the whole machine's busy CPU (/proc/stat),
at launch, at the first acknowledged event and at the end, and reads the peak RSS (VmHWM).
Polls every --interval seconds at the start and near the end, less often in between (next_poll).
Writes one JSON object (--out) and prints it.

  measure.py --pid PID --launch-ns NS --metrics URL --metric NAME[{labels}] --expected N
             --deadline SECONDS [--es-pid PID] [--settle SECONDS] [--interval 0.1]
             [--max-interval 1.0] --out FILE
"""
import argparse, json, os, sys, time, urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """utime+stime of a process (all its threads) in seconds, or None if it is gone."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK   # fields 14 and 15 of stat


def proc_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def machine_busy():
    """All CPUs' busy time (everything but idle and iowait) in seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def next_poll(a, first, acked):
    """Seconds to the next poll: --interval until the first acknowledgement and near the end; in
    between a quarter of the estimated time left, at most --max-interval. Every scrape of /metrics
    costs the shipper CPU; at 10 Hz over a 80 s run that was 0.16 CPU s per million lines charged to
    the agent by the measurement itself, when a whole page cost it 1 ms. Since Micrometer renders the
    page (about 6 ms warm, 14 ms cold), bench.sh asks the agent for the one counter it reads
    (?name[]=logferry_events_acked_total, the Prometheus convention), as it would any poller."""
    if first is None or a.settle or acked <= first["acked"]:
        return a.interval
    elapsed = time.time() - first["t"]
    rate = (acked - first["acked"]) / elapsed if elapsed > 0 else 0
    if rate <= 0:
        return a.interval
    return min(a.max_interval, max(a.interval, (a.expected - acked) / rate / 4))


def metric(url, series):
    """The value of one series (name or name{labels}) from a Prometheus text page; summed over label sets when only a name is given."""
    with urllib.request.urlopen(url, timeout=2) as r:
        text = r.read().decode()
    total, found = 0.0, False
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        if "}" in line:
            i = line.rindex("}") + 1
            key, rest = line[:i], line[i:]
        else:
            key, _, rest = line.partition(" ")
        if key == series or ("{" not in series and key.split("{")[0] == series):
            total += float(rest.split()[0])
            found = True
    return total if found else None


def sample(a):
    return {"t": time.time(), "cpu": proc_cpu(a.pid), "es_cpu": proc_cpu(a.es_pid), "machine": machine_busy()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--launch-ns", type=int, required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--metric", required=True)
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--deadline", type=float, required=True)
    p.add_argument("--es-pid", type=int, default=0)
    p.add_argument("--settle", type=float, default=0)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--max-interval", type=float, default=1.0)
    p.add_argument("--label", default="")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    launch = a.launch_ns / 1e9
    start = sample(a)
    start["t"] = launch          # CPU before launch is 0 for the shipper; the others are sampled now
    load_start = loadavg()
    first = None
    last_change = None
    value, prev = 0.0, None
    status = "deadline"
    end_at = launch + a.deadline
    polls = 0
    while True:
        now = time.time()
        if proc_cpu(a.pid) is None:
            status = "exited"
            break
        try:
            v = metric(a.metrics, a.metric)
        except Exception:
            v = None
        polls += 1
        if v is not None:
            value = v
            if first is None and v > 0:
                first = sample(a)
                first["acked"] = v
            if prev is None or v != prev:
                last_change = sample(a)
                last_change["acked"] = v
            prev = v
            if v >= a.expected:
                status = "ok"
                break
            if a.settle and first is not None and time.time() - last_change["t"] >= a.settle:
                status = "settled"
                break
        if now >= end_at:
            break
        time.sleep(next_poll(a, first, value))
    end = sample(a) if status != "settled" else last_change
    rss = proc_status(a.pid, "VmHWM")
    r = {"label": a.label, "status": status, "expected": a.expected, "acked": value, "polls": polls,
         "wall_s": end["t"] - launch, "cpu_s": end["cpu"], "peak_rss_bytes": rss,
         "load_start": load_start, "load_end": loadavg()}
    n = value if status != "ok" else a.expected
    if n > 0 and end["cpu"] is not None:
        r["lines_per_s"] = n / r["wall_s"]
        r["cpu_s_per_million"] = end["cpu"] / (n / 1e6)
    if first is not None and n > first["acked"] and end["t"] > first["t"]:
        steady = n - first["acked"]
        r["first_ack_s"] = first["t"] - launch
        r["cpu_at_first_ack_s"] = first["cpu"]
        r["lines_per_s_excl_startup"] = steady / (end["t"] - first["t"])
        r["cpu_s_per_million_excl_startup"] = (end["cpu"] - first["cpu"]) / (steady / 1e6)
    if a.es_pid and end["es_cpu"] is not None and start["es_cpu"] is not None:
        r["es_cpu_s"] = end["es_cpu"] - start["es_cpu"]
        if n > 0:
            r["es_cpu_s_per_million"] = r["es_cpu_s"] / (n / 1e6)
    r["machine_cpu_s"] = end["machine"] - start["machine"]
    r["other_cpu_s"] = r["machine_cpu_s"] - (end["cpu"] or 0) - r.get("es_cpu_s", 0)
    with open(a.out, "w") as f:
        json.dump(r, f, indent=1)
    print(json.dumps(r))
    return 0 if status in ("ok", "settled") else 1


if __name__ == "__main__":
    sys.exit(main())
