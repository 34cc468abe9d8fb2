"""What the drbd conformance scripts share: their report format, job
following and the mirror checks, on Ganeti's own Python RAPI client
(ganeti.rapi.client of Ganeti 3.0.2).

Each check is printed as one JSON object on stdout:
  {"group": ..., "check": ..., "ok": true|false, "detail": ...}
"""

import argparse
import json
import re
import sys
import time
import traceback

from ganeti.rapi import client as rapi
from rapi_jobs import follow_job

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
  return follow_job(CL[0], jid, timeout)


def job_log(job):
  """The job's log messages, as gnt-job info shows them."""
  return [entry[3] for op in job.get("oplog") or [] for entry in op]


def ok_job(name, jid):
  job = wait_job(jid)
  check(name, job["status"] == "success",
        None if job["status"] == "success" else {"status": job["status"], "opresult": job.get("opresult")})
  return job


def failed_job(name, jid, message, ecode):
  """A job that must fail with Ganeti's error class, message and error code."""
  job = wait_job(jid)
  res = (job.get("opresult") or [None])[0]
  ok = job["status"] == "error" and isinstance(res, list) and len(res) == 2 and \
      res[0] == "OpPrereqError" and re.fullmatch(message, res[1][0]) is not None and res[1][1] == ecode
  check(name, ok, None if ok else {"status": job["status"], "opresult": job.get("opresult"), "expected": message})
  return job


def nodes_of(name):
  """[primary, [secondaries]]."""
  i = CL[0].GetInstance(name)
  return [i["pnode"], i["snodes"]]


def disk_status(name):
  """Live instance info: the first disk's, with its pstatus and sstatus tuples."""
  job = ok_job("GetInstanceInfo %s" % name, CL[0].GetInstanceInfo(name, static=False))
  return job["opresult"][0][name]["disks"][0]


def wait_in_sync(name, timeout=300):
  """The mirror in sync: neither side degraded nor resyncing (pstatus[3] is the sync percent).

  A stopped instance's disks are not assembled: they are activated for the
  look and deactivated again.
  """
  if CL[0].GetInstance(name)["status"] != "running":
    ok_job("%s: ActivateInstanceDisks" % name, CL[0].ActivateInstanceDisks(name))
    try:
      return _wait_in_sync(name, timeout)
    finally:
      ok_job("%s: DeactivateInstanceDisks" % name, CL[0].DeactivateInstanceDisks(name))
  return _wait_in_sync(name, timeout)


def _wait_in_sync(name, timeout):
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


def create(name, template="drbd", **kw):
  args = dict(os="noop", name_check=False, ip_check=False, beparams={"memory": 128, "vcpus": 1})
  args.update(kw)
  return CL[0].CreateInstance("create", name, template, [{"size": 1024}], [{}], **args)


def connect():
  """The client from --host/--port/--user/--password, and the three nodes, the master first."""
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
  return cl, [master] + [n for n in nodes if n != master]


def run_groups(groups):
  """Each (name, fn) in turn; an exception ends its group with a failed check, not the run."""
  for name, fn in groups:
    GROUP[0] = name
    check("group started", True)
    try:
      fn()
    except Exception as err:  # the failure itself is the report
      check("group ran to the end", False, "%s: %s\n%s" % (type(err).__name__, err, traceback.format_exc()[-1500:]))
