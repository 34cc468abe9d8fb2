import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/index.js";
import { capture, mock, mockJob, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.networks", () => {
  it("empty lists", async () => {
    mock("captures", 17, 18);
    const c = testClient();
    expect(await c.networks.list()).toEqual([]);
    expect(await c.networks.list({ bulk: true })).toEqual([]);
  });

  it("create, list, get, connect, modify, remove while connected, disconnect, remove, 404", async () => {
    mockJob("captures", 279);
    mock("captures", 284, 285, 286);
    mockJob("captures", 287);
    mock("captures", 292);
    mockJob("captures", 294);
    mockJob("captures", 315);
    mockJob("captures", 326);
    mockJob("captures", 332);
    mock("captures", 337);
    const c = testClient();
    await c.networks.create(capture(279).request_body as never).wait();
    expect(await c.networks.list()).toEqual([{ name: "capnet", uri: "/2/networks/capnet" }]);
    expect((await c.networks.list({ bulk: true }))[0]?.network).toBe("10.250.3.0/24");
    expect((await c.networks.get("capnet")).tags).toEqual(["net:cap"]);
    await c.networks
      .connect("capnet", { group_name: "default", network_mode: "bridged", network_link: "xen-br0", network_vlan: "" })
      .wait();
    expect((await c.networks.get("capnet")).group_list).toEqual([["default", "bridged", "xen-br0", ""]]);
    await c.networks.modify("capnet", { gateway: "10.250.3.254" }).wait();
    await expect(c.networks.remove("capnet").wait()).rejects.toMatchObject({ name: "JobFailedError" });
    await c.networks.disconnect("capnet", "default").wait();
    await c.networks.remove("capnet").wait();
    await expect(c.networks.get("capnet")).rejects.toBeInstanceOf(NotFoundError);
  });
});
