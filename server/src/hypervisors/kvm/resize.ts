// Telling a running guest that one of its disks grew (Ganeti's ResizeDisk:
// QMP block_resize on the disk's drive).
//
// A replicated disk (drbd) is an NBD client of the node's storage daemon,
// which restarts to grow the volume. qemu's NBD client knows the export's
// size from its last connection and refuses to grow past it ("Cannot grow
// NBD nodes"); it learns the new size only when it reconnects, which it does
// at its next request, and an idle guest has none. So: one read through the
// drive (HMP qemu-io) makes it reconnect, then the resize is only a size
// change.
import { HypervisorError } from "../../lib/errors.js";
import { REPLICA_RECONNECT_DELAY } from "./cmdline.js";
import type { QmpClient } from "./qmp.js";

/** qemu's refusal to grow an NBD node past the export size it knows. */
const NBD_GROW_REFUSED = /Cannot grow NBD nodes/;

/**
 * How long the read may take: a request on a disconnected NBD drive waits
 * up to its reconnect-delay for the storage daemon, then fails; beyond that
 * (and a margin for a loaded machine) qemu is not answering at all.
 */
export const RECONNECT_READ_TIMEOUT_MS = (REPLICA_RECONNECT_DELAY + 30) * 1000;

export async function resizeDrive(
  q: Pick<QmpClient, "execute">,
  drive: string,
  newSizeBytes: number,
  opts: { readTimeoutMs?: number } = {},
): Promise<void> {
  try {
    await q.execute("block_resize", { device: drive, size: newSizeBytes });
    return;
  } catch (err) {
    if (!NBD_GROW_REFUSED.test((err as Error).message)) throw err;
  }
  const timeoutMs = opts.readTimeoutMs ?? RECONNECT_READ_TIMEOUT_MS;
  const out = await withTimeout(
    q.execute("human-monitor-command", { "command-line": `qemu-io ${drive} "read 0 512"` }),
    timeoutMs,
    () => `qemu did not answer a read through drive ${drive} within ${timeoutMs / 1000} s (its NBD client reconnecting)`,
  );
  // qemu 7.2's qemu-io prints to qemu's own stdout, so the monitor's answer is mostly empty.
  const read = typeof out === "string" ? out.trim() : "";
  try {
    await q.execute("block_resize", { device: drive, size: newSizeBytes });
  } catch (err) {
    throw new HypervisorError(
      `Can't grow drive ${drive} to ${newSizeBytes} bytes: its NBD client still has the export's old size after a read through it to reconnect${read ? ` (qemu-io: ${read})` : ""}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HypervisorError(message())), ms);
  });
  // The command's own answer (or its failure when the connection closes) may come later.
  p.catch(() => undefined);
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}
