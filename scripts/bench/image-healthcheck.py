#!/usr/bin/env python3
"""The image's HEALTHCHECK, as scripts/bench.sh's idle run (run 7) runs it on the host.

Reads the last stage of the Dockerfile: the HEALTHCHECK instruction (continuation lines joined;
exec form or shell form, which the runtime runs with /bin/sh -c; NONE) with its --interval and
--timeout (Docker's defaults 30 s and 30 s), and the stage's ENV values the java launcher reads
(JDK_JAVA_OPTIONS, JAVA_TOOL_OPTIONS) or the check may read (LOGFERRY_*), because the runtime runs
the check with the image's environment. Paths of the image's install directory (--image-dir,
/opt/logferry) become the bench's own files: logferry.jar -> --jar, logferry.aot -> --aot, and a
file the stage COPYs from the build context (the health check script) -> that file in the checkout.

Prints one JSON object: {"interval_s", "timeout_s", "cmd": [argv], "env": {name: value},
"instruction": the original text}, or {"cmd": null} when the image has no health check.

  image-healthcheck.py DOCKERFILE --jar JAR [--aot AOT] [--image-dir /opt/logferry]
"""
import argparse, json, os, re, shlex, sys

ENV_KEEP = re.compile(r"^(JDK_JAVA_OPTIONS|JAVA_TOOL_OPTIONS|LOGFERRY_\w+)$")


def instructions(text):
    """(keyword, rest) per instruction, continuation lines joined, comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if cur and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        kw, _, rest = cur.strip().partition(" ")
        out.append((kw.upper(), rest.strip()))
        cur = ""
    return out


def duration(s):
    """Docker's durations: 30s, 1m30s, 500ms, 1h."""
    total, units = 0.0, {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    for num, unit in re.findall(r"([0-9.]+)(ms|us|ns|h|m|s)", s):
        total += float(num) * units[unit]
    return total


def env_values(rest):
    """ENV k=v k2="v 2" or the legacy ENV k v."""
    if "=" not in rest.split(None, 1)[0]:
        k, _, v = rest.partition(" ")
        return {k: v.strip()}
    vals = {}
    for tok in shlex.split(rest):
        k, _, v = tok.partition("=")
        vals[k] = v
    return vals


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dockerfile")
    p.add_argument("--jar", required=True)
    p.add_argument("--aot")
    p.add_argument("--image-dir", default="/opt/logferry")
    a = p.parse_args()

    ins = instructions(open(a.dockerfile).read())
    last_from = max(i for i, (kw, _) in enumerate(ins) if kw == "FROM")
    stage = ins[last_from:]
    env, hc, copied = {}, None, {}
    root = os.path.dirname(os.path.abspath(a.dockerfile))
    for kw, rest in stage:
        if kw == "COPY" and not rest.startswith("--"):
            parts = rest.split()
            if len(parts) == 2:
                copied[parts[1]] = os.path.join(root, parts[0])
        if kw == "ENV":
            env.update({k: v for k, v in env_values(rest).items() if ENV_KEEP.match(k)})
        elif kw == "HEALTHCHECK":
            hc = rest
    if hc is None or hc.upper().startswith("NONE"):
        print(json.dumps({"cmd": None, "instruction": hc}))
        return 0
    opts, _, cmd = hc.partition("CMD")
    interval = timeout = 30.0
    for m in re.finditer(r"--(\w[\w-]*)=(\S+)", opts):
        if m.group(1) == "interval":
            interval = duration(m.group(2))
        elif m.group(1) == "timeout":
            timeout = duration(m.group(2))
    cmd = cmd.strip()
    argv = json.loads(cmd) if cmd.startswith("[") else ["/bin/sh", "-c", cmd]

    def local(s):
        for dest, src in copied.items():
            if s == dest:
                return src
        s = s.replace(a.image_dir + "/logferry.jar", a.jar)
        if a.aot:
            s = s.replace(a.image_dir + "/logferry.aot", a.aot)
        return s

    argv = [local(x) for x in argv]
    env = {k: local(v) for k, v in env.items()}
    print(json.dumps({"interval_s": interval, "timeout_s": timeout, "cmd": argv, "env": env,
                      "instruction": "HEALTHCHECK " + hc}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
