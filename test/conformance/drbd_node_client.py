#!/usr/bin/python3
"""Node-level operations on replicated (drbd) instances through Ganeti's
own Python RAPI client.

ganeti.rapi.client of Ganeti 3.0.2 (/usr/bin/python3) against a running
three-node ganeti-ts cluster with the fake hypervisor (the replication
engine keeps real replicas on both nodes of every instance): node evacuate
(secondaries to a given node and through hail, primaries through hail,
mode "all" refused), node migrate, group assign splitting the instances
(refused without force), and conversion to drbd with the new secondary
chosen by an iallocator. After every move the mirrors are checked in sync.
Prints one JSON object per check on stdout:
  {"group": ..., "check": ..., "ok": true|false, "detail": ...}

Usage: drbd_node_client.py --host H --port P --user U --password PW
"""

import re

from drbd_rapi_common import check, connect, create, eq, failed_job, job_log, nodes_of, ok_job, run_groups, wait_in_sync, wait_job
A1 = "a1.example.com"
A2 = "a2.example.com"
B1 = "b1.example.com"


def child_jobs(name, job):
  """Wait for the jobs a node-evacuate/migrate job submitted; all must succeed."""
  result = job["opresult"][0] if job.get("opresult") else None
  subs = result.get("jobs") if isinstance(result, dict) else None
  if not check("%s: submitted jobs" % name, isinstance(subs, list) and all(ok for ok, _ in subs), result):
    return []
  jobs = []
  for _, jid in subs:
    jobs.append(ok_job("%s: job %s" % (name, jid), jid))
  return jobs


def main():
  cl, (n1, n2, n3) = connect()

  def g_setup():
    ok_job("ModifyCluster vg_name", cl.ModifyCluster(vg_name="xenvg"))
    ok_job("CreateInstance %s" % A1, create(A1, "drbd", pnode=n1, snode=n2))
    ok_job("CreateInstance %s (stopped)" % A2, create(A2, "drbd", pnode=n1, snode=n2, start=False))
    for i in (A1, A2):
      eq("%s nodes" % i, nodes_of(i), [n1, [n2]])
      wait_in_sync(i)

  def g_evac_remote():
    # Without an iallocator only secondaries move, and never to an instance's primary.
    failed_job("EvacuateNode primary-only remote_node refused",
               cl.EvacuateNode(n1, remote_node=n3, mode="primary-only"),
               "Without the use of an iallocator only secondary instances can be evacuated", "wrong_input")
    failed_job("EvacuateNode to an instance's primary refused",
               cl.EvacuateNode(n2, remote_node=n1, mode="secondary-only"),
               "Node %s is the primary node of instance a[12].example.com, cannot use it as secondary" % re.escape(n1),
               "wrong_input")
    job = ok_job("EvacuateNode secondary-only remote_node", cl.EvacuateNode(n2, remote_node=n3, mode="secondary-only"))
    check("log names the instances",
          " - INFO: Evacuating instances from node '%s': %s, %s" % (n2, A1, A2) in job_log(job), job_log(job))
    for sub in child_jobs("evacuate", job):
      op = sub["ops"][0]
      eq("replace-disks opcode", [op["OP_ID"], op["mode"], op["remote_node"]],
         ["OP_INSTANCE_REPLACE_DISKS", "replace_new_secondary", n3])
    for i in (A1, A2):
      eq("%s new secondary" % i, nodes_of(i), [n1, [n3]])
      wait_in_sync(i)
    eq("%s still running" % A1, cl.GetInstance(A1)["status"], "running")
    eq("nothing left on the evacuated node", cl.GetNode(n2)["sinst_cnt"], 0)

  def g_evac_hail():
    job = ok_job("EvacuateNode secondary-only iallocator=hail",
                 cl.EvacuateNode(n3, iallocator="hail", mode="secondary-only"))
    log = job_log(job)
    check("log: instances to be moved", any(
      l.startswith(" - INFO: Instances to be moved: ") and "%s (to %s, %s)" % (A1, n1, n2) in l for l in log), log)
    child_jobs("evacuate hail", job)
    for i in (A1, A2):
      eq("%s secondary chosen by hail" % i, nodes_of(i), [n1, [n2]])
      wait_in_sync(i)

  def g_evac_primary():
    failed_job("EvacuateNode mode all refused", cl.EvacuateNode(n1, iallocator="hail", mode="all"),
               "Due to an issue with the iallocator interface it is not possible to evacuate all instances at once;"
               " specify explicitly whether to evacuate primary or secondary instances", "wrong_input")
    job = ok_job("EvacuateNode primary-only iallocator=hail",
                 cl.EvacuateNode(n1, iallocator="hail", mode="primary-only"))
    subs = child_jobs("evacuate primaries", job)
    eq("one migrate job per instance", sorted((s["ops"][0]["OP_ID"], s["ops"][0]["instance_name"]) for s in subs),
       [("OP_INSTANCE_MIGRATE", A1), ("OP_INSTANCE_MIGRATE", A2)])
    for i in (A1, A2):
      eq("%s roles swapped" % i, nodes_of(i), [n2, [n1]])
      wait_in_sync(i)
    eq("%s still running" % A1, cl.GetInstance(A1)["status"], "running")
    eq("%s still stopped" % A2, cl.GetInstance(A2)["status"], "ADMIN_down")

  def g_node_migrate():
    job = ok_job("MigrateNode", cl.MigrateNode(n2))
    result = job["opresult"][0]
    jobs = [wait_job(jid) for _, jid in result["jobs"]]
    by_name = dict((j["ops"][0]["instance_name"], j) for j in jobs)
    eq("one migrate job per primary", sorted(by_name), [A1, A2])
    eq("the running instance migrated", by_name[A1]["status"], "success")
    # Ganeti's node migrate does not fall back to failover: the stopped instance's migration is refused.
    res = by_name[A2].get("opresult") or [None]
    check("the stopped instance is refused", by_name[A2]["status"] == "error" and res[0][0] == "OpPrereqError" and
          res[0][1][0].startswith("Can't migrate, please use failover: "), res)
    eq("%s roles swapped back" % A1, nodes_of(A1), [n1, [n2]])
    wait_in_sync(A1)
    ok_job("FailoverInstance %s" % A2, cl.FailoverInstance(A2))
    eq("%s roles swapped back" % A2, nodes_of(A2), [n1, [n2]])
    wait_in_sync(A2)
    eq("%s still running" % A1, cl.GetInstance(A1)["status"], "running")
    job = ok_job("MigrateNode of a node without primaries", cl.MigrateNode(n3))
    eq("no jobs", job["opresult"][0], {"jobs": []})

  def g_group_assign():
    ok_job("AddGroup g2", cl.CreateGroup("g2"))
    failed = wait_job(cl.AssignGroupNodes("g2", [n2]))
    res = (failed.get("opresult") or [None])[0]
    eq("AssignGroupNodes without force refused", [failed["status"], res],
       ["error", ["OpExecError",
                  ["The following instances get split by this change and --force was not given: %s, %s" % (A1, A2)]]])
    eq("node stayed in its group", n2 in cl.GetGroup("default")["node_list"], True)
    job = ok_job("AssignGroupNodes force", cl.AssignGroupNodes("g2", [n2], force=True))
    check("log warns of the split",
          " - WARNING: This operation will split the following instances: %s, %s" % (A1, A2) in job_log(job),
          job_log(job))
    eq("node moved", cl.GetGroup("g2")["node_list"], [n2])
    eq("%s keeps its nodes" % A1, nodes_of(A1), [n1, [n2]])
    wait_in_sync(A1)
    # Back: nothing is split any more, no force needed.
    ok_job("AssignGroupNodes back", cl.AssignGroupNodes("default", [n2]))
    eq("node back", cl.GetGroup("g2")["node_list"], [])
    ok_job("DeleteGroup g2", cl.DeleteGroup("g2"))

  def g_convert():
    ok_job("CreateInstance %s plain" % B1, create(B1, "plain", pnode=n3, start=False))
    job = ok_job("ModifyInstance disk_template=drbd iallocator=hail",
                 cl.ModifyInstance(B1, disk_template="drbd", iallocator="hail"))
    p, s = nodes_of(B1)
    check("hail chose a secondary", p == n3 and len(s) == 1 and s[0] in (n1, n2), [p, s])
    log = job_log(job)
    check("log: iallocator", "Using hail to choose new secondary" in log and
          ("hail choose %s as new secondary" % (s[0] if s else "?")) in log, log)
    eq("disk_template", cl.GetInstance(B1)["disk_template"], "drbd")
    wait_in_sync(B1)
    ok_job("ModifyInstance disk_template=plain", cl.ModifyInstance(B1, disk_template="plain"))
    eq("plain again", nodes_of(B1), [n3, []])
    # Neither node nor iallocator: the cluster's default iallocator chooses.
    job = ok_job("ModifyInstance disk_template=drbd (default iallocator)", cl.ModifyInstance(B1, disk_template="drbd"))
    p, s = nodes_of(B1)
    check("default iallocator chose a secondary", p == n3 and len(s) == 1 and s[0] != n3, [p, s])
    check("log: default iallocator", "Using hail to choose new secondary" in job_log(job), job_log(job))
    wait_in_sync(B1)

  def g_cleanup():
    for i in (A1, A2, B1):
      ok_job("RemoveInstance %s" % i, cl.DeleteInstance(i))

  run_groups((("setup", g_setup), ("evacuate-secondary-remote", g_evac_remote),
                   ("evacuate-secondary-hail", g_evac_hail), ("evacuate-primary-hail", g_evac_primary),
                   ("node-migrate", g_node_migrate), ("group-assign", g_group_assign),
                   ("convert-iallocator", g_convert), ("cleanup", g_cleanup)))


if __name__ == "__main__":
  main()
