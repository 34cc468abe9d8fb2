// Growing a running guest's disk (resize.ts) against a fake qemu that answers
// QMP as qemu 7.2 does for a drive: a file drive grows at once; an NBD drive
// (a drbd disk on its storage daemon's export) knows the export's size from
// its last connection and refuses to grow past it until a request makes it
// reconnect to the restarted daemon. Checked: the commands sent, in order,
// and the size the guest is given; the failures are typed errors, a qemu that
// never answers the read included.
import { describe, expect, it } from "vitest";
import { diskDriveId } from "../../../src/hypervisors/kvm/cmdline.js";
import { QmpError } from "../../../src/hypervisors/kvm/qmp.js";
import { resizeDrive } from "../../../src/hypervisors/kvm/resize.js";
import { HypervisorError } from "../../../src/lib/errors.js";

const MiB = 1024 * 1024;
const drive = diskDriveId("0e2f5b4c-1d5e-4a7b-9a51-7c1f00000001");
const readCmd = `qemu-io ${drive} "read 0 512"`;

/** One drive of a running qemu, seen through its QMP monitor. */
class FakeQemu {
  readonly sent: string[] = [];
  /** The size the guest's disk has. */
  guestSize = 1024 * MiB;
  /** NBD only: the export's size as qemu's client learnt it at its last connection. */
  clientSize = 1024 * MiB;
  /** NBD only: whether the client is connected (a restarted storage daemon dropped it). */
  connected = true;

  constructor(
    private readonly kind: "file" | "nbd",
    /** The storage daemon: its export's size now, null while it is down. */
    public exportSize: number | null = 1024 * MiB,
    /** A monitor that never answers a read (a wedged qemu). */
    private readonly readHangs = false,
  ) {}

  /** The storage daemon restarted with the grown volume: the client is dropped. */
  grow(bytes: number): void {
    this.exportSize = bytes;
    this.connected = false;
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (command === "block_resize") {
      this.sent.push(`block_resize ${String(args?.["device"])} ${String(args?.["size"])}`);
      if (args?.["device"] !== drive) return this.fail(command, "GenericError", `Device '${String(args?.["device"])}' not found`);
      const size = Number(args["size"]);
      if (this.kind === "nbd" && size > this.clientSize) return this.fail(command, "GenericError", "Cannot grow NBD nodes");
      this.guestSize = size;
      return Promise.resolve({});
    }
    if (command === "human-monitor-command") {
      const line = String(args?.["command-line"]);
      this.sent.push(line);
      if (line !== readCmd) return Promise.resolve(`unexpected HMP command ${line}\r\n`);
      if (this.readHangs) return new Promise<never>(() => undefined);
      if (this.kind === "nbd" && !this.connected) {
        // The request waits for the daemon (reconnect-delay), then fails.
        if (this.exportSize === null) return Promise.resolve("read failed: Input/output error\r\n");
        this.connected = true;
        this.clientSize = this.exportSize;
      }
      return Promise.resolve("read 512/512 bytes at offset 0\r\n512 bytes, 1 ops; 00.00 sec (1.2 MiB/sec and 2400.0 ops/sec)\r\n");
    }
    return this.fail(command, "CommandNotFound", `The command ${command} has not been found`);
  }

  private fail(command: string, cls: string, desc: string): Promise<never> {
    return Promise.reject(new QmpError(`QMP command ${command} failed: ${desc}`, cls));
  }
}

describe("resizeDrive", () => {
  it("grows a file drive with one block_resize", async () => {
    const q = new FakeQemu("file");
    await resizeDrive(q, drive, 1280 * MiB);
    expect(q.sent).toEqual([`block_resize ${drive} ${1280 * MiB}`]);
    expect(q.guestSize).toBe(1280 * MiB);
  });

  it("an NBD drive refused to grow: one read through it reconnects it to the grown export, then block_resize again", async () => {
    const q = new FakeQemu("nbd");
    q.grow(1280 * MiB);
    await resizeDrive(q, drive, 1280 * MiB);
    expect(q.sent).toEqual([`block_resize ${drive} ${1280 * MiB}`, readCmd, `block_resize ${drive} ${1280 * MiB}`]);
    expect(q.guestSize).toBe(1280 * MiB);
  });

  it("an NBD drive already connected to the grown export (a busy guest) grows at once", async () => {
    const q = new FakeQemu("nbd");
    q.grow(1280 * MiB);
    q.connected = true;
    q.clientSize = 1280 * MiB;
    await resizeDrive(q, drive, 1280 * MiB);
    expect(q.sent).toEqual([`block_resize ${drive} ${1280 * MiB}`]);
  });

  it("passes any other refusal through, without the retry", async () => {
    const q = new FakeQemu("file");
    const err = await resizeDrive(q, "drive-nosuch", 1280 * MiB).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpError);
    expect((err as Error).message).toBe("QMP command block_resize failed: Device 'drive-nosuch' not found");
    expect(q.sent).toEqual([`block_resize drive-nosuch ${1280 * MiB}`]);
  });

  it("the export still the old size after the reconnect: a HypervisorError saying so, the guest's size unchanged", async () => {
    const q = new FakeQemu("nbd");
    q.grow(1024 * MiB); // the daemon restarted, but without the grown volume
    const err = await resizeDrive(q, drive, 1280 * MiB).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HypervisorError);
    expect((err as Error).message).toBe(
      `Can't grow drive ${drive} to ${1280 * MiB} bytes: its NBD client still has the export's old size after a read through it to reconnect` +
        " (qemu-io: read 512/512 bytes at offset 0\r\n512 bytes, 1 ops; 00.00 sec (1.2 MiB/sec and 2400.0 ops/sec)):" +
        " QMP command block_resize failed: Cannot grow NBD nodes",
    );
    expect(q.sent).toHaveLength(3);
    expect(q.guestSize).toBe(1024 * MiB);
  });

  it("the storage daemon not back: the failed read is in the HypervisorError", async () => {
    const q = new FakeQemu("nbd");
    q.grow(1280 * MiB);
    q.exportSize = null;
    const err = await resizeDrive(q, drive, 1280 * MiB).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HypervisorError);
    expect((err as Error).message).toBe(
      `Can't grow drive ${drive} to ${1280 * MiB} bytes: its NBD client still has the export's old size after a read through it to reconnect` +
        " (qemu-io: read failed: Input/output error): QMP command block_resize failed: Cannot grow NBD nodes",
    );
  });

  it("a qemu that never answers the read: a HypervisorError once the read's time is up, no second resize", async () => {
    const q = new FakeQemu("nbd", 1024 * MiB, true);
    q.grow(1280 * MiB);
    const err = await resizeDrive(q, drive, 1280 * MiB, { readTimeoutMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HypervisorError);
    expect((err as Error).message).toMatch(new RegExp(`^qemu did not answer a read through drive ${drive} within [\\d.]+ s`));
    expect(q.sent).toEqual([`block_resize ${drive} ${1280 * MiB}`, readCmd]);
  });
});
