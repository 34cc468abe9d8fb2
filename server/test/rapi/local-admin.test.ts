// The master's admin socket serves the RAPI with write rights and no
// credentials (root on the master, as Ganeti's CLI over LUXI); the same
// server on TCP keeps asking for them.
import { afterEach, describe, expect, it } from "vitest";
import { makeEnv, type Env } from "./harness.js";

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe("localAdmin", () => {
  it("a write without credentials is a job, even where authentication is required", async () => {
    env = await makeEnv({ requireAuthentication: true, localAdmin: true });
    const res = await env.app.inject({ method: "PUT", url: "/2/tags?tag=admin-socket" });
    expect(res.statusCode).toBe(200);
    expect(env.queue.submitted).toHaveLength(1);
    expect(env.queue.submitted[0]?.[0]).toMatchObject({ OP_ID: "OP_TAGS_SET", tags: ["admin-socket"] });
    const read = await env.app.inject({ url: "/2/info" });
    expect(read.statusCode).toBe(200);
  });

  it("without localAdmin the same request is refused (401)", async () => {
    env = await makeEnv({ requireAuthentication: true });
    const res = await env.app.inject({ method: "PUT", url: "/2/tags?tag=admin-socket" });
    expect(res.statusCode).toBe(401);
    expect(env.queue.submitted).toHaveLength(0);
  });
});
