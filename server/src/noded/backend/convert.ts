// blockdev_convert (Ganeti's BlockdevConvert): copy a disk's data into a
// disk of another template on this node, both assembled here, with
// qemu-img. Either side may be an image file or a replicated disk's export
// (its storage daemon's unix socket, or nbds:// over TLS with the node's
// replication credentials).
import { execFile } from "node:child_process";
import type { RpcDisk } from "@ganeti-ts/schema";
import { isUnixReplica, parseReplicaUri } from "../../lib/replica-uri.js";
import { driverFor } from "../../storage/registry.js";
import type { BackendContext } from "./context.js";
import { NodeBackendError, messageOf } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

/** qemu-img's --image-opts for a device path, and the TLS object it needs. */
function imageOpts(devPath: string, id: string): { opts: string; objects: string[] } {
  const r = parseReplicaUri(devPath);
  if (!r) return { opts: `driver=raw,file.driver=file,file.filename=${devPath.replace(/,/g, ",,")}`, objects: [] };
  if (isUnixReplica(r)) {
    const opts = ["driver=raw", "file.driver=nbd", "file.server.type=unix", `file.server.path=${r.socket.replace(/,/g, ",,")}`];
    return { opts: [...opts, `file.export=${r.export.replace(/,/g, ",,")}`].join(","), objects: [] };
  }
  return {
    opts: [
      "driver=raw",
      "file.driver=nbd",
      "file.server.type=inet",
      `file.server.host=${r.host}`,
      `file.server.port=${r.port}`,
      `file.export=${r.export.replace(/,/g, ",,")}`,
      `file.tls-creds=${id}`,
      `file.tls-hostname=${r.tlsHostname}`,
    ].join(","),
    objects: [`tls-creds-x509,id=${id},dir=${r.tlsCredsDir.replace(/,/g, ",,")},endpoint=client`],
  };
}

export function convertHandlers(ctx: BackendContext): HandlerSlice<"blockdev_convert"> {
  const open = async (disk: RpcDisk): Promise<string> => {
    await ctx.storagePaths.checkDisk(disk);
    return driverFor(disk, ctx.storage).assemble(await ctx.storagePaths.localDisk(disk));
  };
  return {
    blockdev_convert: async (a) => {
      try {
        const src = imageOpts(await open(a.src), "tls-src");
        const dst = imageOpts(await open(a.dst), "tls-dst");
        const args = [
          "convert",
          ...[...src.objects, ...dst.objects].flatMap((o) => ["--object", o]),
          "-n",
          // The source may be held open (a stopped instance's replica still served): read it shared.
          "-U",
          "--image-opts",
          "--target-image-opts",
          src.opts,
          dst.opts,
        ];
        await new Promise<void>((resolve, reject) =>
          execFile("qemu-img", args, { timeout: 3_500_000 }, (err, _out, stderr) =>
            err ? reject(new Error(stderr.trim() || err.message)) : resolve(),
          ),
        );
        return null;
      } catch (err) {
        throw new NodeBackendError(`Can't convert block device: ${messageOf(err)}`, { cause: err });
      }
    },
  };
}
