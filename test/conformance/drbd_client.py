#!/usr/bin/python3
"""Replicated (drbd) instances driven by Ganeti's own Python RAPI client.

ganeti.rapi.client of Ganeti 3.0.2 (/usr/bin/python3) against a running
three-node ganeti-ts cluster with the fake hypervisor (no guest; the
replication engine still keeps real replicas on both nodes): create with
pnode:snode and with an iallocator, migrate, fail over, replace disks
(to a new node, through an iallocator, on the secondary, on the primary), as a Ganeti user
would. Prints one JSON object per check on stdout:
  {"group": ..., "check": ..., "ok": true|false, "detail": ...}
and, last, {"keep": NAME, "pnode": ..., "snode": ...} for the instance it
leaves for the driver (drbd-client.int.test.ts) to look at on the nodes.

Usage: drbd_client.py --host H --port P --user U --password PW
"""

import argparse
import json
import sys
import time
import traceback

from ganeti.rapi import client as rapi

FINAL = ("success", "error", "canceled")
GROUP = ["?"]
CL = [None]


def check(name, ok, detail=None):
  rec = {"group": GROUP[0], "check": name, "ok": bool(ok)}
  if detail is not None:
    rec["detail"] = detail
  sys.stdout.write(json.dumps(rec, default=repr) + "\n")
  sys.stdout.flush()
  return bool(ok)


def eq(name, ours, expected):
  return check(name, ours == expected, None if ours == expected else {"ours": ours, "expected": expected})


def wait_job(jid, timeout=600):
  deadline = time.time() + timeout
  prev, serial = None, None
  while time.time() < deadline:
    r = CL[0].WaitForJobChange(jid, ["status"], prev, serial)
    if r is None:
      continue
    for entry in r.get("log_entries") or []:
      serial = max(serial or 0, entry[0])
    if r["job_info"][0] in FINAL:
      break
    prev = r["job_info"]
  return CL[0].GetJobStatus(jid)


def ok_job(name, jid):
  job = wait_job(jid)
  check(name, job["status"] == "success",
        None if job["status"] == "success" else {"status": job["status"], "opresult": job.get("opresult")})
  return job


def nodes_of(name):
  i = CL[0].GetInstance(name)
  return i["pnode"], i["snodes"]


def disk_status(name):
  """Live instance info: the first disk's pstatus and sstatus tuples."""
  job = ok_job("GetInstanceInfo %s" % name, CL[0].GetInstanceInfo(name, static=False))
  info = job["opresult"][0][name]
  return info["disks"][0]


def wait_in_sync(name, timeout=300):
  """The mirror in sync: neither side degraded nor resyncing (pstatus[3] is the sync percent)."""
  deadline = time.time() + timeout
  d = None
  while time.time() < deadline:
    job = wait_job(CL[0].GetInstanceInfo(name, static=False))
    if job["status"] == "success":
      d = job["opresult"][0][name]["disks"][0]
      p, s = d.get("pstatus"), d.get("sstatus")
      if p and s and p[5] is False and s[5] is False and p[3] is None:
        return check("%s: mirror in sync" % name, True)
    time.sleep(1)
  return check("%s: mirror in sync" % name, False, d)


def create(name, **kw):
  args = dict(os="noop", name_check=False, ip_check=False, beparams={"memory": 128, "vcpus": 1})
  args.update(kw)
  return CL[0].CreateInstance("create", name, "drbd", [{"size": 1024}], [{}], **args)


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--host", required=True)
  ap.add_argument("--port", type=int, required=True)
  ap.add_argument("--user", required=True)
  ap.add_argument("--password", required=True)
  a = ap.parse_args()
  cl = rapi.GanetiRapiClient(a.host, port=a.port, username=a.user, password=a.password)
  CL[0] = cl
  master = cl.GetInfo()["master"]
  nodes = sorted(cl.GetNodes())
  n1, n2, n3 = [master] + [n for n in nodes if n != master]
  one = "drbd1.example.com"
  two = "drbd2.example.com"

  def g_create():
    ok_job("ModifyCluster vg_name", cl.ModifyCluster(vg_name="xenvg"))
    ok_job("CreateInstance drbd pnode:snode", create(one, pnode=n1, snode=n2))
    i = cl.GetInstance(one)
    eq("disk_template", i["disk_template"], "drbd")
    eq("pnode", i["pnode"], n1)
    eq("snodes", i["snodes"], [n2])
    eq("disk.sizes", i["disk.sizes"], [1024])
    eq("status", i["status"], "running")
    wait_in_sync(one)
    d = disk_status(one)
    eq("dev_type", d["dev_type"], "drbd")
    eq("children", [c["dev_type"] for c in d.get("children") or []], ["plain", "plain"])

  def g_iallocator():
    ok_job("CreateInstance drbd iallocator=hail", create(two, iallocator="hail"))
    p, s = nodes_of(two)
    check("two distinct nodes", len(s) == 1 and p != s[0] and p in nodes and s[0] in nodes, [p, s])
    wait_in_sync(two)

  def g_migrate():
    p0, s0 = nodes_of(one)
    ok_job("MigrateInstance drbd", cl.MigrateInstance(one, mode="live"))
    p, s = nodes_of(one)
    eq("roles swapped", [p, s], [s0[0], [p0]])
    eq("still running", cl.GetInstance(one)["status"], "running")
    wait_in_sync(one)

  def g_failover():
    p0, s0 = nodes_of(one)
    ok_job("FailoverInstance drbd", cl.FailoverInstance(one))
    p, s = nodes_of(one)
    eq("roles swapped", [p, s], [s0[0], [p0]])
    eq("still running", cl.GetInstance(one)["status"], "running")
    wait_in_sync(one)

  def g_replace():
    p0, s0 = nodes_of(one)
    other = [n for n in (n1, n2, n3) if n not in (p0, s0[0])][0]
    ok_job("ReplaceInstanceDisks replace_new_secondary", cl.ReplaceInstanceDisks(one, mode="replace_new_secondary",
                                                                                  remote_node=other))
    eq("new secondary", list(nodes_of(one)), [p0, [other]])
    wait_in_sync(one)
    ok_job("ReplaceInstanceDisks iallocator", cl.ReplaceInstanceDisks(one, mode="replace_new_secondary",
                                                                       iallocator="hail"))
    p, s = nodes_of(one)
    check("iallocator picked another secondary", p == p0 and len(s) == 1 and s[0] not in (p0, other), [p, s])
    wait_in_sync(one)

  def g_replace_secondary():
    p0, s0 = nodes_of(one)
    ok_job("ReplaceInstanceDisks replace_on_secondary", cl.ReplaceInstanceDisks(one, mode="replace_on_secondary"))
    eq("same nodes", list(nodes_of(one)), [p0, s0])
    wait_in_sync(one)

  def g_replace_primary():
    p0, s0 = nodes_of(one)
    vols0 = [c["logical_id"] for c in disk_status(one).get("children") or []]
    ok_job("ReplaceInstanceDisks replace_on_primary", cl.ReplaceInstanceDisks(one, mode="replace_on_primary"))
    eq("same nodes", list(nodes_of(one)), [p0, s0])
    eq("still running", cl.GetInstance(one)["status"], "running")
    wait_in_sync(one)
    eq("volume names kept", [c["logical_id"] for c in disk_status(one).get("children") or []], vols0)
    ok_job("RemoveInstance drbd", cl.DeleteInstance(one))
    check("removed", one not in cl.GetInstances())

  for name, fn in (("create", g_create), ("iallocator", g_iallocator), ("migrate", g_migrate),
                   ("failover", g_failover), ("replace-disks", g_replace),
                   ("replace-disks-on-secondary", g_replace_secondary),
                   ("replace-disks-on-primary", g_replace_primary)):
    GROUP[0] = name
    check("group started", True)
    try:
      fn()
    except Exception as err:  # the failure itself is the report
      check("group ran to the end", False, "%s: %s\n%s" % (type(err).__name__, err, traceback.format_exc()[-1500:]))
  if one in cl.GetInstances():
    wait_job(cl.DeleteInstance(one))
  p, s = nodes_of(two) if two in cl.GetInstances() else (None, [None])
  volume = None
  if p:
    job = wait_job(cl.GetInstanceInfo(two, static=True))
    if job["status"] == "success":
      volume = job["opresult"][0][two]["disks"][0]["children"][0]["logical_id"][1]
  sys.stdout.write(json.dumps({"keep": two, "pnode": p, "snode": s[0], "volume": volume}) + "\n")


if __name__ == "__main__":
  main()
