#!/usr/bin/env python3
"""Elasticsearch's CPU per document, one change at a time on the agent's documents (docs/benchmark.md,
"Footprint"): es-ablation.py BASE.ndjson ES_URL ES_PID BENCH_JAR VARIANT...

BASE.ndjson: BulkCorpus's output (run 3's documents). Each variant gets a template for
logs-docker-abl<variant>x<n>* (the test distribution cannot delete data streams: a name is used once) (the installed `logferry` template, changed as the variant says), the
documents transformed, sent by BulkLoader (2 concurrent requests of 1600), then refresh, flush and
the merges' end; Elasticsearch's CPU (/proc/ES_PID/stat) over all of it, one JSON line per variant.
Variants: base noid idseq id100 date nopath nolabels nooffset noagent msgdocs codec logsdb minimal.
Run as root on the test environment's machine (it reads Elasticsearch's /proc); java on the PATH must be 21+."""
import json, sys, os, subprocess, time, urllib.request, copy, base64, struct
src, es, espid, jar = sys.argv[1:5]; variants = sys.argv[5:]
def req(method, path, body=None):
    r = urllib.request.Request(es + path, method=method, data=None if body is None else json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=120) as f: return json.load(f)
    except urllib.error.HTTPError as e: return {"error": e.read().decode()[:400]}
def cpu():
    s = open(f"/proc/{espid}/stat").read().rsplit(")", 1)[1].split()
    return (int(s[11]) + int(s[12])) / os.sysconf("SC_CLK_TCK")
base_t = req("GET", "/_index_template/logferry")["index_templates"][0]["index_template"]
lines = open(src, "rb").read().splitlines()
pairs = [(json.loads(lines[i]), json.loads(lines[i + 1])) for i in range(0, len(lines) - 1, 2)]
ns0 = pairs[0][1]["data_stream"]["namespace"]
def drop(d, path):
    p = path.split(".")
    for k in p[:-1]:
        d = d.get(k)
        if not isinstance(d, dict): return
    d.pop(p[-1], None)
MIN_KEEP = {"@timestamp", "message", "stream", "data_stream"}
def variant(v, name):
    t = copy.deepcopy(base_t); t["index_patterns"] = [f"logs-docker-{name}*"]; t["priority"] = 400
    t.pop("composed_of", None); t.pop("_meta", None)
    s = t["template"]["settings"]["index"]; m = t["template"]["mappings"]
    act = lambda a, i: a
    doc = lambda d, i: d
    if v == "noid": act = lambda a, i: {"create": {"_index": a["create"]["_index"]}}
    elif v == "idseq":   # big-endian counter only, no per-file prefix: 8 bytes base64url
        act = lambda a, i: {"create": {"_index": a["create"]["_index"], "_id": base64.urlsafe_b64encode(struct.pack(">Q", i)).decode().rstrip("=")}}
    elif v == "id100":   # 100 files interleaved, as in run 5: a per-file prefix (8 bytes) + that file's big-endian offset
        act = lambda a, i: {"create": {"_index": a["create"]["_index"], "_id": base64.urlsafe_b64encode(struct.pack(">QQ", 0x9E3779B97F4A7C15 * (i % 100 + 1) & (2**64 - 1), (i // 100) * 170)).decode().rstrip("=")}}
    elif v == "date": m["properties"]["@timestamp"] = {"type": "date"}
    elif v == "nopath": doc = lambda d, i: (drop(d, "log.file.path"), d)[1]
    elif v == "nolabels": doc = lambda d, i: (drop(d, "container.labels"), d)[1]
    elif v == "nooffset": doc = lambda d, i: (drop(d, "log.offset"), d)[1]
    elif v == "noagent": doc = lambda d, i: (drop(d, "agent"), d)[1]
    elif v == "msgdocs": m["properties"]["message"] = {"type": "text", "index_options": "docs", "norms": False}
    elif v == "codec": s.pop("codec", None)
    elif v == "logsdb": s["mode"] = "logsdb"
    elif v == "minimal": doc = lambda d, i: {k: d[k] for k in d if k in MIN_KEEP} | {"container": {"id": d["container"]["id"], "name": d["container"]["name"]}}
    elif v.startswith("base"): pass
    else: sys.exit("unknown variant " + v)
    return t, act, doc
res = []
for rep, v in enumerate(variants):
    name = f"abl{v}x{rep}"; ns = name
    t, act, doc = variant(v, name)
    r = req("PUT", f"/_index_template/f25-{name}", t)
    if "error" in r: print(v, "template failed", r); continue
    out = f"{os.path.dirname(os.path.abspath(src))}/{name}.ndjson"; offs = [0]; pos = 0; nbytes = 0
    with open(out, "wb") as f:
        for i, (a, d) in enumerate(pairs):
            a = copy.deepcopy(a); d = copy.deepcopy(d)
            a["create"]["_index"] = f"logs-docker-{ns}"
            d["data_stream"]["namespace"] = ns
            a = act(a, i); d = doc(d, i)
            b = (json.dumps(a, separators=(",", ":"), ensure_ascii=False) + "\n" + json.dumps(d, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
            f.write(b); pos += len(b); nbytes += len(b)
            if (i + 1) % 1600 == 0: offs.append(pos)
    if offs[-1] != pos: offs.append(pos)
    open(out + ".batches", "w").write("\n".join(map(str, offs)) + "\n")
    load = os.getloadavg()[0]
    c0 = cpu(); t0 = time.time()
    lr = subprocess.run(["java", "-Xmx256m", "-cp", jar, "io.logferry.bench.BulkLoader", "--url", es, "--ndjson", out, "--batches", out + ".batches", "--concurrency", "2", "--deadline-seconds", "600"], capture_output=True, text=True)
    t1 = time.time()
    req("POST", f"/logs-docker-{ns}/_refresh"); req("POST", f"/logs-docker-{ns}/_flush")
    for _ in range(120):
        m = req("GET", "/_nodes/stats/indices/merge?filter_path=nodes.*.indices.merges.current")
        if sum(n["indices"]["merges"]["current"] for n in m.get("nodes", {}).values()) == 0: break
        time.sleep(0.5)
    c1 = cpu(); t2 = time.time()
    cnt = req("GET", f"/logs-docker-{ns}/_count").get("count")
    st = req("GET", f"/logs-docker-{ns}/_stats/store").get("_all", {}).get("primaries", {}).get("store", {}).get("size_in_bytes")
    n = len(pairs)
    r = dict(variant=v, docs=n, count=cnt, es_cpu_s=round(c1 - c0, 2), es_cpu_per_M=round((c1 - c0) / n * 1e6, 1), load_s=round(t1 - t0, 1), settle_s=round(t2 - t1, 1), bytes_per_doc=round(nbytes / n), store_bytes_per_doc=round((st or 0) / n), load1=round(load, 2), loader=lr.stdout.strip()[-200:] if lr.returncode else "ok")
    print(json.dumps(r), flush=True); res.append(r)
    os.remove(out); os.remove(out + ".batches")
    req("DELETE", f"/_data_stream/logs-docker-{ns}")
    req("DELETE", f"/_index_template/f25-{name}")
