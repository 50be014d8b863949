#!/usr/bin/env python3
"""Run 4b of scripts/bench.sh: copies the ceiling's NDJSON without the _id of each action line and
with another namespace, and maps the batch offsets onto the new file (same batches).

  strip-ids.py IN.ndjson IN.batches NAMESPACE NEW_NAMESPACE OUT.ndjson OUT.batches
"""
import re, sys

src, batches, ns, ns2, dst, dst_batches = sys.argv[1:7]
action = re.compile(rb'^\{"create":\{"_index":"logs-docker-' + re.escape(ns.encode()) + rb'","_id":"[^"]*"\}\}\n$')
new_action = b'{"create":{"_index":"logs-docker-' + ns2.encode() + b'"}}\n'
old_ns, new_ns = b'"namespace":"' + ns.encode() + b'"', b'"namespace":"' + ns2.encode() + b'"'
bounds = [int(x) for x in open(batches) if x.strip()]
out, i, pos_s, pos_d, n = [0], 1, 0, 0, 0
with open(src, "rb") as a, open(dst, "wb") as b:
    for line in a:
        pos_s += len(line)
        if n % 2 == 0:
            if not action.match(line):
                sys.exit(f"line {n + 1} is not an action line of logs-docker-{ns}: {line[:120]!r}")
            line2 = new_action
        else:
            line2 = line.replace(old_ns, new_ns, 1)
        b.write(line2)
        pos_d += len(line2)
        n += 1
        while i < len(bounds) and pos_s == bounds[i]:
            out.append(pos_d)
            i += 1
if len(out) != len(bounds):
    sys.exit(f"mapped {len(out)} of {len(bounds)} batch offsets")
with open(dst_batches, "w") as f:
    f.write("\n".join(map(str, out)) + "\n")
