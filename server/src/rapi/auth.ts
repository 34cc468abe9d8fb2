// RAPI users file (Ganeti's lib/rapi/users): "<user> <password> [options]",
// passwords plain, {cleartext}... or {HA1}md5(user:realm:password); options
// read/write. Re-read when the file changes.
import { createHash, timingSafeEqual } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";

export const REALM = "Ganeti Remote API";

export interface RapiUser {
  name: string;
  password: string;
  options: string[];
}

function parseUsersFile(text: string): Map<string, RapiUser> {
  const users = new Map<string, RapiUser>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const parts = line.split(/\s+/);
    if (parts.length < 2) continue;
    const [name, password, opts] = parts as [string, string, string | undefined];
    users.set(name, { name, password, options: opts ? opts.split(",").filter((o) => o) : [] });
  }
  return users;
}

const eq = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Ganeti's password check: plain (not starting with "{"), {cleartext}, {HA1}. */
export function checkPassword(user: RapiUser, given: string): boolean {
  const stored = user.password;
  const m = /^\{([^}]*)\}(.*)$/s.exec(stored);
  if (!m) return eq(stored, given);
  const scheme = (m[1] ?? "").toLowerCase();
  const value = m[2] ?? "";
  if (scheme === "cleartext") return eq(value, given);
  if (scheme === "ha1") {
    const ha1 = createHash("md5").update(`${user.name}:${REALM}:${given}`).digest("hex");
    return eq(value.toLowerCase(), ha1);
  }
  return false;
}

/** Users loaded from a file, reloaded on change (a missing file means no users). */
export class UsersFile {
  private users = new Map<string, RapiUser>();
  private watcher: FSWatcher | null = null;
  private reloading: Promise<void> | null = null;

  constructor(
    readonly path: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  get(name: string): RapiUser | undefined {
    return this.users.get(name);
  }

  async load(): Promise<void> {
    try {
      this.users = parseUsersFile(await readFile(this.path, "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") this.users = new Map();
      else this.onError(err);
    }
  }

  /** Reload on writes, renames and deletes (watch the directory: editors replace files). */
  watch(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(dirname(this.path), (_event, file) => {
        if (file && file.toString() !== basename(this.path)) return;
        this.reloading ??= this.load().finally(() => (this.reloading = null));
      });
      this.watcher.on("error", (err) => this.onError(err));
    } catch (err) {
      this.onError(err);
    }
  }

  /** Resolves once any reload triggered so far has completed. */
  async settled(): Promise<void> {
    await this.reloading;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
