"""Following a job with Ganeti's own Python RAPI client (ganeti.rapi.client
of Ganeti 3.0.2), shared by the conformance scripts."""

import time

FINAL = ("success", "error", "canceled")


def follow_job(cl, jid, timeout):
  """Follow a job with WaitForJobChange until it is final (or `timeout`
  seconds passed), then return its GetJobStatus."""
  deadline = time.time() + timeout
  prev, serial = None, None
  while time.time() < deadline:
    r = cl.WaitForJobChange(jid, ["status"], prev, serial)
    if r is None:
      continue
    for entry in r.get("log_entries") or []:
      serial = max(serial or 0, entry[0])
    if r["job_info"][0] in FINAL:
      break
    prev = r["job_info"]
  return cl.GetJobStatus(jid)
