// Local users by name from a passwd file (the user a kvm guest's qemu runs as).
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lookupUser } from "../../src/lib/users.js";
import { tempDir } from "../noded/fixtures.js";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe("lookupUser", () => {
  it("finds a user's uid and gid by exact name; null for an unknown user, a prefix or a broken line", async () => {
    const t = await tempDir("gts-users-");
    cleanup = t.cleanup;
    const passwd = path.join(t.dir, "passwd");
    await fs.writeFile(
      passwd,
      ["root:x:0:0:root:/root:/bin/bash", "gts-guest:x:1234:5678::/nonexistent:/usr/sbin/nologin", "broken:x:abc:1::/:/bin/false", ""].join(
        "\n",
      ),
    );
    expect(await lookupUser("gts-guest", passwd)).toEqual({ user: "gts-guest", uid: 1234, gid: 5678 });
    expect(await lookupUser("root", passwd)).toEqual({ user: "root", uid: 0, gid: 0 });
    expect(await lookupUser("gts", passwd)).toBeNull();
    expect(await lookupUser("broken", passwd)).toBeNull();
    expect(await lookupUser("gts-guest", path.join(t.dir, "missing"))).toBeNull();
  });
});
