#!/usr/bin/env python3
"""Tiny htools requests against Node's own start-up, in the same run.

Issue #19's bar: a tiny request takes at most 1.5x the wall time of
`node -e 0` measured in the same run.  Each case runs our shipped executable
(server/dist/htools/<tool>.cjs, through its shebang, as installed) and
`node -e 0` in turn, A B A B ..., one warm-up pair then N counted pairs, and
prints the medians of each side's wall and CPU time (user+sys, from wait4)
and the median of the pairwise ratios (the figure to quote on a shared
machine: both sides of a pair see the same load).

`node -e 0` runs twice per pair: once without NODE_EXTRA_CA_CERTS (the
bar the tools themselves start at: their shebang drops it, since loading a
CA bundle costs every Node start tens of milliseconds) and once with the
environment as given (what `node -e 0` costs the caller here); with
--no-env-node only the first.

  bench/htools/tiny.py [--dist server/dist/htools] [--n 15] [--only REGEX]
                       [--corpus bench/htools/corpus] [--no-env-node]

Needs the r30 corpus (racked.py gen, or gen.py as racked.py runs it) and
Ganeti's testsuite data (scripts/ensure-ganeti-testsuite.sh).  Also checks
that each command exits 0.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def cases(corpus, ts):
    r30 = lambda req: os.path.join(corpus, "r30.req-%s.json" % req)  # noqa: E731
    t = lambda f: os.path.join(ts, f)  # noqa: E731
    return [
        ("hail r30 relocate", "hail", [r30("relocate")]),
        ("hail r30 node-evac", "hail", [r30("node-evac")]),
        ("hail r30 alloc-plain (capacity checks)", "hail", [r30("alloc-plain")]),
        ("hail r30 alloc-drbd (capacity checks)", "hail", [r30("alloc-drbd")]),
        ("hail r30 multi-alloc (capacity checks)", "hail", [r30("multi-alloc")]),
        ("hail testsuite alloc-drbd", "hail", [t("hail-alloc-drbd.json")]),
        ("hail testsuite reloc-drbd", "hail", [t("hail-reloc-drbd.json")]),
        ("hail testsuite node-evac", "hail", [t("hail-node-evac.json")]),
        ("hail testsuite multi-alloc", "hail", [t("hail-multialloc-dedicated.json")]),
        ("hbal testsuite common-suffix", "hbal", ["-t", t("common-suffix.data")]),
        ("hbal testsuite excl-tags", "hbal", ["-t", t("hbal-excl-tags.data")]),
        ("hspace testsuite groups-one", "hspace", ["-t", t("hspace-groups-one.data")]),
        ("hspace testsuite tiered", "hspace",
         ["--machine-readable", "-t", t("hspace-tiered.data"), "--no-capacity-checks"]),
        ("hinfo testsuite common-suffix", "hinfo", ["-t", t("common-suffix.data")]),
        ("hcheck testsuite common-suffix", "hcheck", ["-t", t("common-suffix.data")]),
    ]


def run(argv, env):
    """One run: (wall s, cpu s, exit status); output thrown away."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    return wall, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dist", default=os.path.join(REPO, "server/dist/htools"))
    ap.add_argument("--corpus", default=os.environ.get("CORPUS", os.path.join(HERE, "corpus")))
    ap.add_argument("--n", type=int, default=15)
    ap.add_argument("--only")
    ap.add_argument("--no-env-node", action="store_true")
    a = ap.parse_args()
    ts = subprocess.run([os.path.join(REPO, "scripts/ensure-ganeti-testsuite.sh")],
                        check=True, capture_output=True, text=True).stdout.strip()
    node = subprocess.run(["sh", "-c", "command -v node"], check=True,
                          capture_output=True, text=True).stdout.strip()
    env = dict(os.environ)
    bare = {k: v for k, v in env.items() if k != "NODE_EXTRA_CA_CERTS"}
    sides = [("node", [node, "-e", "0"], bare)]
    if not a.no_env_node and "NODE_EXTRA_CA_CERTS" in env:
        sides.append(("node-env", [node, "-e", "0"], env))
    print("load %s; %s; %d pairs per case after one warm-up pair; medians"
          % (open("/proc/loadavg").read().split()[0],
             subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip(), a.n))
    hdr = "%-40s %8s %8s %8s %8s %10s %10s" % ("case", "ours ms", "node ms", "ours cpu", "node cpu",
                                               "wall ratio", "cpu ratio")
    if len(sides) > 1:
        hdr += " %14s" % "÷ env node wall"
    print(hdr)
    worst = 0.0
    for name, tool, args in cases(a.corpus, ts):
        if a.only and not re.search(a.only, name):
            continue
        ours = [os.path.join(a.dist, tool + ".cjs")] + args
        res = {"ours": []}
        for s in sides:
            res[s[0]] = []
        for k in range(a.n + 1):
            r = run(ours, env)
            if r[2] != 0:
                sys.exit("%s: exit %d: %s" % (name, r[2], " ".join(ours)))
            got = {"ours": r}
            for sname, argv, senv in sides:
                got[sname] = run(argv, senv)
            if k > 0:
                for sname, v in got.items():
                    res[sname].append(v)
        med = lambda xs: statistics.median(xs)  # noqa: E731
        wr = med([o[0] / b[0] for o, b in zip(res["ours"], res["node"])])
        cr = med([o[1] / max(b[1], 1e-4) for o, b in zip(res["ours"], res["node"])])
        worst = max(worst, wr)
        line = "%-40s %8.1f %8.1f %8.1f %8.1f %10.2f %10.2f" % (
            name, 1000 * med([x[0] for x in res["ours"]]), 1000 * med([x[0] for x in res["node"]]),
            1000 * med([x[1] for x in res["ours"]]), 1000 * med([x[1] for x in res["node"]]), wr, cr)
        if len(sides) > 1:
            line += " %14.2f" % med([o[0] / b[0] for o, b in zip(res["ours"], res["node-env"])])
        print(line + "  (load %s)" % open("/proc/loadavg").read().split()[0], flush=True)
    print("largest wall ratio to node -e 0: %.2f" % worst)


if __name__ == "__main__":
    main()
