#!/usr/bin/env python3
"""End-to-end latency of run 5 of scripts/bench.sh: from the time Docker stamped a log line to
the moment it can be found with _search.

The writers mark one line in ten with the word "probe". Every --interval seconds this script
asks Elasticsearch for the probe documents it has not seen yet (a range on _seq_no, which the
shard assigns in indexing order, starting a little below the highest one seen so that documents
made visible out of order by a refresh in the middle of two concurrent bulk requests are not
missed; duplicates are dropped by _id), and records for each new one the time of that search
(the midpoint between sending it and getting the answer). Latency = that time minus the
document's @timestamp, which is Docker's own timestamp for the line (nanoseconds, same clock).
Resolution: +-interval/2, plus the search's own duration. The refresh interval of the index
(Elasticsearch's default, 1 s) is part of what is measured, as a user waiting for a line in
Kibana sees it.

The shipper's field names: --message-field (logferry: message; Fluent Bit's es output: log) and
--timestamp-field (@timestamp for both: logferry writes Docker's timestamp with its nanoseconds,
Fluent Bit's es output the record time its docker parser took from Docker's "time", cut to
milliseconds, which is below the resolution).

  latency.py --es URL --index NAME --expected N --deadline SECONDS --out FILE [--interval 0.25]
             [--message-field message] [--timestamp-field @timestamp]
"""
import argparse, json, sys, time, urllib.error, urllib.request
from datetime import datetime, timezone

MARGIN = 5000    # _seq_no below the highest seen that is asked for again (two bulk requests of 1600)


def ts_ns(s):
    """RFC 3339 with up to 9 fraction digits -> epoch nanoseconds."""
    s = s.rstrip("Z")
    base, _, frac = s.partition(".")
    sec = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])


def search(es, index, low, after, message_field="message", timestamp_field="@timestamp"):
    body = {"size": 10000, "_source": False, "seq_no_primary_term": True, "track_total_hits": False,
            "query": {"bool": {"filter": [{"match": {message_field: "probe"}}, {"range": {"_seq_no": {"gte": low}}}]}},
            "docvalue_fields": [{"field": timestamp_field, "format": "strict_date_optional_time_nanos"}],
            "sort": [{"_seq_no": "asc"}]}
    if after is not None:
        body["search_after"] = [after]
    req = urllib.request.Request(f"{es}/{index}/_search?ignore_unavailable=true&filter_path=hits.hits._id,hits.hits._seq_no,hits.hits.fields",
                                 data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r).get("hits", {}).get("hits", [])


def pct(sorted_vals, q):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(round(q / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--es", required=True)
    p.add_argument("--index", required=True)
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--deadline", type=float, required=True)
    p.add_argument("--interval", type=float, default=0.25)
    p.add_argument("--out", required=True)
    p.add_argument("--message-field", default="message")
    p.add_argument("--timestamp-field", default="@timestamp")
    a = p.parse_args()

    seen = {}
    high = -1
    polls = errors = 0
    end_at = time.time() + a.deadline
    while len(seen) < a.expected and time.time() < end_at:
        t_send = time.time()
        low = max(0, high - MARGIN)
        after = None
        try:
            while True:
                hits = search(a.es, a.index, low, after, a.message_field, a.timestamp_field)
                t_mid = (t_send + time.time()) / 2
                for h in hits:
                    high = max(high, h["_seq_no"])
                    if h["_id"] not in seen:
                        seen[h["_id"]] = (t_mid - ts_ns(h["fields"][a.timestamp_field][0]) / 1e9)
                if len(hits) < 10000:
                    break
                after = hits[-1]["_seq_no"]
        except (urllib.error.URLError, OSError, KeyError, ValueError):
            errors += 1
        polls += 1
        time.sleep(max(0.0, a.interval - (time.time() - t_send)))
    lat = sorted(seen.values())
    r = {"probes_expected": a.expected, "probes_seen": len(lat), "polls": polls, "poll_errors": errors,
         "interval_s": a.interval, "message_field": a.message_field, "timestamp_field": a.timestamp_field,
         "p50_s": pct(lat, 50), "p90_s": pct(lat, 90), "p99_s": pct(lat, 99),
         "max_s": lat[-1] if lat else None, "min_s": lat[0] if lat else None}
    with open(a.out, "w") as f:
        json.dump(r, f, indent=1)
    print(json.dumps(r))
    return 0 if len(lat) >= a.expected else 1


if __name__ == "__main__":
    sys.exit(main())
