import { describe, expect, it } from "vitest";
import { capture, mock, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.os", () => {
  it("list() → GET /2/os", async () => {
    mock("captures", 7);
    expect(await testClient().os.list()).toEqual(capture(7).response_body);
  });
});
