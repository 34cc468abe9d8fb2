// IPv4 address pool of a network, over the config's reservation strings (one
// char per address, "1" reserved): `reservations` for instance NICs,
// `ext_reservations` for network/broadcast/gateway and user reservations.
// Behaviour and messages follow Ganeti's network.AddressPool.
import type { NetworkObject } from "@ganeti-ts/schema";
import { GanetiError } from "../../lib/errors.js";
import { formatIPv4, parseIPv4 } from "../common/node.js";

/** Ganeti's AddressPoolError (callers wrap it into OpPrereqError/OpExecError or a warning). */
export class AddressPoolError extends GanetiError {
  override readonly errorClass = "AddressPoolError";
  readonly code = "wrong_input" as const;
}

const MIN_PREFIX = 30; // at least 4 addresses
const MAX_PREFIX = 16; // at most 65536 addresses (Ganeti's performance limit)

interface ParsedNetwork {
  base: number;
  prefix: number;
  size: number;
}

/** "10.0.0.0/24" → base/prefix/size; throws AddressPoolError on bad input or size. */
function parseNetwork(cidr: string): ParsedNetwork {
  const [addr, len, ...rest] = cidr.split("/");
  const ip = addr === undefined ? null : parseIPv4(addr);
  const prefix = len !== undefined && /^\d+$/.test(len) ? Number(len) : NaN;
  if (ip === null || rest.length > 0 || !(prefix >= 0 && prefix <= 32)) throw new AddressPoolError(`Invalid IPv4 network '${cidr}'`);
  const size = 2 ** (32 - prefix);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((ip & mask) >>> 0 !== ip) throw new AddressPoolError(`${cidr} has host bits set`);
  if (prefix < MAX_PREFIX)
    throw new AddressPoolError(
      `A big network with ${size} host(s) is currently not supported. please specify at most a /${MAX_PREFIX} network`,
    );
  if (prefix > MIN_PREFIX)
    throw new AddressPoolError(`A network with only ${size} host(s) is too small, please specify at least a /${MIN_PREFIX} network`);
  return { base: ip, prefix, size };
}

type PoolNetwork = Pick<NetworkObject, "network" | "gateway" | "reservations" | "ext_reservations">;

export class AddressPool {
  readonly net: ParsedNetwork;
  private res: Uint8Array;
  private ext: Uint8Array;

  /** Wraps `network`; writes go back to its reservation strings (see update()). */
  constructor(private readonly network: PoolNetwork) {
    this.net = parseNetwork(network.network);
    this.res = decode(network.reservations, this.net.size);
    this.ext = decode(network.ext_reservations, this.net.size);
  }

  /** Ganeti's InitializeNetwork: fresh pool with network, broadcast and gateway reserved. */
  static initialize(network: PoolNetwork): AddressPool {
    network.reservations = "";
    network.ext_reservations = "";
    const pool = new AddressPool(network);
    pool.reserve(formatIPv4(pool.net.base), true);
    pool.reserve(formatIPv4(pool.net.base + pool.net.size - 1), true);
    if (network.gateway) pool.reserve(network.gateway, true);
    pool.update();
    return pool;
  }

  contains(address: string | null | undefined): boolean {
    if (!address) return false;
    const ip = parseIPv4(address);
    return ip !== null && ip >= this.net.base && ip < this.net.base + this.net.size;
  }

  private index(address: string): number {
    const ip = parseIPv4(address);
    if (ip === null || !this.contains(address)) throw new AddressPoolError(`${this.network.network} does not contain ${address}`);
    return ip - this.net.base;
  }

  isReserved(address: string, external = false): boolean {
    const i = this.index(address);
    return (external ? this.ext : this.res)[i] === 1;
  }

  reserve(address: string, external = false): void {
    if (this.isReserved(address, external))
      throw new AddressPoolError(
        external ? `IP ${address} is already externally reserved` : `IP ${address} is already used by an instance`,
      );
    (external ? this.ext : this.res)[this.index(address)] = 1;
    this.update();
  }

  release(address: string, external = false): void {
    if (!this.isReserved(address, external))
      throw new AddressPoolError(external ? `IP ${address} is not externally reserved` : `IP ${address} is not used by an instance`);
    (external ? this.ext : this.res)[this.index(address)] = 0;
    this.update();
  }

  private anyReserved(i: number): boolean {
    return this.res[i] === 1 || this.ext[i] === 1;
  }

  reservedCount(): number {
    let n = 0;
    for (let i = 0; i < this.net.size; i++) if (this.anyReserved(i)) n++;
    return n;
  }
  freeCount(): number {
    return this.net.size - this.reservedCount();
  }
  isFull(): boolean {
    return this.freeCount() === 0;
  }
  /** "X" reserved, "." free, one char per address. */
  map(): string {
    let s = "";
    for (let i = 0; i < this.net.size; i++) s += this.anyReserved(i) ? "X" : ".";
    return s;
  }
  externalReservations(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.net.size; i++) if (this.ext[i] === 1) out.push(formatIPv4(this.net.base + i));
    return out;
  }

  /** First free address, reserved for an instance. */
  getFreeAddress(): string {
    const addr = this.generateFree();
    this.reserve(addr);
    return addr;
  }
  /** First free address, not reserved. */
  generateFree(): string {
    for (let i = 0; i < this.net.size; i++) if (!this.anyReserved(i)) return formatIPv4(this.net.base + i);
    throw new AddressPoolError(`${this.network.network} is full`);
  }

  /** Write the pools back to the network object. */
  update(): void {
    this.network.reservations = encode(this.res);
    this.network.ext_reservations = encode(this.ext);
  }
}

function decode(s: string, size: number): Uint8Array {
  const a = new Uint8Array(size);
  if (s.length === size) for (let i = 0; i < size; i++) a[i] = s[i] === "1" ? 1 : 0;
  return a;
}
function encode(a: Uint8Array): string {
  let s = "";
  for (const b of a) s += b ? "1" : "0";
  return s;
}
