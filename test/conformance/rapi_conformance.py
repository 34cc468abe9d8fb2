#!/usr/bin/python3
"""Conformance of our RAPI with Ganeti's own Python RAPI client.

Drives a running ganeti-ts cluster through ganeti.rapi.client (the stock
client of Ganeti 3.0.2, run with /usr/bin/python3) and through raw HTTPS for
the bad-input matrix. Response shapes are compared with the oracle captures
of a real Ganeti 3.0.2 (key sets and JSON types, not values). Prints one JSON
object per check on stdout:
  {"group": ..., "check": ..., "ok": true|false, "detail": ...}
The vitest driver (rapi-conformance.int.test.ts) turns each group into a test.

Usage: rapi_conformance.py --host H --port P --user U --password PW
         --data-dir DIR --scenario one|three [--captures DIR] [--groups a,b]
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import sys
import time
import traceback

from ganeti.rapi import client as rapi
from rapi_jobs import FINAL, follow_job

DOMAIN = "example.com"


# ---------------------------------------------------------------- reporting

class Reporter:
  def __init__(self):
    self.group = "?"

  def check(self, name, ok, detail=None):
    rec = {"group": self.group, "check": name, "ok": bool(ok)}
    if detail is not None:
      rec["detail"] = detail if isinstance(detail, (str, int, float, bool, list, dict)) else repr(detail)
    sys.stdout.write(json.dumps(rec, default=repr) + "\n")
    sys.stdout.flush()
    return bool(ok)

  def eq(self, name, ours, expected):
    return self.check(name, ours == expected, None if ours == expected else {"ours": ours, "expected": expected})


R = Reporter()


# ---------------------------------------------------------------- shapes

def tname(v):
  if v is None:
    return "null"
  if isinstance(v, bool):
    return "bool"
  if isinstance(v, (int, float)):
    # JSON has one number type; Ganeti's floats (ctime) may serialize as ints here.
    return "number"
  if isinstance(v, str):
    return "str"
  if isinstance(v, list):
    return "list"
  if isinstance(v, dict):
    return "dict"
  return type(v).__name__


def shape_diff(ours, theirs, path="$", opaque=(), depth=4):
  """Differences in key sets and JSON types; values are not compared.

  `opaque` lists paths whose dict keys are data (e.g. names), not schema.
  """
  if ours is None or theirs is None:
    return []
  to, tt = tname(ours), tname(theirs)
  if to != tt:
    return ["%s: type %s, Ganeti has %s" % (path, to, tt)]
  out = []
  if depth <= 0:
    return out
  if isinstance(theirs, dict):
    if path in opaque:
      return out
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    if missing:
      out.append("%s: missing keys %s" % (path, missing))
    if extra:
      out.append("%s: extra keys %s" % (path, extra))
    for k in sorted(set(theirs) & set(ours)):
      out.extend(shape_diff(ours[k], theirs[k], "%s.%s" % (path, k), opaque, depth - 1))
  elif isinstance(theirs, list) and ours and theirs:
    out.extend(shape_diff(ours[0], theirs[0], path + "[0]", opaque, depth - 1))
  return out


class Captures:
  def __init__(self, folder):
    self.recs = []
    if folder and os.path.isdir(folder):
      for name in sorted(os.listdir(folder)):
        if re.match(r"^\d{3}-.*\.json$", name):
          with open(os.path.join(folder, name)) as f:
            self.recs.append(json.load(f))

  def find(self, label, path_re=None):
    """The last exchange with this label (and a path matching path_re)."""
    hits = [r for r in self.recs if r["label"] == label and (path_re is None or re.search(path_re, r["path"]))]
    return hits[-1] if hits else None

  def body(self, label, path_re=None):
    r = self.find(label, path_re)
    return None if r is None else r.get("response_body")

  def job(self, wait_label):
    """Final GET /2/jobs/ID of a 'job wait: ...' sequence."""
    return self.body(wait_label, r"^/2/jobs/\d+$")


CAP = None


def shape(name, ours, cap_body, opaque=()):
  if cap_body is None:
    return R.check(name + " (no capture)", ours is not None, "capture missing")
  d = shape_diff(ours, cap_body, opaque=opaque)
  return R.check(name, not d, d or None)


# ---------------------------------------------------------------- helpers

class Env:
  pass


E = Env()


def wait_job(jid, timeout=120):
  return follow_job(E.cl, jid, timeout)


def ok_job(name, jid, timeout=120):
  job = wait_job(jid, timeout)
  R.check(name, job["status"] == "success",
          None if job["status"] == "success" else {"status": job["status"], "opresult": job.get("opresult")})
  return job


def err_job(name, jid, cls, ecode=None, msg_re=None):
  """The job fails with Ganeti's error class (and ecode, message) in its first failed opcode."""
  job = wait_job(jid)
  res = None
  for r in job.get("opresult") or []:
    if isinstance(r, list) and len(r) == 2 and isinstance(r[0], str) and isinstance(r[1], list):
      res = r
      break
  good = job["status"] == "error" and res is not None and res[0] == cls
  if good and ecode is not None:
    good = len(res[1]) >= 2 and res[1][1] == ecode
  if good and msg_re is not None:
    good = bool(re.search(msg_re, str(res[1][0])))
  R.check(name, good, None if good else {"status": job["status"], "opresult": job.get("opresult"),
                                         "expected": [cls, ecode, msg_re]})
  return job


def attempt(name, fn):
  """Run fn; a raised exception becomes a failed check."""
  try:
    return fn()
  except Exception as err:  # the failure itself is the report
    R.check(name, False, "%s: %s" % (type(err).__name__, err))
    return None


def inst(short):
  return "%s.%s" % (short, DOMAIN)


def create(name, template, disks=None, start=True, pnode=None, **kw):
  args = dict(os="noop", name_check=False, ip_check=False, beparams={"memory": 128, "vcpus": 1}, start=start)
  if pnode:
    args["pnode"] = pnode
  args.update(kw)
  return E.cl.CreateInstance("create", name, template, disks or [], [{}], **args)


def control_call(method, args):
  """The master's local control socket (newline-delimited JSON)."""
  s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
  s.settimeout(60)
  s.connect(os.path.join(E.data_dir, "master.sock"))
  s.sendall((json.dumps({"method": method, "args": args}) + "\n").encode())
  buf = b""
  while b"\n" not in buf:
    chunk = s.recv(65536)
    if not chunk:
      break
    buf += chunk
  s.close()
  reply = json.loads(buf.split(b"\n")[0])
  if not reply.get("success"):
    raise RuntimeError("control call %s failed: %r" % (method, reply.get("error")))
  return reply["result"]


def raw(method, path, body=None, user="admin", password=None, headers=None, raw_body=None):
  """One HTTPS exchange without the client: (status, headers, parsed body or text)."""
  ctx = ssl.create_default_context()
  ctx.check_hostname = False
  ctx.verify_mode = ssl.CERT_NONE
  conn = http.client.HTTPSConnection(E.host, E.port, context=ctx, timeout=60)
  hdrs = {"Accept": "application/json", "Content-type": "application/json"}
  if user is not None:
    pw = E.password if (password is None and user == E.user) else password
    hdrs["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
  hdrs.update(headers or {})
  data = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
  conn.request(method, path, body=data if data is not None else "", headers=hdrs)
  resp = conn.getresponse()
  text = resp.read().decode("utf-8", "replace")
  conn.close()
  try:
    parsed = json.loads(text)
  except ValueError:
    parsed = text
  # Header names are case-insensitive: compare them in Ganeti's spelling.
  canon = {"content-type": "Content-Type", "connection": "Connection", "www-authenticate": "WWW-Authenticate",
           "server": "Server"}
  return resp.status, {canon.get(k.lower(), k): v for k, v in resp.getheaders()}, parsed


def same_error(name, got, label, status=None):
  """Compare an error exchange (status + body) with the capture of the same request."""
  st, _h, body = got
  cap = CAP.find(label)
  if cap is None:
    return R.check(name, status is None or st == status, {"status": st, "body": body, "note": "no capture"})
  want_body = cap.get("response_body", cap.get("response_body_raw"))
  good = st == cap["status"] and body == want_body
  return R.check(name, good, None if good else {"ours": [st, body], "ganeti": [cap["status"], want_body]})


# ---------------------------------------------------------------- groups

GROUPS = []


def group(name, scenarios=("one", "three")):
  def deco(fn):
    GROUPS.append((name, scenarios, fn))
    return fn
  return deco


@group("cluster")
def g_cluster():
  cl = E.cl
  R.eq("GetVersion", cl.GetVersion(), 2)
  info = cl.GetInfo()
  shape("GetInfo shape", info, CAP.body("GET /2/info"),
        opaque=("$.hvparams", "$.os_hvp", "$.osparams", "$.diskparams", "$.ndparams", "$.beparams",
                "$.nicparams", "$.ipolicy", "$.default_iallocator_params"))
  R.eq("GetInfo master", info["master"], E.master)
  R.eq("GetFeatures", sorted(cl.GetFeatures()), sorted(CAP.body("GET /2/features")))
  oses = cl.GetOperatingSystems()
  R.check("GetOperatingSystems has noop", isinstance(oses, list) and "noop" in oses, oses)

  R.eq("GetClusterTags empty", cl.GetClusterTags(), [])
  ok_job("AddClusterTags", cl.AddClusterTags(["env:conf", "team:ganeti"]))
  R.eq("GetClusterTags after add", sorted(cl.GetClusterTags()), ["env:conf", "team:ganeti"])
  ok_job("AddClusterTags dry_run", cl.AddClusterTags(["dry:run"], dry_run=True))
  R.check("dry-run tag not added", "dry:run" not in cl.GetClusterTags())
  ok_job("DeleteClusterTags", cl.DeleteClusterTags(["team:ganeti"]))
  R.eq("GetClusterTags after delete", cl.GetClusterTags(), ["env:conf"])
  R.check("GetInfo tags", info is not None and cl.GetInfo()["tags"] == ["env:conf"])
  err_job("DeleteClusterTags not set", cl.DeleteClusterTags(["never-set"]), "OpPrereqError", "unknown_entity")
  err_job("AddClusterTags invalid", cl.AddClusterTags(["bad tag"]), "TagError")

  before = cl.GetInfo()
  ok_job("ModifyCluster candidate_pool_size", cl.ModifyCluster(candidate_pool_size=7))
  R.eq("ModifyCluster applied", cl.GetInfo()["candidate_pool_size"], 7)
  ok_job("ModifyCluster restore", cl.ModifyCluster(candidate_pool_size=before["candidate_pool_size"]))
  ok_job("RedistributeConfig", cl.RedistributeConfig())


@group("instances-create")
def g_create():
  cl = E.cl
  # Explicit pnode: the other nodes of the 3-node cluster stay free for the migration checks.
  job = ok_job("CreateInstance diskless", create(inst("c-dl"), "diskless", pnode=E.master))
  R.eq("create opresult is the node list", job.get("opresult"), [[E.master]])
  shape("create job shape", job, CAP.job("job wait: create diskless"),
        opaque=("$.ops[0]",))
  ok_job("CreateInstance file", create(inst("c-file"), "file", disks=[{"size": 1024}], pnode=E.master))
  ok_job("CreateInstance sharedfile (start=False)",
         create(inst("c-shared"), "sharedfile", disks=[{"size": 1024}], start=False, pnode=E.master))
  job = ok_job("CreateInstance dry_run", create(inst("c-dry"), "diskless", dry_run=True))
  uuids = [n["uuid"] for n in cl.GetNodes(bulk=True)]
  res = job.get("opresult")
  R.check("dry-run opresult is node UUIDs", isinstance(res, list) and len(res) == 1 and
          isinstance(res[0], list) and all(u in uuids for u in res[0]), res)
  names = cl.GetInstances()
  R.check("dry-run created nothing", inst("c-dry") not in names, names)
  R.check("GetInstances lists names", all(inst(n) in names for n in ("c-dl", "c-file", "c-shared")), names)
  bulk = cl.GetInstances(bulk=True)
  shape("GetInstances(bulk) shape", bulk, CAP.body("GET /2/instances?bulk=1 (with instances)"),
        opaque=("$[0].beparams", "$[0].hvparams", "$[0].custom_hvparams", "$[0].custom_beparams"))
  one = cl.GetInstance(inst("c-dl"))
  shape("GetInstance shape", one, CAP.body("GET /2/instances/NAME (diskless)"),
        opaque=("$.hvparams", "$.custom_hvparams"))
  R.eq("diskless running", [one["status"], one["admin_state"], one["oper_state"]], ["running", "up", True])
  R.eq("beparams memory stored as minmem/maxmem",
       [one["beparams"]["minmem"], one["beparams"]["maxmem"]], [128, 128])
  f = cl.GetInstance(inst("c-file"))
  R.eq("file disk sizes", f["disk.sizes"], [1024])
  s = cl.GetInstance(inst("c-shared"))
  R.eq("sharedfile created stopped", [s["status"], s["admin_state"]], ["ADMIN_down", "down"])

  job = ok_job("GetInstanceInfo", cl.GetInstanceInfo(inst("c-file")))
  res = job.get("opresult") or [None]
  R.check("GetInstanceInfo result keyed by name", isinstance(res[0], dict) and inst("c-file") in res[0], res)
  capres = (CAP.job("job wait: instance info") or {}).get("opresult")
  if isinstance(res[0], dict) and capres:
    shape("GetInstanceInfo data shape", list(res[0].values())[0], list(capres[0].values())[0],
          opaque=("$.hv_instance", "$.hv_actual", "$.be_instance", "$.be_actual", "$.os_instance",
                  "$.os_actual", "$.hv_instance", "$.osparams_secret"))
  ok_job("GetInstanceInfo static", cl.GetInstanceInfo(inst("c-dl"), static=True))
  err_job("GetInstanceInfo unknown", cl.GetInstanceInfo(inst("nosuch")), "OpPrereqError", "unknown_entity")


@group("instances-power")
def g_power():
  cl = E.cl
  n = inst("c-dl")
  ok_job("ShutdownInstance", cl.ShutdownInstance(n))
  i = cl.GetInstance(n)
  R.eq("after shutdown", [i["status"], i["admin_state"], i["oper_state"]], ["ADMIN_down", "down", False])
  ok_job("ShutdownInstance again", cl.ShutdownInstance(n))
  ok_job("StartupInstance", cl.StartupInstance(n))
  R.eq("after startup", cl.GetInstance(n)["status"], "running")
  ok_job("RebootInstance soft", cl.RebootInstance(n, reboot_type="soft"))
  ok_job("RebootInstance hard", cl.RebootInstance(n, reboot_type="hard"))
  ok_job("StartupInstance dry_run", cl.StartupInstance(inst("c-shared"), dry_run=True))
  R.eq("dry-run startup changed nothing", cl.GetInstance(inst("c-shared"))["status"], "ADMIN_down")
  ok_job("ShutdownInstance no_remember", cl.ShutdownInstance(inst("c-file"), no_remember=True))
  i = cl.GetInstance(inst("c-file"))
  R.eq("no_remember shutdown keeps admin up", [i["status"], i["admin_state"]], ["ERROR_down", "up"])
  ok_job("StartupInstance after no_remember", cl.StartupInstance(inst("c-file")))
  R.eq("running again", cl.GetInstance(inst("c-file"))["status"], "running")
  con = cl.GetInstanceConsole(n)
  cap = CAP.body("GET /2/instances/NAME/console")
  if cap:
    cap = dict(cap, instance=n)
  R.eq("GetInstanceConsole", con, cap)
  err_job("StartupInstance unknown", cl.StartupInstance(inst("nosuch")), "OpPrereqError", "unknown_entity")


@group("instances-modify")
def g_modify():
  cl = E.cl
  n = inst("c-dl")
  job = ok_job("ModifyInstance beparams", cl.ModifyInstance(n, beparams={"memory": 256, "vcpus": 2}))
  # Ganeti reports the keys as given (captures job 21: {"memory": 192} → be/memory).
  R.eq("beparams change list", sorted(map(tuple, (job.get("opresult") or [[]])[0])),
       [("be/memory", 256), ("be/vcpus", 2)])
  job = ok_job("ModifyInstance maxmem/minmem", cl.ModifyInstance(n, beparams={"maxmem": 256, "minmem": 256}))
  R.eq("maxmem/minmem change list", (job.get("opresult") or [None])[0], [["be/maxmem", 256], ["be/minmem", 256]])
  i = cl.GetInstance(n)
  R.eq("beparams applied", [i["beparams"]["maxmem"], i["beparams"]["vcpus"]], [256, 2])
  job = ok_job("ModifyInstance nic add", cl.ModifyInstance(n, nics=[["add", {}]]))
  ch = (job.get("opresult") or [[]])[0]
  R.check("nic add change", len(ch) == 1 and ch[0][0] == "nic.1" and str(ch[0][1]).startswith("add:mac="), ch)
  R.eq("two nics", len(cl.GetInstance(n)["nic.macs"]), 2)
  job = ok_job("ModifyInstance nic remove", cl.ModifyInstance(n, nics=[["remove", 1, {}]]))
  R.eq("nic remove change", (job.get("opresult") or [None])[0], [["NIC/1", "remove"]])
  R.eq("one nic", len(cl.GetInstance(n)["nic.macs"]), 1)
  f = inst("c-file")
  ok_job("ModifyInstance disk add (file)", cl.ModifyInstance(f, disks=[["add", {"size": 1024}]]))
  R.eq("disk added", cl.GetInstance(f)["disk.sizes"], [1024, 1024])
  ok_job("GrowInstanceDisk", cl.GrowInstanceDisk(f, 0, 128))
  R.eq("disk grown", cl.GetInstance(f)["disk.sizes"], [1152, 1024])
  err_job("ModifyInstance no changes", cl.ModifyInstance(n), "OpPrereqError", "wrong_input", "No changes submitted")
  err_job("ModifyInstance bad beparam type", cl.ModifyInstance(n, beparams={"memory": "lots"}), "TypeEnforcementError")
  err_job("ModifyInstance global hvparam", cl.ModifyInstance(n, hvparams={"migration_mode": "live"}),
          "OpPrereqError", "wrong_input")


@group("instances-tags")
def g_itags():
  cl = E.cl
  n = inst("c-dl")
  R.eq("GetInstanceTags empty", cl.GetInstanceTags(n), [])
  ok_job("AddInstanceTags", cl.AddInstanceTags(n, ["env:conf", "role:test"]))
  R.eq("GetInstanceTags", sorted(cl.GetInstanceTags(n)), ["env:conf", "role:test"])
  ok_job("DeleteInstanceTags", cl.DeleteInstanceTags(n, ["role:test"]))
  R.eq("GetInstanceTags after delete", cl.GetInstanceTags(n), ["env:conf"])
  R.eq("tags in GetInstance", cl.GetInstance(n)["tags"], ["env:conf"])
  err_job("AddInstanceTags invalid", cl.AddInstanceTags(n, ["bad tag with spaces"]), "TagError")
  err_job("DeleteInstanceTags not set", cl.DeleteInstanceTags(n, ["never-set"]), "OpPrereqError", "unknown_entity")


@group("instances-ops")
def g_iops():
  cl = E.cl
  sh = inst("c-shared")
  job = ok_job("ReinstallInstance (stopped, os noop)", cl.ReinstallInstance(sh, os="noop", no_startup=True))
  R.check("reinstall is a reinstall opcode", any(op["OP_ID"] == "OP_INSTANCE_REINSTALL" for op in job["ops"]),
          [op["OP_ID"] for op in job["ops"]])
  job = wait_job(cl.ReinstallInstance(inst("c-dl"), os="noop"))
  R.eq("ReinstallInstance v1 = shutdown, reinstall, startup", [op["OP_ID"] for op in job["ops"]],
       ["OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REINSTALL", "OP_INSTANCE_STARTUP"])
  R.eq("reinstall of diskless fails like Ganeti", job.get("opresult"),
       [None, ["OpPrereqError", ["Instance '%s' has no disks" % inst("c-dl"), "wrong_input"]],
        ["OpExecError", ["Preceding opcode failed"]]])
  ok_job("StartupInstance after failed reinstall", cl.StartupInstance(inst("c-dl")))
  err_job("ReplaceInstanceDisks (not DRBD)", cl.ReplaceInstanceDisks(inst("c-file"), mode="replace_auto"),
          "OpPrereqError")
  ok_job("DeactivateInstanceDisks (stopped)", cl.DeactivateInstanceDisks(sh))
  ok_job("ActivateInstanceDisks", cl.ActivateInstanceDisks(sh))
  ok_job("DeactivateInstanceDisks again", cl.DeactivateInstanceDisks(sh))
  ok_job("PrepareExport local", cl.PrepareExport(inst("c-file"), "local"))
  job = wait_job(cl.ExportInstance(inst("c-file"), "local", E.nodes[-1], shutdown=False))
  R.check("ExportInstance local ends final with a Ganeti result", job["status"] in ("success", "error") and (
      job["status"] == "success" or (job["opresult"][0] or [None])[0] in ("OpPrereqError", "OpExecError")),
      {"status": job["status"], "opresult": job.get("opresult")})
  err_job("RenameInstance running", cl.RenameInstance(inst("c-dl"), inst("c-dl2"), ip_check=False, name_check=False),
          "OpPrereqError", "wrong_state", "cannot rename")
  ok_job("RenameInstance stopped", cl.RenameInstance(sh, inst("c-shared2"), ip_check=False, name_check=False))
  names = cl.GetInstances()
  R.check("renamed", inst("c-shared2") in names and sh not in names, names)
  ok_job("RenameInstance back", cl.RenameInstance(inst("c-shared2"), sh, ip_check=False, name_check=False))
  err_job("CreateInstance duplicate name", create(inst("c-dl"), "diskless"), "OpPrereqError", "already_exists",
          "already in the cluster")
  err_job("CreateInstance disabled template", create(inst("c-plain"), "plain", disks=[{"size": 1024}]),
          "OpPrereqError", None, "not enabled")
  err_job("CreateInstance unknown OS", create(inst("c-noos"), "diskless", os="nosuchos"), "OpExecError", None,
          "nosuchos")
  err_job("CreateInstance bad memory type", create(inst("c-mem"), "diskless", beparams={"memory": "lots"}),
          "TypeEnforcementError")


@group("instances-migrate-1node", scenarios=("one",))
def g_migrate1():
  cl = E.cl
  err_job("MigrateInstance on one node", cl.MigrateInstance(inst("c-dl")), "OpPrereqError",
          "insufficient_resources")
  err_job("FailoverInstance on one node", cl.FailoverInstance(inst("c-dl")), "OpPrereqError")
  # The node job only fans out; the per-instance child job fails (no target).
  job = ok_job("MigrateNode on one node", cl.MigrateNode(E.master))
  for j in ((job.get("opresult") or [{}])[0] or {}).get("jobs", []):
    err_job("MigrateNode child job fails", j[1], "OpPrereqError")


@group("instances-migrate-3node", scenarios=("three",))
def g_migrate3():
  cl = E.cl
  n1, n2, n3 = E.nodes
  ok_job("create diskless on node2", create(inst("m-dl"), "diskless", pnode=n2))
  ok_job("create sharedfile on node2", create(inst("m-sf"), "sharedfile", disks=[{"size": 1024}], pnode=n2))
  ok_job("create file on node1", create(inst("m-file"), "file", disks=[{"size": 1024}], pnode=n1))
  ok_job("MigrateInstance diskless (iallocator)", cl.MigrateInstance(inst("m-dl")))
  i = cl.GetInstance(inst("m-dl"))
  R.check("diskless moved and running", i["pnode"] != n2 and i["status"] == "running", [i["pnode"], i["status"]])
  ok_job("MigrateInstance sharedfile to node3", cl.MigrateInstance(inst("m-sf"), target_node=n3))
  i = cl.GetInstance(inst("m-sf"))
  R.eq("sharedfile on node3 running", [i["pnode"], i["status"]], [n3, "running"])
  ok_job("FailoverInstance sharedfile to node1", cl.FailoverInstance(inst("m-sf"), target_node=n1))
  i = cl.GetInstance(inst("m-sf"))
  R.eq("sharedfile failed over, running", [i["pnode"], i["status"]], [n1, "running"])
  err_job("MigrateInstance file", cl.MigrateInstance(inst("m-file")), "OpPrereqError", "wrong_state",
          "does not allow migrations")
  ok_job("ShutdownInstance for migrate", cl.ShutdownInstance(inst("m-sf")))
  err_job("MigrateInstance stopped", cl.MigrateInstance(inst("m-sf")), "OpPrereqError", "wrong_state",
          "please use failover")
  ok_job("FailoverInstance stopped sharedfile", cl.FailoverInstance(inst("m-sf"), target_node=n2))
  R.eq("stopped failover moves", cl.GetInstance(inst("m-sf"))["pnode"], n2)
  ok_job("StartupInstance on node2", cl.StartupInstance(inst("m-sf")))

  # Node migrate: result carries the follow-up jobs, which the client polls.
  job = ok_job("MigrateNode", cl.MigrateNode(n2))
  res = (job.get("opresult") or [None])[0]
  res = res if isinstance(res, dict) else None
  R.check("MigrateNode result {jobs: [[true, id]]}", isinstance(res, dict) and isinstance(res.get("jobs"), list) and
          all(isinstance(j, list) and j[0] is True and isinstance(j[1], int) for j in res["jobs"]), res)
  for j in (res or {}).get("jobs", []):
    ok_job("MigrateNode child job %s" % j[1], j[1])
  R.check("node2 has no primaries after MigrateNode", cl.GetNode(n2)["pinst_cnt"] == 0, cl.GetNode(n2)["pinst_list"])

  ok_job("create diskless on node3 for evacuation", create(inst("m-ev"), "diskless", pnode=n3))
  job = ok_job("EvacuateNode primary-only", cl.EvacuateNode(n3, mode="primary-only"))
  res = (job.get("opresult") or [None])[0]
  res = res if isinstance(res, dict) else None
  R.check("EvacuateNode result {jobs: [...]}", isinstance(res, dict) and isinstance(res.get("jobs"), list), res)
  for j in (res or {}).get("jobs", []):
    if j[0]:
      ok_job("EvacuateNode child job %s" % j[1], j[1])
  R.eq("node3 primaries moved", cl.GetNode(n3)["pinst_list"], [])


@group("kvm-instance", scenarios=("three",))
def g_kvm():
  # A real qemu guest (the test's tiny kernel + initramfs, TCG): create, start,
  # live-migrate, console, remove, with kvm enabled for the group's duration.
  cl = E.cl
  n1, n2 = E.nodes[0], E.nodes[1]
  R.check("kvm guest assets given", bool(E.kvm), E.kvm)
  ok_job("ModifyCluster enables kvm", cl.ModifyCluster(enabled_hypervisors=["fake", "kvm"]))
  try:
    hv = {"kvm_path": E.kvm["qemu"], "kernel_path": E.kvm["kernel"], "initrd_path": E.kvm["initrd"],
          "kernel_args": "quiet", "serial_speed": 115200}
    name = inst("k-sf")
    ok_job("CreateInstance kvm sharedfile", create(name, "sharedfile", disks=[{"size": 1024}], pnode=n1, hypervisor="kvm",
                                                   hvparams=hv, beparams={"memory": 128, "vcpus": 1}), timeout=300)
    i = cl.GetInstance(name)
    R.eq("kvm instance runs on node1", [i["pnode"], i["status"], i["oper_state"], i["hvparams"].get("kernel_path")],
         [n1, "running", True, E.kvm["kernel"]])
    job = ok_job("MigrateInstance kvm live to node2", cl.MigrateInstance(name, target_node=n2, mode="live"), timeout=300)
    log = [e[3] for op in (job.get("oplog") or []) for e in op]
    R.check("migration log has the downtime", any(str(m).startswith("* migration downtime") for m in log), log)
    i = cl.GetInstance(name)
    R.eq("kvm instance runs on node2", [i["pnode"], i["status"]], [n2, "running"])
    con = cl.GetInstanceConsole(name)
    R.eq("kvm console: ssh to node2 as root", [con.get("kind"), con.get("host"), con.get("user"), con.get("port")], ["ssh", n2, "root", 22])
    ok_job("DeleteInstance kvm", cl.DeleteInstance(name), timeout=300)
  finally:
    wait_job(cl.ModifyCluster(enabled_hypervisors=["fake"]))


@group("jobs")
def g_jobs():
  cl = E.cl
  ids = cl.GetJobs()
  R.check("GetJobs ints", ids and all(isinstance(i, int) for i in ids), ids[:5])
  bulk = cl.GetJobs(bulk=True)
  shape("GetJobs(bulk) shape", bulk, CAP.body("GET /2/jobs?bulk=1"), opaque=("$[0].ops[0]",))
  last = max(ids)
  st = cl.GetJobStatus(last)
  shape("GetJobStatus shape", st, CAP.job("job wait: create diskless"), opaque=("$.ops[0]", "$.opresult"))
  R.check("GetJobStatus final", st["status"] in FINAL, st["status"])
  w = cl.WaitForJobChange(last, ["status", "opresult"], None, None)
  shape("WaitForJobChange on final job", w, CAP.body("GET /2/jobs/ID/wait on finished job", r"/wait$"),
        opaque=("$.job_info",))
  jid = cl.AddClusterTags(["wait:completion"])
  R.check("WaitForJobCompletion", cl.WaitForJobCompletion(jid, period=0.1, retries=600) is True)
  ok_job("cleanup tag", cl.DeleteClusterTags(["wait:completion"]))
  res = cl.CancelJob(jid)
  R.check("CancelJob finished job", isinstance(res, list) and res[0] is False and
          re.match(r"^Job \d+ not found in queue$", str(res[1])) is not None, res)
  R.eq("GetJobStatus unknown id", cl.GetJobStatus(999999)["status"], None)

  # A job held back by a dependency is cancellable; a running one is not.
  a = control_call("SubmitJob", [[{"OP_ID": "OP_TEST_DELAY", "duration": 3, "on_master": True}]])
  b = control_call("SubmitJob", [[{"OP_ID": "OP_TEST_DELAY", "duration": 0.1, "on_master": False,
                                    "depends": [[a, ["success"]]]}]])
  res = cl.CancelJob(b)
  R.check("CancelJob waiting job", isinstance(res, list) and res[0] is True, res)
  job = wait_job(b)
  R.eq("cancelled job status", job["status"], "canceled")
  res = cl.CancelJob(a)
  R.check("CancelJob running job refused", isinstance(res, list) and res[0] is False, res)
  job = wait_job(a)
  R.eq("running job still succeeds", job["status"], "success")
  # log entries through WaitForJobChange while running
  c = control_call("SubmitJob", [[{"OP_ID": "OP_TEST_DELAY", "duration": 0.2, "on_master": False, "repeat": 3}]])
  serial, logs, prev = None, [], None
  for _ in range(100):
    r = cl.WaitForJobChange(c, ["status"], prev, serial)
    if r is None:
      continue
    logs.extend(r["log_entries"])
    for e in r["log_entries"]:
      serial = e[0]
    prev = r["job_info"]
    if prev[0] in FINAL:
      break
  R.check("WaitForJobChange streams log entries", len(logs) >= 3 and all(len(e) == 4 for e in logs), logs)


@group("nodes")
def g_nodes():
  cl = E.cl
  names = cl.GetNodes()
  R.eq("GetNodes", sorted(names), sorted(E.nodes))
  shape("GetNodes(bulk) shape", cl.GetNodes(bulk=True), CAP.body("GET /2/nodes?bulk=1"),
        opaque=("$[0].ndparams",))
  node = cl.GetNode(E.master)
  shape("GetNode shape", node, CAP.body("GET /2/nodes/NAME"), opaque=("$.ndparams",))
  R.eq("GetNode role letter", node["role"], "M")
  R.eq("GetNodeRole master", cl.GetNodeRole(E.master), "master")
  R.eq("GetNodeTags empty", cl.GetNodeTags(E.master), [])
  ok_job("AddNodeTags", cl.AddNodeTags(E.master, ["env:conf", "role:test"]))
  R.eq("GetNodeTags", sorted(cl.GetNodeTags(E.master)), ["env:conf", "role:test"])
  ok_job("DeleteNodeTags", cl.DeleteNodeTags(E.master, ["role:test"]))
  R.eq("GetNodeTags after delete", cl.GetNodeTags(E.master), ["env:conf"])

  job = ok_job("GetNodeStorageUnits file", cl.GetNodeStorageUnits(E.master, "file", "name,size,used,free,allocatable"))
  capres = (CAP.job("job wait: GET /2/nodes/NAME/storage?storage_type=file -> job") or {}).get("opresult")
  shape("storage result shape", job.get("opresult"), capres)
  err_job("ModifyNodeStorageUnits file", cl.ModifyNodeStorageUnits(E.master, "file", "/srv", allocatable=True),
          "OpPrereqError", None, "can not be modified")
  err_job("RepairNodeStorageUnits file", cl.RepairNodeStorageUnits(E.master, "file", "/srv"),
          "OpPrereqError", None, "can not be repaired")
  ok_job("ModifyNode master_capable (no-op)", cl.ModifyNode(E.master, master_capable=True))
  err_job("PowercycleNode master without force", cl.PowercycleNode(E.master), "OpPrereqError")
  err_job("SetNodeRole master drained", cl.SetNodeRole(E.master, "drained"), "OpPrereqError")


@group("nodes-3node", scenarios=("three",))
def g_nodes3():
  cl = E.cl
  n3 = E.nodes[2]
  R.eq("roles", sorted(cl.GetNodeRole(n) for n in E.nodes), ["master", "master-candidate", "master-candidate"])
  job = ok_job("SetNodeRole drained", cl.SetNodeRole(n3, "drained", auto_promote=True))
  R.eq("drain change list", (job.get("opresult") or [None])[0], [["master_candidate", "False"], ["drained", "True"]])
  R.eq("GetNodeRole drained", cl.GetNodeRole(n3), "drained")
  R.eq("GetNode role D", cl.GetNode(n3)["role"], "D")
  job = ok_job("SetNodeRole regular", cl.SetNodeRole(n3, "regular"))
  # Ganeti re-promotes at once (pool size 10 > 3 nodes): captures-3node 560.
  R.eq("regular change list", (job.get("opresult") or [None])[0], [["master_candidate", "True"], ["drained", "False"]])
  R.eq("GetNodeRole after regular", cl.GetNodeRole(n3), "master-candidate")
  ok_job("SetNodeRole master-candidate", cl.SetNodeRole(n3, "master-candidate"))
  R.eq("GetNodeRole candidate", cl.GetNodeRole(n3), "master-candidate")
  ok_job("PowercycleNode (fake hv)", cl.PowercycleNode(n3, force=True))
  ok_job("ModifyNode offline", cl.ModifyNode(n3, offline=True))
  R.eq("offline role", cl.GetNodeRole(n3), "offline")
  ok_job("ModifyNode online", cl.ModifyNode(n3, offline=False))
  ok_job("node works after online", create(inst("n3-after"), "diskless", pnode=n3))


@group("groups")
def g_groups():
  cl = E.cl
  R.eq("GetGroups", cl.GetGroups(), ["default"])
  shape("GetGroups(bulk) shape", cl.GetGroups(bulk=True), CAP.body("GET /2/groups?bulk=1"),
        opaque=("$[0].ndparams", "$[0].ipolicy", "$[0].diskparams"))
  shape("GetGroup shape", cl.GetGroup("default"), CAP.body("GET /2/groups/default"),
        opaque=("$.ndparams", "$.ipolicy", "$.diskparams"))
  ok_job("CreateGroup", cl.CreateGroup("confgrp", alloc_policy="preferred"))
  err_job("CreateGroup duplicate", cl.CreateGroup("confgrp"), "OpPrereqError", "already_exists")
  ok_job("CreateGroup dry_run", cl.CreateGroup("drygrp", dry_run=True))
  R.check("dry-run group absent", "drygrp" not in cl.GetGroups())
  job = ok_job("ModifyGroup alloc_policy", cl.ModifyGroup("confgrp", alloc_policy="last_resort"))
  R.eq("ModifyGroup result", job.get("opresult"), (CAP.job("job wait: modify group") or {}).get("opresult", [[]]))
  R.eq("alloc_policy applied", cl.GetGroup("confgrp")["alloc_policy"], "last_resort")
  job = ok_job("RenameGroup", cl.RenameGroup("confgrp", "confgrp2"))
  R.eq("RenameGroup result", job.get("opresult"), ["confgrp2"])
  R.eq("groups after rename", sorted(cl.GetGroups()), ["confgrp2", "default"])
  R.eq("GetGroupTags", cl.GetGroupTags("confgrp2"), [])
  ok_job("AddGroupTags", cl.AddGroupTags("confgrp2", ["a:b", "c:d"]))
  ok_job("DeleteGroupTags", cl.DeleteGroupTags("confgrp2", ["c:d"]))
  R.eq("GetGroupTags after", cl.GetGroupTags("confgrp2"), ["a:b"])
  if len(E.nodes) > 1:
    n = E.nodes[-1]
    ok_job("AssignGroupNodes", cl.AssignGroupNodes("confgrp2", [n], force=True))
    R.eq("node in new group", cl.GetGroup("confgrp2")["node_list"], [n])
    err_job("DeleteGroup non-empty", cl.DeleteGroup("confgrp2"), "OpPrereqError", "wrong_state")
    ok_job("AssignGroupNodes back", cl.AssignGroupNodes("default", [n], force=True))
  else:
    ok_job("AssignGroupNodes dry_run", cl.AssignGroupNodes("confgrp2", [E.master], dry_run=True))
    R.eq("dry-run assign changed nothing", cl.GetGroup("confgrp2")["node_list"], [])
  err_job("DeleteGroup default (non-empty)", cl.DeleteGroup("default"), "OpPrereqError", "wrong_state")
  ok_job("DeleteGroup", cl.DeleteGroup("confgrp2"))
  R.eq("groups after delete", cl.GetGroups(), ["default"])


@group("networks")
def g_networks():
  cl = E.cl
  R.eq("GetNetworks empty", cl.GetNetworks(), [])
  ok_job("CreateNetwork", cl.CreateNetwork("confnet", "192.0.2.0/24", gateway="192.0.2.1", tags="t:1"))
  R.eq("GetNetworks", cl.GetNetworks(), ["confnet"])
  shape("GetNetworks(bulk) shape", cl.GetNetworks(bulk=True), CAP.body("GET /2/networks?bulk=1"))
  net = cl.GetNetwork("confnet")
  shape("GetNetwork shape", net, CAP.body("GET /2/networks/NAME"))
  R.eq("network values", [net["network"], net["gateway"], net["tags"]], ["192.0.2.0/24", "192.0.2.1", ["t:1"]])
  # Without tags the stock client sends "tags": null, which Ganeti's opcode
  # validation rejects too (TListOf, no None → default): HTTP 400.
  try:
    cl.CreateNetwork("confnet2", "198.51.100.0/24")
    R.check("CreateNetwork without tags -> 400 (as Ganeti)", False, "accepted")
  except rapi.GanetiApiError as err:
    R.check("CreateNetwork without tags -> 400 (as Ganeti)", err.code == 400 and "OP_NETWORK_ADD.tags" in str(err), str(err))
  err_job("CreateNetwork duplicate", cl.CreateNetwork("confnet", "198.51.100.0/24", tags="x:y"), "OpPrereqError",
          "already_exists")
  ok_job("ConnectNetwork", cl.ConnectNetwork("confnet", "default", "bridged", "br-conf"))
  shape("GetNetwork connected shape", cl.GetNetwork("confnet"), CAP.body("GET /2/networks/NAME (connected)"))
  R.eq("network group_list", cl.GetNetwork("confnet")["group_list"], [["default", "bridged", "br-conf", ""]])
  ok_job("ModifyNetwork", cl.ModifyNetwork("confnet", add_reserved_ips=["192.0.2.10"]))
  R.check("reserved ip visible", cl.GetNetwork("confnet")["reserved_count"] >= 1, cl.GetNetwork("confnet"))
  ok_job("AddNetworkTags", cl.AddNetworkTags("confnet", ["a:b"]))
  R.eq("GetNetworkTags", sorted(cl.GetNetworkTags("confnet")), ["a:b", "t:1"])
  ok_job("DeleteNetworkTags", cl.DeleteNetworkTags("confnet", ["a:b"]))
  n = inst("c-dl")
  job = ok_job("ModifyInstance nic add in network", cl.ModifyInstance(n, nics=[["add", {"network": "confnet",
                                                                                           "ip": "pool"}]]))
  i = cl.GetInstance(n)
  R.check("nic in network got a pool address", i["nic.networks.names"][-1] == "confnet" and
          str(i["nic.ips"][-1]).startswith("192.0.2."), [i["nic.networks.names"], i["nic.ips"]])
  err_job("DeleteNetwork while connected", cl.DeleteNetwork("confnet"), "OpPrereqError")
  ok_job("ModifyInstance nic remove", cl.ModifyInstance(n, nics=[["remove", len(i["nic.macs"]) - 1, {}]]))
  ok_job("DisconnectNetwork", cl.DisconnectNetwork("confnet", "default"))
  ok_job("DeleteNetwork", cl.DeleteNetwork("confnet"))
  R.eq("GetNetworks after delete", cl.GetNetworks(), [])
  try:
    cl.GetNetwork("confnet")
    R.check("GetNetwork deleted -> 404", False, "no error")
  except rapi.GanetiApiError as err:
    R.eq("GetNetwork deleted -> 404", err.code, 404)


@group("query")
def g_query():
  cl = E.cl
  r = cl.Query("instance", ["name", "status", "pnode"], ["=", "name", inst("c-dl")])
  shape("Query instance shape", r, CAP.body("PUT /2/query/instance fields+filter"))
  R.eq("Query instance data", [[c[1] for c in row] for row in r["data"]], [[inst("c-dl"), "running", E.master]])
  R.check("Query status codes", all(c[0] == 0 for row in r["data"] for c in row), r["data"])
  r = cl.Query("node", ["name", "role"])
  R.eq("Query node names", sorted(row[0][1] for row in r["data"]), sorted(E.nodes))
  r = cl.Query("group", ["name"])
  R.eq("Query group", [row[0][1] for row in r["data"]], ["default"])
  r = cl.Query("job", ["id", "status"])
  R.check("Query job", len(r["data"]) > 0 and all(row[1][1] in FINAL + ("queued", "waiting", "running")
                                                    for row in r["data"]), r["data"][:3])
  r = cl.Query("instance", ["name", "nosuchfield"])
  R.eq("Query unknown field kind", [f["kind"] for f in r["fields"]], ["text", "unknown"])
  R.check("Query unknown field values", all(row[1] == [1, None] for row in r["data"]), r["data"][:2])
  qf = cl.QueryFields("node")
  shape("QueryFields node shape", qf, CAP.body("GET /2/query/node/fields"))
  qf = cl.QueryFields("instance", fields=["name", "status"])
  R.eq("QueryFields selected", qf, CAP.body("GET /2/query/instance/fields?fields=name,status"))


@group("filters")
def g_filters():
  cl = E.cl
  R.eq("GetFilters empty", cl.GetFilters(), [])
  uuid = cl.AddFilter(10, [["opcode", ["=", "OP_ID", "OP_TAGS_SET"]]], "REJECT")
  R.check("AddFilter returns a uuid", isinstance(uuid, str) and len(uuid) == 36, uuid)
  R.eq("GetFilters", cl.GetFilters(), [uuid])
  f = cl.GetFilter(uuid)
  R.eq("GetFilter fields", [f.get("uuid"), f.get("priority"), f.get("action"), f.get("predicates")],
       [uuid, 10, "REJECT", [["opcode", ["=", "OP_ID", "OP_TAGS_SET"]]]])
  bulk = cl.GetFilters(bulk=True)
  R.check("GetFilters(bulk) dicts", isinstance(bulk, list) and bulk and bulk[0].get("uuid") == uuid, bulk)
  # Ganeti's scheduler applies REJECT filters: the matching job does not run.
  job = wait_job(cl.AddClusterTags(["filtered:tag"]), timeout=30)
  R.check("REJECT filter stops the matching job", job["status"] in ("canceled", "error") and
          "filtered:tag" not in cl.GetClusterTags(), {"status": job["status"], "opresult": job.get("opresult")})
  r = cl.ReplaceFilter(uuid, 20, [], "ACCEPT")
  R.eq("ReplaceFilter returns uuid", r, uuid)
  R.eq("filter replaced", [cl.GetFilter(uuid)["priority"], cl.GetFilter(uuid)["action"]], [20, "ACCEPT"])
  ok_job("job runs after ACCEPT", cl.AddClusterTags(["f:ok"]))
  ok_job("cleanup tags", cl.DeleteClusterTags([t for t in cl.GetClusterTags() if t in ("f:ok", "filtered:tag")]))
  cl.DeleteFilter(uuid)
  R.eq("GetFilters after delete", cl.GetFilters(), [])


@group("multi-alloc")
def g_multi():
  cl = E.cl
  bad = [cl.InstanceAllocation("create", inst("ma3"), "diskless", [], [{}], os_type="noop", name_check=False,
                                 ip_check=False)]
  # Ganeti validates the allocation request before hail runs (README: "Request
  # parameter 'hypervisor' has invalid type"); checked first, on an empty-ish cluster.
  job = err_job("multi-alloc without hypervisor", cl.InstancesMultiAlloc(bad), "OpPrereqError", None, "hypervisor")
  for j in (((job.get("opresult") or [None])[0] or {}) if job["status"] == "success" else {}).get("jobs", []):
    wait_job(j[1])  # lenient server: remove what it created so the next checks start clean
  if inst("ma3") in cl.GetInstances():
    wait_job(cl.DeleteInstance(inst("ma3")))
  allocs = [cl.InstanceAllocation("create", inst("ma%d" % i), "diskless", [], [{}], os_type="noop",
                                    hypervisor="fake", name_check=False, ip_check=False,
                                    beparams={"memory": 128}) for i in (1, 2)]
  job = ok_job("InstancesMultiAlloc", cl.InstancesMultiAlloc(allocs))
  res = (job.get("opresult") or [None])[0]
  res = res if isinstance(res, dict) else None
  R.check("multi-alloc result shape", isinstance(res, dict) and sorted(res) == ["allocatable", "failed", "jobs"], res)
  R.eq("multi-alloc allocatable", sorted((res or {}).get("allocatable", [])), [inst("ma1"), inst("ma2")])
  for j in (res or {}).get("jobs", []):
    ok_job("multi-alloc child %s" % j[1], j[1])
  names = cl.GetInstances()
  R.check("multi-alloc instances exist", inst("ma1") in names and inst("ma2") in names, names)


@group("instances-delete")
def g_delete():
  cl = E.cl
  ok_job("DeleteInstance dry_run", cl.DeleteInstance(inst("c-file"), dry_run=True))
  R.check("dry-run delete kept it", inst("c-file") in cl.GetInstances())
  for n in list(cl.GetInstances()):
    ok_job("DeleteInstance %s" % n, cl.DeleteInstance(n))
  R.eq("no instances left", cl.GetInstances(), [])
  err_job("DeleteInstance unknown", cl.DeleteInstance(inst("nosuch")), "OpPrereqError", "unknown_entity")
  R.check("serial_no sane", isinstance(cl.GetInfo().get("ctime"), (int, float)))


# ------------------------------------------------------- bad input (raw HTTPS)

@group("bad-input-http", scenarios=("one",))
def g_bad_http():
  ok_body = {"__version__": 1, "mode": "create", "name": inst("bad1"), "disk_template": "diskless", "disks": [],
             "nics": [], "os_type": "noop", "name_check": False, "ip_check": False}
  same_error("malformed JSON", raw("POST", "/2/instances", raw_body="{not json"), "POST /2/instances malformed JSON")
  same_error("body is a list", raw("POST", "/2/instances", body=[1, 2]), "POST /2/instances body is a list")
  same_error("wrong content-type", raw("POST", "/2/instances", raw_body="a=b",
                                       headers={"Content-type": "application/x-www-form-urlencoded"}),
             "POST /2/instances wrong content-type")
  same_error("unknown parameter", raw("POST", "/2/instances", body=dict(ok_body, bogus_param=1)),
             "POST /2/instances unknown parameter")
  b = dict(ok_body)
  del b["__version__"]
  same_error("without __version__", raw("POST", "/2/instances", body=b), "POST /2/instances without __version__")
  same_error("__version__=2", raw("POST", "/2/instances", body=dict(ok_body, __version__=2)),
             "POST /2/instances __version__=2")
  st, _h, body = raw("POST", "/2/instances/%s/reboot?type=bogus" % inst("c-dl"))
  R.check("reboot type=bogus -> 400", st == 400 and isinstance(body, dict) and body.get("code") == 400,
          [st, body])
  same_error("bulk=yes", raw("GET", "/2/nodes?bulk=yes"), "GET /2/nodes?bulk=notabool")
  same_error("POST on PUT-only resource", raw("POST", "/2/redistribute-config"),
             "POST /2/redistribute-config (wrong method)")
  same_error("PATCH /2/info", raw("PATCH", "/2/info"), "PATCH /2/info (unknown method)")
  st, _h, body = raw("PUT", "/2/groups/default/modify", body={"alloc_policy": "sometimes"})
  R.check("group alloc_policy=sometimes -> 400 tuple repr", st == 400 and "fails validation" in str(body.get("message"))
          and "wrong_input" in str(body.get("message")), [st, body])
  st, _h, body = raw("PUT", "/2/instances/%s/modify" % inst("c-dl"), body={"beparams": "notadict"})
  R.check("modify beparams wrong type -> 400 or failed job",
          st == 400 or (st == 200 and isinstance(body, int)), [st, body])
  # unknown objects
  same_error("unknown instance", raw("GET", "/2/instances/%s" % inst("nosuch")), "GET /2/instances/UNKNOWN")
  same_error("unknown node", raw("GET", "/2/nodes/nosuchnode"), "GET /2/nodes/UNKNOWN")
  same_error("unknown group", raw("GET", "/2/groups/nosuchgroup"), "GET /2/groups/UNKNOWN")
  same_error("unknown resource", raw("GET", "/2/nosuchresource"), "GET /2/nosuchresource")
  same_error("unknown version", raw("GET", "/3/info"), "GET /3/info (unknown version)")
  same_error("job id not a number", raw("GET", "/2/jobs/abc"), "GET /2/jobs/notanumber")
  st, _h, body = raw("GET", "/2/jobs/999999")
  cap = CAP.body("GET /2/jobs/UNKNOWN")
  R.check("unknown job id -> 200 all null", st == 200 and body == cap, [st, body])
  same_error("wait on unknown job", raw("GET", "/2/jobs/999999/wait", body={"fields": ["status"],
                                                                           "previous_job_info": None,
                                                                           "previous_log_serial": None}),
             "GET /2/jobs/ID/wait unknown job")
  last = max(E.cl.GetJobs())
  same_error("wait without fields", raw("GET", "/2/jobs/%d/wait" % last, body={}), "GET /2/jobs/ID/wait missing fields")
  same_error("query bad filter", raw("PUT", "/2/query/instance", body={"fields": ["name"], "qfilter": ["=", "name"],
                                                                       "filter": ["=", "name"]}),
             "PUT /2/query/instance bad filter", 502)
  st, _h, body = raw("PUT", "/2/query/nosuchresource", body={"fields": ["name"]})
  R.eq("query unknown resource -> 502", st, 502)
  # envelope details
  st, h, body = raw("GET", "/2/info")
  # Connection: close is opt-in here (keep-alive by default, see docs/rapi.md): not checked.
  R.eq("Server", h.get("Server"), "Ganeti 3.0.2")
  R.eq("Content-Type", h.get("Content-Type"), "application/json")
  st, h, body = raw("GET", "/version")
  R.eq("GET /version body", [st, body], [200, 2])
  R.eq("GET /2 body", raw("GET", "/2")[2], None)


@group("bad-input-auth", scenarios=("one",))
def g_bad_auth():
  users = os.path.join(E.data_dir, "rapi", "users")
  ha1 = hashlib.md5(b"reader:Ganeti Remote API:readerpw").hexdigest()
  with open(users) as f:
    content = f.read()
  if "\nreader " not in content:
    with open(users, "a") as f:
      f.write("reader {HA1}%s read\n" % ha1)
  # The file is re-read on change; wait until the reader is known (a GET
  # with its credentials succeeds instead of 401).
  deadline = time.time() + 20
  while time.time() < deadline and raw("GET", "/2/instances", user="reader", password="readerpw")[0] == 401:
    time.sleep(0.1)
  st, h, body = raw("PUT", "/2/instances/%s/shutdown" % inst("c-dl"), user=None)
  same_error("write without credentials", (st, h, body), "PUT /2/instances/NAME/shutdown unauthenticated")
  R.eq("WWW-Authenticate", h.get("WWW-Authenticate"), 'Basic realm="Ganeti Remote API"')
  same_error("wrong password", raw("PUT", "/2/instances/%s/shutdown" % inst("c-dl"), user="admin", password="nope"),
             "PUT wrong password")
  same_error("unknown user", raw("PUT", "/2/tags?tag=x", user="nosuchuser", password="x"), "PUT unknown user")
  same_error("read-only user writes", raw("PUT", "/2/tags?tag=x", user="reader", password="readerpw"),
             "PUT read-only user")
  R.eq("read-only user reads", raw("GET", "/2/instances", user="reader", password="readerpw")[0], 200)
  R.eq("anonymous GET /2/info", raw("GET", "/2/info", user=None)[0], 200)
  st, _h, body = raw("GET", "/2/jobs/1/wait", user="reader", password="readerpw",
                     body={"fields": ["status"], "previous_job_info": None, "previous_log_serial": None})
  same_error("read-only user on /wait", (st, _h, body), "GET /2/jobs/ID/wait read-only user (needs write)")
  same_error("anonymous storage query",
             raw("GET", "/2/nodes/%s/storage?storage_type=file&output_fields=name" % E.master, user=None),
             "GET unauthenticated /2/nodes/NAME/storage (needs write)")
  # Through the real client: errors surface as GanetiApiError with the code.
  ro = rapi.GanetiRapiClient(E.host, port=E.port, username="reader", password="readerpw")
  try:
    ro.AddClusterTags(["x:y"])
    R.check("client: read-only AddClusterTags raises 403", False, "no error")
  except rapi.GanetiApiError as err:
    R.eq("client: read-only AddClusterTags raises 403", err.code, 403)
  R.check("no tag added by reader", "x:y" not in E.cl.GetClusterTags())


# ---------------------------------------------------------------- main

def main():
  global CAP
  ap = argparse.ArgumentParser()
  ap.add_argument("--host", required=True)
  ap.add_argument("--port", type=int, required=True)
  ap.add_argument("--user", required=True)
  ap.add_argument("--password", required=True)
  ap.add_argument("--data-dir", required=True)
  ap.add_argument("--scenario", choices=("one", "three"), required=True)
  ap.add_argument("--captures", default=None)
  ap.add_argument("--groups", default=None)
  ap.add_argument("--list-groups", action="store_true")
  ap.add_argument("--kvm-assets", default=None, help="JSON file: qemu, kernel, initrd of the test guest")
  a = ap.parse_args()
  if a.list_groups:
    print(json.dumps([g for g, sc, _f in GROUPS if a.scenario in sc]))
    return
  oracle = "/work/shared/oracle"
  CAP = Captures(a.captures or os.path.join(oracle, "captures" if a.scenario == "one" else "captures-3node"))
  E.host, E.port, E.user, E.password, E.data_dir = a.host, a.port, a.user, a.password, a.data_dir
  E.kvm = None
  if a.kvm_assets:
    with open(a.kvm_assets) as f:
      E.kvm = json.load(f)
  E.cl = rapi.GanetiRapiClient(a.host, port=a.port, username=a.user, password=a.password)
  E.master = E.cl.GetInfo()["master"]
  E.nodes = sorted(E.cl.GetNodes())
  E.nodes = [E.master] + [n for n in E.nodes if n != E.master]
  wanted = set(a.groups.split(",")) if a.groups else None
  for name, scenarios, fn in GROUPS:
    if a.scenario not in scenarios or (wanted and name not in wanted):
      continue
    R.group = name
    R.check("group started", True)
    try:
      fn()
    except Exception as err:
      R.check("group ran to the end", False, "%s: %s\n%s" % (type(err).__name__, err, traceback.format_exc()[-1500:]))


if __name__ == "__main__":
  main()
