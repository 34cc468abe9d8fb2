// Submitting opcodes that Ganeti's RAPI has no resource for (cluster verify,
// verify-disks, repair-disk-sizes, OOB commands, the watcher's jobs): on the
// master through its local control socket (as Ganeti's gnt-cluster uses the
// master socket), elsewhere through the ganeti-ts RAPI extension
// /2/ganeti-ts/... . Both give the same job ids, logs and results.
import { GanetiClient, JobCanceledError, JobFailedError } from "@ganeti-ts/sdk";
import { CliError } from "./errors.js";

export type Opcode = { OP_ID: string } & Record<string, unknown>;

export interface JobOutcome {
  status: "success" | "error" | "canceled";
  /** Per-opcode results (success), or the error text. */
  opresult: unknown[];
  error?: string;
}

export interface JobRunner {
  /** Submit one single-opcode job; its id. */
  submit(op: Opcode): Promise<number>;
  /** Follow a job to its end, passing each log entry on (time in seconds). */
  wait(id: number, onLog: (time: number, message: string) => void): Promise<JobOutcome>;
}

/** The RAPI path (and SDK call) for each opcode the extension carries. */
export function rapiJobRunner(client: () => GanetiClient): JobRunner {
  return {
    async submit(op) {
      const { OP_ID: opId, ...params } = op;
      const c = client();
      switch (opId) {
        case "OP_CLUSTER_VERIFY":
          return await c.cluster.verify(params);
        case "OP_CLUSTER_VERIFY_DISKS":
          return await c.cluster.verifyDisks(params);
        case "OP_CLUSTER_REPAIR_DISK_SIZES":
          return await c.cluster.repairDiskSizes(params);
        case "OP_NODE_SET_PARAMS": {
          const { node_name: name, ...mods } = params;
          return await c.nodes.modify(String(name), mods);
        }
        case "OP_OOB_COMMAND":
          return await c.nodes.oob(params as Parameters<typeof c.nodes.oob>[0]);
        case "OP_NODE_QUERYVOLS":
          return await c.nodes.volumes(params as { output_fields: string[]; nodes?: string[] });
        case "OP_INSTANCE_ACTIVATE_DISKS":
          return await c.instances.activateDisks(String(params["instance_name"]));
        default:
          throw new CliError(`${opId} cannot be submitted through the RAPI`);
      }
    },
    async wait(id, onLog) {
      try {
        const opresult = await client()
          .jobs.handle(id)
          .wait({ followUp: false, onLog: (l) => onLog(l.time / 1000, l.message) });
        return { status: "success", opresult };
      } catch (err) {
        if (err instanceof JobCanceledError) return { status: "canceled", opresult: [], error: err.message };
        if (err instanceof JobFailedError) return { status: "error", opresult: [], error: `${err.errorClass}: ${err.errorMessage}` };
        throw err;
      }
    },
  };
}

/** Python's time.ctime(): "Mon Dec  7 03:30:00 2026" in local time. */
export function ctime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}
