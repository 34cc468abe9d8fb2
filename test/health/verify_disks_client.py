"""verify-disks seen through Ganeti's own Python RAPI client (ganeti.rapi.client
of Ganeti 3.0.2, /usr/bin/python3), where Ganeti's RAPI offers it: instance
activate-disks, instance info and group info; the cluster's verify-disks itself
through the ganeti-ts RAPI extension (Ganeti's RAPI has no such resource).

Prints one JSON object per check: {"check": ..., "ok": ..., "detail": ...}.
Usage: verify_disks_client.py HOST PORT USER PASSWORD NODE
"""

import base64
import http.client
import json
import os
import ssl
import sys
import time

from ganeti.rapi import client as rapi

HOST, PORT, USER, PASSWORD, NODE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
INST = "vd1.example.com"
cl = rapi.GanetiRapiClient(HOST, port=PORT, username=USER, password=PASSWORD)


def check(name, ok, detail=None):
  sys.stdout.write(json.dumps({"check": name, "ok": bool(ok), "detail": None if ok else detail}, default=repr) + "\n")
  sys.stdout.flush()


def wait(jid):
  deadline = time.time() + 120
  while time.time() < deadline:
    job = cl.GetJobStatus(jid)
    if job["status"] in ("success", "error", "canceled"):
      return job
    time.sleep(0.2)
  raise RuntimeError("job %s did not finish" % jid)


def extension(path, body):
  """POST to the ganeti-ts RAPI extension (raw HTTPS: Ganeti's client has no such method)."""
  ctx = ssl.create_default_context()
  ctx.check_hostname = False
  ctx.verify_mode = ssl.CERT_NONE
  conn = http.client.HTTPSConnection(HOST, PORT, context=ctx, timeout=60)
  auth = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
  conn.request("POST", path, body=json.dumps(body),
               headers={"Authorization": "Basic " + auth, "Content-type": "application/json"})
  resp = conn.getresponse()
  data = json.loads(resp.read().decode())
  conn.close()
  return data


def verify_disks():
  job = wait(extension("/2/ganeti-ts/verify-disks", {}))
  res = job["opresult"][0]
  # OP_CLUSTER_VERIFY_DISKS: {"jobs": [[true, id], ...]}, one OP_GROUP_VERIFY_DISKS per group
  check("cluster verify-disks result is Ganeti's job list", job["status"] == "success" and isinstance(res, dict)
        and list(res) == ["jobs"] and all(ok is True and isinstance(j, int) for ok, j in res["jobs"]), job)
  sub = wait(res["jobs"][0][1])
  return sub


job = wait(cl.CreateInstance("create", INST, "file", [{"size": 1024}], [{}], os="noop", pnode=NODE,
                             name_check=False, ip_check=False, beparams={"memory": 128}, start=False))
check("create", job["status"] == "success", job)

sub = verify_disks()
check("group verify-disks on a healthy cluster: [{}, [], {}]", sub["status"] == "success"
      and sub["opresult"] == [[{}, [], {}]], sub)

job = wait(cl.ActivateInstanceDisks(INST))
res = job["opresult"][0] if job["status"] == "success" else None
# Ganeti's OP_INSTANCE_ACTIVATE_DISKS result: a list of [node, iv_name, device path]
check("ActivateInstanceDisks result: [[node, iv_name, path]]", isinstance(res, list) and len(res) == 1
      and len(res[0]) == 3 and res[0][0] == NODE and res[0][1] == "disk/0" and isinstance(res[0][2], str), job)
path = res[0][2]

info = wait(cl.GetInstanceInfo(INST))
data = info["opresult"][0][INST] if info["status"] == "success" else {}
disk = (data.get("disks") or [{}])[0]
check("GetInstanceInfo: the disk's device path is the activated one", disk.get("pstatus", {}) is not None and
      json.dumps(disk).find(path) >= 0, {"disk": disk, "path": path})
group = cl.GetGroup("default")
check("GetGroup shape has Ganeti's keys", {"name", "uuid", "node_cnt", "node_list", "alloc_policy", "ipolicy",
                                          "tags", "serial_no", "ctime", "mtime"} <= set(group), sorted(group))

# (verify-disks looks at instances whose disks are active, as Ganeti's)
os.unlink(path)
sub = verify_disks()
res = sub["opresult"][0] if sub["status"] == "success" else None
# [node errors, instances needing activate-disks, {instance: [[node uuid, volume], ...]} of missing disks],
# as Ganeti's (its volumes are LV names; a file disk's is its path)
check("group verify-disks reports the missing disk in Ganeti's shape",
      res == [{}, [], {INST: [[cl.GetNode(NODE)["uuid"], path]]}], sub)
wait(cl.DeactivateInstanceDisks(INST))
job = wait(cl.ActivateInstanceDisks(INST))
err = job["opresult"][0] if job["status"] == "error" else None
check("ActivateInstanceDisks of the missing disk fails with Ganeti's error class",
      isinstance(err, list) and err[0] == "OpExecError", job)
