#!/usr/bin/env python3
"""Elasticsearch CPU per document under two index templates: logferry's template as it is in
src/main/resources/elasticsearch/index-template.json ("before", or BEFORE: a change to it), and the
same with a change merged into its mappings ("after": CHANGE, JSON, default {"subobjects": false}).
Each run bulk-creates the same corpus of documents of logferry's shape into a fresh data stream of
each template, in turn, and reads Elasticsearch's process CPU (utime + stime from
/proc/<pid>/stat) around it. With RESEND=1 every refused document is sent once more, as the agent
does: "before" as its dead letter (the refused document as a string in event.original), "after"
with its decoded fields under logferry.flattened (issue 23's retyping).

Corpora: "ordinary" (JSON lines with nested objects, no clash: the per-document cost every line
pays) and "clash" (two containers: one prints {"status":{"x":N}}, the other {"status":N}; with
the old template every document of the second shape after the first of the first is refused).

Usage: mapping_cpu.py ES_URL ES_PID [docs] [runs]   (docs 60000, runs 3)
"""
import json, os, sys, time, urllib.request, statistics

CLK = os.sysconf("SC_CLK_TCK")
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FALLBACK = {"match_only_text": "text", "constant_keyword": "keyword", "wildcard": "keyword"}


def cpu(pid):
    s = open(f"/proc/{pid}/stat").read()
    f = s[s.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / CLK


def req(es, method, path, body=None, ctype="application/json"):
    r = urllib.request.Request(es + path, data=body, method=method, headers={"content-type": ctype})
    with urllib.request.urlopen(r, timeout=120) as resp:
        return json.loads(resp.read() or b"{}")


def fallback(node):
    if isinstance(node, dict):
        if isinstance(node.get("type"), str) and node["type"] in FALLBACK:
            node["type"] = FALLBACK[node["type"]]
        for v in node.values():
            fallback(v)
    elif isinstance(node, list):
        for v in node:
            fallback(v)


def merge(into, change):
    for k, v in change.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v


def template(pattern, change):
    t = json.load(open(os.path.join(ROOT, "src/main/resources/elasticsearch/index-template.json")))
    t["index_patterns"] = [pattern]
    t["priority"] = 900
    fallback(t)        # the integ-test-zip has none of these modules
    merge(t["template"]["mappings"], change)
    return t


AGENT = {"@timestamp", "message", "stream", "log", "container", "host", "agent", "data_stream", "event", "ecs"}


def second(which, stream, d):
    """The document sent again for a refused one: its dead letter (before) or retyped (after)."""
    if which == "before":
        return {"@timestamp": d["@timestamp"], "message": "refused", "error": {"type": "document_parsing_exception",
                "message": "refused", "code": "400"}, "document": {"index": stream}, "event": {"original": json.dumps(d),
                "dataset": "logferry.deadletter"}, "container": {"id": d["container"]["id"]}, "ecs": {"version": "9.1.0"}}
    r = {k: v for k, v in d.items() if k in AGENT}
    r["logferry"] = {"flattened": {k: v for k, v in d.items() if k not in AGENT}}
    r["log"] = dict(d["log"], flags=["mapping_conflict"])
    return r


LABELS = {f"label_{i}": f"value-{i}" for i in range(8)}


def doc(c, n, shape):
    d = {"@timestamp": "2026-12-07T20:00:00.%09dZ" % n, "message": f"GET /api/v1/items/{n} took {n % 97} ms",
         "stream": "stdout", "log": {"offset": n * 180, "file": {"path": f"/var/lib/docker/containers/{c}/{c}-json.log"}}}
    if shape == "ordinary":
        d.update({"http_status": 200 + n % 5, "request": {"method": "GET", "path": f"/api/v1/items/{n % 50}", "bytes": n % 4096},
                  "user_agent_name": "curl", "duration_ms": n % 97})
    elif shape == "object":
        d["status"] = {"x": n}
    else:
        d["status"] = n
    d.update({"container": {"id": c, "name": "app-" + c[:4], "image": {"name": "app:1.0", "tag": "1.0"}, "runtime": "docker",
                            "labels": LABELS},
              "host": {"name": "h"}, "agent": {"type": "logferry", "name": "h", "version": "0.1.0", "id": "a", "ephemeral_id": "e"},
              "data_stream": {"type": "logs", "dataset": "docker", "namespace": "x"}, "event": {"dataset": "docker"},
              "ecs": {"version": "9.1.0"}})
    return d


def corpus(kind, docs):
    out = []
    for n in range(docs):
        if kind == "ordinary":
            out.append(doc("c1" * 32, n, "ordinary"))
        else:
            # container A's object comes first, then both alternate
            out.append(doc(("a" if n % 2 == 0 else "b") * 64, n, "object" if n % 2 == 0 else "value"))
    return out


def run(es, pid, stream, docs, which, resend):
    lines = [json.dumps({"create": {"_index": stream}}) + "\n" + json.dumps(d) + "\n" for d in docs]
    refused = 0
    c0, t0 = cpu(pid), time.time()
    for i in range(0, len(lines), 1600):
        body = "".join(lines[i:i + 1600]).encode()
        r = req(es, "POST", "/_bulk?filter_path=errors,items.*.status", body, "application/x-ndjson")
        if r.get("errors"):
            bad = [i + j for j, it in enumerate(r["items"]) if it["create"]["status"] >= 300]
            refused += len(bad)
            if resend and bad:
                again = "".join(json.dumps({"create": {"_index": stream + ("-letters" if which == "before" else "")}}) + "\n"
                                + json.dumps(second(which, stream, docs[k])) + "\n" for k in bad).encode()
                r2 = req(es, "POST", "/_bulk?filter_path=errors,items.*.status", again, "application/x-ndjson")
                if r2.get("errors"):
                    print("  the second chance was refused too:", sum(1 for it in r2["items"] if it["create"]["status"] >= 300))
    return cpu(pid) - c0, time.time() - t0, refused


def main():
    es, pid = sys.argv[1], int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 60000
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    change = json.loads(os.environ.get("CHANGE", '{"subobjects": false}'))
    before = json.loads(os.environ.get("BEFORE", '{}'))
    resend = os.environ.get("RESEND") == "1"
    kinds = os.environ.get("KINDS", "ordinary,clash").split(",")
    req(es, "PUT", "/_index_template/cpubench-before", json.dumps(template("cpubench-before-*", before)).encode())
    req(es, "PUT", "/_index_template/cpubench-after", json.dumps(template("cpubench-after-*", change)).encode())
    tag = str(int(time.time()))
    for kind in kinds:
        docs = corpus(kind, n)
        res = {"before": [], "after": []}
        for r in range(runs):
            for which in ("before", "after") if r % 2 == 0 else ("after", "before"):
                s = f"cpubench-{which}-{kind}{r}-{tag}"
                secs, wall, refused = run(es, pid, s, docs, which, resend)
                res[which].append(secs)
                print(f"{kind} run {r} {which}: {secs:.2f} s CPU, {wall:.1f} s wall, {refused} refused of {n}"
                      f" -> {secs / n * 1e6:.1f} s per million documents sent", flush=True)
        b, a = statistics.median(res["before"]), statistics.median(res["after"])
        print(f"{kind}: median CPU s per million documents: before {b / n * 1e6:.1f}, after {a / n * 1e6:.1f} "
              f"(after / before {a / b:.2f})", flush=True)


if __name__ == "__main__":
    main()
