#!/usr/bin/env python3
"""Racked-cluster htools benchmark: Ganeti's hbal/hail/hspace and ours on
generated clusters with racks (location tags), exclusion tags, two node
groups, heterogeneous nodes and offline nodes, at 30, 200 and 1,000 nodes.

Uses the shared harness's generator, runner and parsers (gen.py, bench.py)
with its own case list (the shared harness's racked case is 20 nodes only).

  racked.py gen [--force] [--json compact|ganeti]
        generate corpus/r{30,200,1000} (CORPUS=DIR: elsewhere); --json
        ganeti rewrites the hail requests as Ganeti itself sends them
        (its serializer: a space after each ':' and ',', a final newline),
        compact (the default) as the generator writes them; an existing
        corpus is only rewritten, e.g.
          CORPUS=/tmp/corpus-ganeti racked.py gen --json ganeti
  racked.py list
  racked.py run --label L --out F.json [--only REGEX] [--timeout S]
        (command prefixes from HBAL_CMD / HAIL_CMD / HSPACE_CMD, as bench.py)
  racked.py compare THEIRS.json OURS.json
  racked.py pairs --ours DIST [--only REGEX] [--n N]
        Ganeti's binary and ours (DIST/<tool>.cjs) alternately on each case,
        one warm-up pair then N counted pairs: CPU medians and the median of
        the pairwise CPU ratios, the figure to quote on a shared machine
        (both sides see the same load); also whether the outputs' decisions
        agree.
  racked.py floor --ours DIST [--only REGEX] [--n N]
        As pairs, with CPU times from getrusage (microseconds, where
        /usr/bin/time gives 10 ms) and, in each round, also Node doing
        nothing (with the tool's shebang flags) and our tool printing its
        version (Node's start, loading the bundle): how much of our time
        is above those floors, against a hundredth of Ganeti's time.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("HTOOLS_BENCH", "/work/shared/bench/htools")
sys.path.insert(0, SHARED)
import bench  # noqa: E402  (the shared harness)

CORPUS = os.environ.get("CORPUS", os.path.join(HERE, "corpus"))
RACKED = {
    "r30": ["--nodes", "30", "--instances", "150", "--seed", "30"],
    "r200": ["--nodes", "200", "--instances", "2000", "--seed", "200"],
    "r1000": ["--nodes", "1000", "--instances", "10000", "--seed", "1000"],
    # equal nodes: the heterogeneous r200 fails N+1 before any allocation
    # (hspace allocates nothing there, Ganeti's as ours)
    "h200": ["--nodes", "200", "--instances", "2000", "--seed", "201",
             "--no-requests"],
}
FEATURES = ["--groups", "2", "--hetero", "--excl-tags", "--locations",
            "--offline", "2"]
SIZE = {"r30": "30n/150i,2g", "r200": "200n/2000i,2g",
        "r1000": "1000n/10000i,2g", "h200": "200n/2000i,2g"}


def cases():
    out = []

    def add(sid, tool, extra, req=None, tag=""):
        f = os.path.join(CORPUS, sid + (".req-%s.json" % req if req
                                        else ".data"))
        cid = "rack/%s/%s%s%s" % (tool, sid, "/" + req if req else "", tag)
        out.append(dict(id=cid, tool=tool, size=SIZE[sid], file=f,
                        args=extra, tier="normal"))

    # hbal balances one group (-G); full runs where Ganeti can finish
    add("r30", "hbal", ["-G", "group-01"])
    add("r30", "hbal", ["-G", "group-01", "-l", "1"], tag="/l1")
    add("r200", "hbal", ["-G", "group-01", "-l", "1"], tag="/l1")
    out[-1]["timeout"] = 3000
    add("r200", "hbal", ["-G", "group-01"])
    add("r1000", "hbal", ["-G", "group-01", "-l", "1"], tag="/l1")
    for req in ["alloc-drbd", "alloc-plain", "multi-alloc", "relocate",
                "node-evac", "change-group"]:
        add("r30", "hail", [], req=req)
    for sid in ["r200", "r1000"]:
        for req in ["alloc-drbd", "alloc-plain", "multi-alloc"]:
            add(sid, "hail", ["--no-capacity-checks"], req=req, tag="/nocap")
    add("r200", "hail", [], req="alloc-plain")
    add("r30", "hspace", ["--disk-template", "drbd"], tag="/drbd")
    add("r30", "hspace", ["--disk-template", "drbd", "--no-capacity-checks"],
        tag="/drbd-nocap")
    add("r200", "hspace", ["--disk-template", "drbd", "--no-capacity-checks",
                           "-l", "50"], tag="/drbd-nocap-l50")
    add("r200", "hspace", ["--disk-template", "plain",
                           "--no-capacity-checks"], tag="/plain-nocap")
    add("h200", "hspace", ["--disk-template", "drbd", "--no-capacity-checks",
                           "-l", "50"], tag="/drbd-nocap-l50")
    add("r1000", "hspace", ["--disk-template", "drbd",
                            "--no-capacity-checks", "-l", "20"],
        tag="/drbd-nocap-l20")
    out[-1]["timeout"] = 900
    return out


def cmd_gen(args):
    os.makedirs(CORPUS, exist_ok=True)
    for sid, gargs in RACKED.items():
        if os.path.exists(os.path.join(CORPUS, sid + ".data")) \
                and not args.force:
            continue
        feats = [f for f in FEATURES if f != "--hetero"] if sid == "h200" \
            else FEATURES
        subprocess.run([sys.executable, os.path.join(SHARED, "gen.py")]
                       + gargs + feats + ["--out",
                                             os.path.join(CORPUS, sid)],
                       check=True)
    rewrite_requests(args.json)


def dump_request(msg, form):
    """A request's text: compact (the generator's) or Ganeti's own form.

    Ganeti 3.0 writes the IAllocator input with serializer.DumpJson:
    simplejson.dumps with its default separators (", " and ": ", no
    indentation), then a newline.
    """
    if form == "ganeti":
        return json.dumps(msg) + "\n"
    return json.dumps(msg, separators=(",", ":"))


def rewrite_requests(form):
    for sid in RACKED:
        for name in sorted(os.listdir(CORPUS)):
            if not (name.startswith(sid + ".req-") and name.endswith(".json")):
                continue
            path = os.path.join(CORPUS, name)
            with open(path) as f:
                text = f.read()
            new = dump_request(json.loads(text), form)
            if new != text:
                with open(path, "w") as f:
                    f.write(new)


def cmd_list(args):
    for c in cases():
        print("%-45s %s" % (c["id"], " ".join(bench.argv_for(c))))


def cmd_run(args):
    results = []
    if os.path.exists(args.out) and args.append:
        with open(args.out) as f:
            results = json.load(f)["cases"]
    for c in cases():
        if args.only and not re.search(args.only, c["id"]):
            continue
        argv = bench.argv_for(c)
        runs = []
        limit = min(args.timeout, c.get("timeout", args.timeout))
        for _ in range(args.reps):
            # (timeout(1) under /usr/bin/time: a run stopped at the limit
            # still has its CPU time counted, and no process is left behind)
            r = bench.run_once(["timeout", "-k", "10", str(int(limit))] + argv,
                               limit + 60)
            if r["rc"] in (124, 137):
                r["timed_out"] = True
            runs.append(r)
            if r["timed_out"] or (r["cpu"] or 0) > 10:
                break
        last = runs[-1]
        cpus = [r["cpu"] for r in runs if r["cpu"] is not None]
        e = dict(c, argv=argv, rc=last["rc"], timed_out=last["timed_out"],
                 time_median_s=round(statistics.median(
                     r["wall"] for r in runs), 4),
                 cpu_median_s=round(statistics.median(cpus), 3)
                 if cpus else None,
                 maxrss_kb=max((r["rss_kb"] or 0) for r in runs),
                 result=bench.PARSERS[c["tool"]](last["out"]))
        if last["rc"] != 0:
            e["stderr_tail"] = last["err"][-400:]
        results = [x for x in results if x["id"] != c["id"]] + [e]
        print("%-45s %8.3fs wall %8.3fs cpu %7.1fMB rc=%s%s" % (  # noqa
            c["id"], e["time_median_s"], e["cpu_median_s"] or -1,
            e["maxrss_kb"] / 1024.0, e["rc"],
            " TIMEOUT" if e["timed_out"] else ""), flush=True)
        with open(args.out + ".tmp", "w") as f:
            json.dump({"meta": {"label": args.label}, "cases": results}, f,
                      indent=1)
        os.replace(args.out + ".tmp", args.out)


def cmd_compare(args):
    with open(args.theirs) as f:
        theirs = {c["id"]: c for c in json.load(f)["cases"]}
    with open(args.ours) as f:
        ours = {c["id"]: c for c in json.load(f)["cases"]}
    print("%-42s %10s %10s %9s %5s" % ("case", "cpu_ganeti", "cpu_ours",
                                       "speed-up", "same"))
    n = same = 0
    for cid, o in ours.items():
        t = theirs.get(cid)
        if t is None or t.get("timed_out"):
            # Ganeti stopped at the time limit: its CPU time so far bounds the speed-up
            ct = t.get("cpu_median_s") if t else None
            print("%-42s %10s %10.3f %9s %5s" % (
                cid, (">%.1f" % ct) if ct else "-", o["cpu_median_s"],
                (">%.0fx" % (ct / max(o["cpu_median_s"], 0.001))) if ct else "-",
                "-"))
            continue
        n += 1
        s = bench.same_decision(t, o) and t.get("rc") == o.get("rc")
        same += s
        ct, co = t["cpu_median_s"], o["cpu_median_s"]
        print("%-42s %10.3f %10.3f %8.1fx %5s" % (
            cid, ct, co, ct / max(co, 0.001), "yes" if s else "NO"))
    print("%d/%d cases with identical decisions" % (same, n))


def cmd_pairs(args):
    ganeti = {"hbal": "hbal", "hail": "/usr/lib/ganeti/iallocators/hail",
              "hspace": "hspace"}
    for c in cases():
        if args.only and not re.search(args.only, c["id"]):
            continue
        argvs = {}
        for side, cmd in (("ganeti", ganeti[c["tool"]]),
                          ("ours", os.path.join(args.ours,
                                                c["tool"] + ".cjs"))):
            os.environ[{"hbal": "HBAL_CMD", "hail": "HAIL_CMD",
                        "hspace": "HSPACE_CMD"}[c["tool"]]] = cmd
            argvs[side] = bench.argv_for(c)
        cpu = {"ganeti": [], "ours": []}
        ratios = []
        last = {}
        for k in range(args.n + 1):
            for side in ("ganeti", "ours"):
                last[side] = bench.run_once(argvs[side], args.timeout)
            if k == 0:
                continue  # warm-up pair
            for side in ("ganeti", "ours"):
                cpu[side].append(last[side]["cpu"])
            ratios.append(last["ganeti"]["cpu"] / max(last["ours"]["cpu"], 0.001))
        parse = bench.PARSERS[c["tool"]]
        same = bench.same_decision(
            dict(c, rc=last["ganeti"]["rc"], result=parse(last["ganeti"]["out"])),
            dict(c, rc=last["ours"]["rc"], result=parse(last["ours"]["out"]))) \
            and last["ganeti"]["rc"] == last["ours"]["rc"]
        print("%-42s ganeti %8.3fs  ours %7.3fs  ratio %7.1fx (%.1f-%.1f)  "
              "same %s  load %s" % (
                  c["id"], statistics.median(cpu["ganeti"]),
                  statistics.median(cpu["ours"]), statistics.median(ratios),
                  min(ratios), max(ratios), "yes" if same else "NO",
                  open("/proc/loadavg").read().split()[0]), flush=True)


def rusage_run(argv, timeout):
    """One run: CPU seconds (user+sys, getrusage), return code and output."""
    import resource
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=timeout, env=FLOOR_ENV)
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dict(cpu=(a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime),
                rc=p.returncode, out=p.stdout.decode(errors="replace"))


# (the launchers drop NODE_EXTRA_CA_CERTS themselves; the bare Node too)
FLOOR_ENV = {k: v for k, v in os.environ.items() if k != "NODE_EXTRA_CA_CERTS"}


def shebang_flags(path):
    with open(path) as f:
        first = f.readline().split()
    return [a for a in first if a.startswith("--")]


def cmd_floor(args):
    ganeti = {"hbal": "hbal", "hail": "/usr/lib/ganeti/iallocators/hail",
              "hspace": "hspace"}
    envk = {"hbal": "HBAL_CMD", "hail": "HAIL_CMD", "hspace": "HSPACE_CMD"}
    for c in cases():
        if args.only and not re.search(args.only, c["id"]):
            continue
        ours = os.path.join(args.ours, c["tool"] + ".cjs")
        argvs = {}
        for side, cmd in (("ganeti", ganeti[c["tool"]]), ("ours", ours)):
            os.environ[envk[c["tool"]]] = cmd
            argvs[side] = bench.argv_for(c)
        argvs["node"] = ["node"] + shebang_flags(ours) + ["-e", "0"]
        argvs["version"] = [ours, "--version"]
        cpu = {k: [] for k in argvs}
        ratios = []
        last = {}
        for k in range(args.n + 1):
            for side in ("ganeti", "ours", "node", "version"):
                last[side] = rusage_run(argvs[side], args.timeout)
            if k == 0:
                continue  # warm-up round
            for side in argvs:
                cpu[side].append(last[side]["cpu"])
            ratios.append(last["ganeti"]["cpu"] / max(last["ours"]["cpu"], 1e-6))
        parse = bench.PARSERS[c["tool"]]
        same = bench.same_decision(
            dict(c, rc=last["ganeti"]["rc"], result=parse(last["ganeti"]["out"])),
            dict(c, rc=last["ours"]["rc"], result=parse(last["ours"]["out"]))) \
            and last["ganeti"]["rc"] == last["ours"]["rc"]
        m = {k: statistics.median(v) * 1000 for k, v in cpu.items()}
        print("%-40s ganeti %8.1f ms  ours %6.1f ms  ratio %6.1fx (%.1f-%.1f)  "
              "node -e 0 %5.1f  --version %5.1f  ours above --version %6.1f  "
              "ganeti/100 %6.1f  same %s  load %s" % (
                  c["id"], m["ganeti"], m["ours"], statistics.median(ratios),
                  min(ratios), max(ratios), m["node"], m["version"],
                  m["ours"] - m["version"], m["ganeti"] / 100,
                  "yes" if same else "NO",
                  open("/proc/loadavg").read().split()[0]), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--force", action="store_true")
    g.add_argument("--json", choices=["compact", "ganeti"], default="compact",
                   help="form of the hail requests' JSON (ganeti: as "
                   "Ganeti's serializer writes it)")
    sub.add_parser("list")
    r = sub.add_parser("run")
    r.add_argument("--label", default="ganeti")
    r.add_argument("--out", required=True)
    r.add_argument("--only")
    r.add_argument("--reps", type=int, default=3)
    r.add_argument("--timeout", type=float, default=1800)
    r.add_argument("--append", action="store_true")
    pr = sub.add_parser("pairs")
    pr.add_argument("--ours", required=True)
    pr.add_argument("--only")
    pr.add_argument("--n", type=int, default=3)
    pr.add_argument("--timeout", type=float, default=900)
    fl = sub.add_parser("floor")
    fl.add_argument("--ours", required=True)
    fl.add_argument("--only")
    fl.add_argument("--n", type=int, default=5)
    fl.add_argument("--timeout", type=float, default=900)
    c = sub.add_parser("compare")
    c.add_argument("theirs")
    c.add_argument("ours")
    args = ap.parse_args()
    {"gen": cmd_gen, "list": cmd_list, "run": cmd_run,
     "compare": cmd_compare, "pairs": cmd_pairs,
     "floor": cmd_floor}[args.cmd](args)


if __name__ == "__main__":
    main()
