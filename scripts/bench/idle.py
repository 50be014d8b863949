#!/usr/bin/env python3
"""The idle run of scripts/bench.sh (run 7): what a log shipper costs while its containers print
nothing.

First it waits until the shipper has settled: until a Prometheus counter or gauge (--ready-metric,
e.g. logferry_tailers_active, or Fluent Bit's fluentbit_input_files_opened_total) has reached
--ready-count (every container's log open), then --settle seconds more (its start-up work, JIT,
first flushes). Then, without touching the shipper at all (no /metrics poll), it samples the
shipper's CPU (utime+stime from /proc/PID/stat), Elasticsearch's and the whole machine's, waits
--seconds, and samples again.

With --healthcheck (a JSON file from image-healthcheck.py: the image's HEALTHCHECK command, its
environment, interval and timeout) it also runs that check every interval during the window, the
first at the window's start (a window of k intervals holds k checks, as many as the container
runtime runs in that time; the checks' CPU per minute is their mean CPU times 60 / interval), with the image's environment plus --health-env (e.g. the agent's
LOGFERRY_HTTP_PORT), each bounded by the timeout, and counts the checks' own CPU (the children's utime+stime from
wait4) separately: the check's process is what the image adds to the agent's cost, the /health
request it serves is in the agent's own CPU.

  idle.py --pid PID --seconds S --out FILE --label NAME [--es-pid PID]
          [--ready-metrics URL --ready-metric SERIES --ready-count N --ready-deadline S] [--settle S]
          [--healthcheck FILE --health-env K=V ...]
"""
import argparse, json, os, resource, subprocess, sys, time

sys.dont_write_bytecode = True   # no __pycache__ in scripts/bench
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def health_check(cmd, env, timeout):
    """Runs the check once: (exit code or 'timeout', wall s, CPU s of the check's processes)."""
    c0, t0 = children_cpu(), time.time()
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        rc, out = p.returncode, p.stdout.decode(errors="replace").strip()
    except subprocess.TimeoutExpired as e:   # run() has killed and reaped it: its CPU is counted
        rc, out = "timeout", (e.output or b"").decode(errors="replace").strip()
    except OSError as e:
        rc, out = "error", str(e)
    return rc, time.time() - t0, children_cpu() - c0, out[-200:]


def wait_ready(a):
    """Seconds from now until the ready metric reached the count (None if it did not by the deadline)."""
    t0 = time.time()
    value = None
    while time.time() - t0 < a.ready_deadline:
        if measure.proc_cpu(a.pid) is None:
            return None, value
        try:
            value = measure.metric(a.ready_metrics, a.ready_metric)
        except Exception:
            value = None
        if value is not None and value >= a.ready_count:
            return time.time() - t0, value
        time.sleep(0.5)
    return None, value


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--launch-ns", type=int, default=0)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--es-pid", type=int, default=0)
    p.add_argument("--ready-metrics")
    p.add_argument("--ready-metric")
    p.add_argument("--ready-count", type=float, default=0)
    p.add_argument("--ready-deadline", type=float, default=120)
    p.add_argument("--settle", type=float, default=10)
    p.add_argument("--healthcheck")
    p.add_argument("--health-env", action="append", default=[])
    p.add_argument("--label", default="")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    r = {"label": a.label, "status": "ok", "idle_s": a.seconds, "settle_s": a.settle}
    if a.ready_metrics:
        took, value = wait_ready(a)
        r["ready_metric"] = a.ready_metric
        r["ready_value"] = value
        r["ready_expected"] = a.ready_count
        if took is None:
            r["status"] = "not ready"
        else:
            r["ready_after_s"] = took
            if a.launch_ns:
                r["ready_since_launch_s"] = time.time() - a.launch_ns / 1e9
    if r["status"] == "ok":
        time.sleep(a.settle)
    hc = json.load(open(a.healthcheck)) if a.healthcheck else {}
    cmd = hc.get("cmd")
    interval, timeout = hc.get("interval_s", 30.0), hc.get("timeout_s", 30.0)
    env = dict(os.environ)
    env.update(hc.get("env", {}))
    for kv in a.health_env:
        k, _, v = kv.partition("=")
        env[k] = v

    start = measure.sample(a)
    start_rss = measure.proc_status(a.pid, "VmRSS")
    load_start = measure.loadavg()
    checks = []
    end_at = start["t"] + a.seconds
    next_check = start["t"]
    while True:
        now = time.time()
        if cmd is not None and now >= next_check and now < end_at:
            rc, wall, cpu, out = health_check(cmd, env, timeout)
            checks.append({"at_s": round(now - start["t"], 2), "rc": rc, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "out": out})
            next_check += interval
            continue
        if now >= end_at:
            break
        wake = min(end_at, next_check) if cmd is not None else end_at
        time.sleep(max(0.0, wake - now))
    end = measure.sample(a)
    if start["cpu"] is None or end["cpu"] is None:
        r["status"] = "exited"
    window = end["t"] - start["t"]
    per_min = 60.0 / window
    r.update({"window_s": window, "load_start": load_start, "load_end": measure.loadavg(),
              "peak_rss_bytes": measure.proc_status(a.pid, "VmHWM"), "rss_start_bytes": start_rss,
              "rss_end_bytes": measure.proc_status(a.pid, "VmRSS")})
    if r["status"] != "exited":
        r["cpu_s"] = end["cpu"] - start["cpu"]
        r["cpu_s_per_min"] = r["cpu_s"] * per_min
    if a.es_pid and start["es_cpu"] is not None and end["es_cpu"] is not None:
        r["es_cpu_s"] = end["es_cpu"] - start["es_cpu"]
    health_cpu = sum(c["cpu_s"] for c in checks)
    r["machine_cpu_s"] = end["machine"] - start["machine"]
    r["other_cpu_s"] = r["machine_cpu_s"] - r.get("cpu_s", 0) - r.get("es_cpu_s", 0) - health_cpu
    if cmd is not None:
        r["health_cmd"] = cmd
        r["health_interval_s"] = interval
        r["health_env"] = {k: env[k] for k in list(hc.get("env", {})) + [kv.partition("=")[0] for kv in a.health_env]}
        r["health_checks"] = len(checks)
        r["health_failures"] = sum(1 for c in checks if c["rc"] != 0)
        r["health_cpu_s"] = health_cpu
        # per check times the checks per minute: the window need not be a multiple of the interval
        r["health_cpu_s_per_min"] = health_cpu / len(checks) * 60.0 / interval if checks else 0.0
        r["health_check_log"] = checks
        if "cpu_s_per_min" in r:
            r["total_cpu_s_per_min"] = r["cpu_s_per_min"] + r["health_cpu_s_per_min"]
        if r["health_failures"] and r["status"] == "ok":
            r["status"] = "health check failed"
    elif "cpu_s_per_min" in r:
        r["total_cpu_s_per_min"] = r["cpu_s_per_min"]
    with open(a.out, "w") as f:
        json.dump(r, f, indent=1)
    print(json.dumps(r))
    return 0 if r["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
