// node_verify: the node's half of cluster verification (Ganeti's
// backend.VerifyNode). Each requested check answers under its own key; a
// check that fails reports its problem as data rather than failing the call,
// so one broken check never hides the others.
import { constants as fsc, promises as fs } from "node:fs";
import { createHash, X509Certificate } from "node:crypto";
import path from "node:path";
import type { NodeVerifyChecks, NodeVerifyResult } from "@ganeti-ts/schema";
import { PROTOCOL_VERSION, SOFTWARE_VERSION } from "../../config/defaults.js";
import type { BackendContext } from "./context.js";
import { messageOf } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

/** Certificates closer to expiry than these many days are reported (Ganeti's defaults). */
const CERT_WARN_DAYS = 30;
const CERT_ERROR_DAYS = 7;
/** Certificates of the node daemon, relative to its data directory. */
const NODE_CERT_FILES = ["server.pem"];

async function sha1File(file: string): Promise<string | null> {
  try {
    return createHash("sha1")
      .update(await fs.readFile(file))
      .digest("hex");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Ganeti's utils.VerifyCertificate: expired, not yet valid, or expiring soon. */
export function certificateProblem(pem: string, file: string, nowMs: number): ["ERROR" | "WARNING", string] | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    return ["ERROR", `Failed to load X509 certificate ${file}: ${messageOf(err)}`];
  }
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  const prefix = `While verifying ${file}: `;
  if (nowMs > notAfter)
    return ["ERROR", `${prefix}Certificate is expired (valid from ${formatTime(notBefore)} to ${formatTime(notAfter)})`];
  if (nowMs < notBefore) return ["WARNING", `${prefix}Certificate not yet valid (valid from ${formatTime(notBefore)})`];
  const days = Math.floor((notAfter - nowMs) / 86_400_000);
  if (days <= CERT_ERROR_DAYS) return ["ERROR", `${prefix}Certificate expires in about ${days} days`];
  if (days <= CERT_WARN_DAYS) return ["WARNING", `${prefix}Certificate expires in about ${days} days`];
  return null;
}

/** Ganeti's utils.FormatTime: "%Y-%m-%d %H:%M:%S" in local time. */
function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A storage directory must exist (or be creatable) and be writable. */
async function storagePathProblem(dir: string): Promise<string | null> {
  if (!path.isAbsolute(dir)) return `Path '${dir}' is not absolute`;
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o750 });
    await fs.access(dir, fsc.W_OK | fsc.X_OK);
    return null;
  } catch (err) {
    return `Path '${dir}' is not usable: ${messageOf(err)}`;
  }
}

/** Regular files below dir, at most `depth` levels down (instance dirs, then images). */
async function listImages(dir: string, depth = 3): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, left: number): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isFile()) out.push(p);
      else if (e.isDirectory() && left > 1) await walk(p, left - 1);
    }
  };
  await walk(dir, depth);
  return out.sort();
}

/** Ganeti's NV_OOB_PATHS check of one helper. */
async function oobPathProblem(file: string): Promise<string | null> {
  let st: import("node:fs").Stats;
  try {
    st = await fs.stat(file);
  } catch (err) {
    return `error stating out of band helper: ${messageOf(err)}`;
  }
  if (!st.isFile()) return `out of band helper ${file} is not a file`;
  return st.mode & 0o100 ? null : `out of band helper ${file} is not executable`;
}

export async function verifyNode(ctx: BackendContext, checks: NodeVerifyChecks): Promise<NodeVerifyResult> {
  const res: NodeVerifyResult = {};
  if (checks.version) res.version = [PROTOCOL_VERSION, SOFTWARE_VERSION];
  if (checks.hypervisor) {
    const hv: Record<string, string | null> = {};
    for (const name of checks.hypervisor) {
      try {
        hv[name] = await ctx.hypervisors.get(name).verify();
      } catch (err) {
        hv[name] = messageOf(err);
      }
    }
    res.hypervisor = hv;
  }
  if (checks.instancelist) {
    try {
      const names: string[] = [];
      for (const name of checks.instancelist) names.push(...(await ctx.hypervisors.get(name).listInstances()));
      res.instancelist = names.sort();
    } catch (err) {
      res.instancelist = messageOf(err);
    }
  }
  if (checks.hvinfo) {
    try {
      const info = await ctx.hypervisors.get(checks.hvinfo.hypervisor).nodeInfo(await ctx.hostInfo());
      res.hvinfo = { memory_total: info.memory_total, memory_dom0: info.memory_dom0, memory_free: info.memory_free };
    } catch {
      res.hvinfo = null;
    }
  }
  if (checks.time) {
    const ms = ctx.clock();
    res.time = [Math.floor(ms / 1000), Math.floor((ms % 1000) * 1000)];
  }
  if (checks.nodesetup) {
    const problems: string[] = [];
    try {
      await fs.access(ctx.dataDir, fsc.W_OK);
    } catch (err) {
      problems.push(`data directory ${ctx.dataDir} is not writable: ${messageOf(err)}`);
    }
    res.nodesetup = problems;
  }
  if (checks.filelist) {
    const sums: Record<string, string> = {};
    for (const rel of checks.filelist) {
      if (path.isAbsolute(rel) || rel.split("/").includes("..")) continue;
      const sum = await sha1File(path.join(ctx.dataDir, rel));
      if (sum !== null) sums[rel] = sum;
    }
    res.filelist = sums;
  }
  if (checks.certificates) {
    const problems: NonNullable<NodeVerifyResult["certificates"]> = [];
    for (const rel of NODE_CERT_FILES) {
      const file = path.join(ctx.dataDir, rel);
      let pem: string;
      try {
        pem = await fs.readFile(file, "utf8");
      } catch (err) {
        problems.push([file, "ERROR", `While verifying ${file}: ${messageOf(err)}`]);
        continue;
      }
      const p = certificateProblem(pem, file, ctx.clock());
      if (p) problems.push([file, ...p]);
    }
    res.certificates = problems;
  }
  if (checks.file_storage_paths) {
    const bad: Record<string, string> = {};
    for (const [template, dir] of Object.entries(checks.file_storage_paths)) {
      // Ganeti's CheckFileStoragePath: the node's allow-list first, then the directory itself.
      const p = (await ctx.storagePaths.problem(dir)) ?? (await storagePathProblem(await ctx.storagePaths.local(dir)));
      if (p) bad[template] = p;
    }
    res.file_storage_paths = bad;
  }
  if (checks.file_volumes) {
    const vols: Record<string, string[] | string> = {};
    for (const [template, dir] of Object.entries(checks.file_volumes)) {
      try {
        const denied = await ctx.storagePaths.problem(dir);
        if (denied) vols[template] = denied;
        else {
          const images = await listImages(await ctx.storagePaths.local(dir));
          vols[template] = await Promise.all(images.map((p) => ctx.storagePaths.cluster(p)));
        }
      } catch (err) {
        vols[template] = messageOf(err);
      }
    }
    res.file_volumes = vols;
  }
  if (checks.oob_paths) {
    const bad: string[] = [];
    for (const p of checks.oob_paths) {
      const problem = await oobPathProblem(p);
      if (problem) bad.push(problem);
    }
    res.oob_paths = bad;
  }
  return res;
}

export function verifyHandlers(ctx: BackendContext): HandlerSlice<"node_verify"> {
  return { node_verify: (a) => verifyNode(ctx, a.checks) };
}
