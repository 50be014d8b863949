#!/usr/bin/env python3
"""Wakeups per second of each thread of a process over a window, grouped by thread name.

wakeups.py PID [SECONDS]  ->  a table on stdout and a JSON line at the end

A wakeup is a context switch (voluntary + involuntary, /proc/PID/task/TID/status) of the thread:
a thread that parks and is woken counts one per wake. CPU is utime + stime of the thread
(/proc/PID/task/TID/stat, clock ticks). Thread names come from /proc/PID/task/TID/comm (15
characters; digits at the end are folded into '#', so a pool's threads form one group).
Threads that start or end within the window count from or until then.
"""
import json, os, re, sys, time

TCK = os.sysconf("SC_CLK_TCK")


def sample(pid):
    out = {}
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"{base}/{tid}/status") as f:
                st = f.read()
            with open(f"{base}/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        v = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", st, re.M).group(1))
        n = int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", st, re.M).group(1))
        out[tid] = (name, v + n, int(fields[11]) + int(fields[12]))
    return out


def main():
    pid = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30
    a = sample(pid)
    t0 = time.monotonic()
    time.sleep(seconds)
    b = sample(pid)
    dt = time.monotonic() - t0
    groups = {}
    for tid, (name, sw, cpu) in b.items():
        sw0, cpu0 = (a[tid][1], a[tid][2]) if tid in a else (0, 0)
        g = re.sub(r"\d+$", "#", name)
        w, c, k = groups.get(g, (0, 0, 0))
        groups[g] = (w + sw - sw0, c + cpu - cpu0, k + 1)
    total_w = sum(w for w, _, _ in groups.values())
    total_c = sum(c for _, c, _ in groups.values())
    print(f"{'threads':<20} {'n':>3} {'wakeups/s':>10} {'CPU ms':>8}")
    for g, (w, c, k) in sorted(groups.items(), key=lambda x: -x[1][0]):
        if w or c:
            print(f"{g:<20} {k:>3} {w / dt:>10.1f} {c * 1000 // TCK:>8}")
    print(f"{'total':<20} {len(b):>3} {total_w / dt:>10.1f} {total_c * 1000 // TCK:>8}   over {dt:.1f} s")
    print(json.dumps({"seconds": dt, "wakeups_per_s": total_w / dt, "cpu_ms": total_c * 1000 // TCK,
                      "groups": {g: {"threads": k, "wakeups_per_s": w / dt, "cpu_ms": c * 1000 // TCK}
                                 for g, (w, c, k) in groups.items()}}))


if __name__ == "__main__":
    main()
