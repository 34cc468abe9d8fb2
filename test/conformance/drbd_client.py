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

import json
import sys

from drbd_rapi_common import check, connect, create, disk_status, eq, nodes_of, ok_job, run_groups, wait_in_sync, wait_job


def main():
  cl, nodes = connect()
  n1, n2, n3 = nodes
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

  run_groups((("create", g_create), ("iallocator", g_iallocator), ("migrate", g_migrate),
                   ("failover", g_failover), ("replace-disks", g_replace),
                   ("replace-disks-on-secondary", g_replace_secondary),
                   ("replace-disks-on-primary", g_replace_primary)))
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
