// Scale a pool of identical instances: `pulumi config set count 5` and
// `pulumi up` creates or removes instances; `memory`/`vcpus` changes are
// applied in place (no replacement).
import * as pulumi from "@pulumi/pulumi";
import { Instance } from "@ganeti-ts/pulumi";

const cfg = new pulumi.Config();
const count = cfg.getNumber("count") ?? 2;
const prefix = cfg.get("prefix") ?? "worker";
const domain = cfg.get("domain") ?? "example.com";
const memory = cfg.get("memory") ?? "256M";
const vcpus = cfg.getNumber("vcpus") ?? 1;
const diskTemplate = cfg.get("diskTemplate") ?? "diskless";
const node = cfg.get("node");
const timeout = cfg.get("timeout") ?? "10m";

const workers: Instance[] = [];
for (let i = 0; i < count; i++) {
  workers.push(
    new Instance(`${prefix}-${i}`, {
      name: `${prefix}-${i}.${domain}`,
      diskTemplate,
      disks: diskTemplate === "diskless" ? [] : [{ size: cfg.get("diskSize") ?? "1G" }],
      nics: [{ link: cfg.get("link") ?? "br0" }],
      os: cfg.get("os") ?? "noop",
      hypervisor: cfg.get("hypervisor") ?? "fake",
      memory,
      vcpus,
      ...(node ? { primaryNode: node } : { iallocator: cfg.get("iallocator") ?? "hail" }),
      tags: [`pool:${prefix}`],
      timeouts: { create: timeout, update: timeout, delete: timeout },
    }),
  );
}

export const names = workers.map((w) => w.name);
export const statuses = workers.map((w) => w.status);
export const primaryNodes = workers.map((w) => w.primaryNode);
