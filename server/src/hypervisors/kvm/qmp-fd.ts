// Handing a running qemu an open file over its QMP socket, as Ganeti does
// for hotplugged disks: the file travels as SCM_RIGHTS ancillary data with
// the `add-fd` command, and the drive then opens `/dev/fdset/ID`. A qemu
// that dropped its privileges (kvm security_model=user, -runas) could not
// open the image itself: the node's data directory is root's alone; this
// way it gets that one file and nothing else.
//
// Node cannot send descriptors over a unix socket, so a small python3
// relay holds the QMP connection: it copies lines between its stdio and
// the socket and sends the descriptor it inherited as fd 3 with the line
// carrying `add-fd`. The whole session (add-fd, drive_add, remove-fd) must
// be one connection: qemu closes an fd set nothing uses yet when the last
// monitor client goes.
import { spawn } from "node:child_process";
import { Duplex } from "node:stream";
import { HypervisorError } from "../../lib/errors.js";
import { QmpClient } from "./qmp.js";

const RELAY = `
import socket, sys, threading
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
def up():
    for line in sys.stdin.buffer:
        if b'"add-fd"' in line:
            socket.send_fds(s, [line], [3])
        else:
            s.sendall(line)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while True:
    b = s.recv(65536)
    if not b:
        break
    sys.stdout.buffer.write(b)
    sys.stdout.buffer.flush()
`;

/**
 * Run `fn` in one QMP session on `socket` in which qemu holds the open file
 * `fd` as fd set `fdset` (open `/dev/fdset/FDSET`); the set is removed at
 * the end (what qemu opened from it stays open).
 */
export async function withQmpFile<T>(
  socket: string,
  fd: number,
  fn: (q: QmpClient, fdset: number) => Promise<T>,
  python = "python3",
): Promise<T> {
  const child = spawn(python, ["-c", RELAY, socket], { stdio: ["pipe", "pipe", "pipe", fd] });
  // Piped (the stdio array), so present.
  const [stdin, stdout] = [child.stdin!, child.stdout!];
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  try {
    await spawned;
  } catch (err) {
    throw new HypervisorError(
      `Can't hand qemu an open file: ${python} is needed to pass a file descriptor to qemu (${(err as Error).message})`,
      { cause: err },
    );
  }
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let q: QmpClient;
  try {
    q = await QmpClient.over(Duplex.from({ readable: stdout, writable: stdin }), socket);
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw new HypervisorError(`Can't hand qemu an open file: ${(err as Error).message}${stderr ? ` (${stderr.trim()})` : ""}`, {
      cause: err,
    });
  }
  try {
    const added = (await q.execute("add-fd")) as { "fdset-id": number };
    const fdset = added["fdset-id"];
    try {
      return await fn(q, fdset);
    } finally {
      await q.execute("remove-fd", { "fdset-id": fdset }).catch(() => undefined);
    }
  } finally {
    stdin.end();
    q.close();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}
