import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clientOptions, DEFAULT_URL, defaultConfigPath, resolveConnection } from "../src/config.js";
import { CliError } from "../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "gnt-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(content: unknown): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
}

describe("connection settings", () => {
  it("defaults when nothing is set", () => {
    const c = resolveConnection({}, { HOME: dir });
    expect(c.url).toBe(DEFAULT_URL);
    expect(c.sources.url).toBe("default");
    expect(c.insecure).toBe(false);
  });

  it("flags > env > config file", () => {
    const cfg = file({ url: "https://file:5080", user: "fileuser", password: "filepw", ca: "/file/ca.pem", timeout: 7 });
    const env = { GANETI_RAPI_URL: "https://env:5080", GANETI_RAPI_USER: "envuser" };
    const c = resolveConnection({ config: cfg, url: "https://flag:5080" }, env);
    expect(c.url).toBe("https://flag:5080");
    expect(c.user).toBe("envuser");
    expect(c.password).toBe("filepw");
    expect(c.ca).toBe("/file/ca.pem");
    expect(c.timeoutMs).toBe(7000);
    expect(c.sources).toMatchObject({ url: "flag", user: "env", password: "file", ca: "file" });
  });

  it("reads ~/.config/ganeti-ts/config.json (XDG_CONFIG_HOME honoured)", () => {
    const env = { XDG_CONFIG_HOME: join(dir, "xdg") };
    expect(defaultConfigPath(env)).toBe(join(dir, "xdg", "ganeti-ts", "config.json"));
    expect(defaultConfigPath({ HOME: "/home/u" })).toBe("/home/u/.config/ganeti-ts/config.json");
  });

  it("GANETI_RAPI_CA, GANETI_RAPI_INSECURE and fingerprint map to SDK options (pin wins)", () => {
    const env = { GANETI_RAPI_CA: "/etc/ca.pem", GANETI_RAPI_INSECURE: "yes", HOME: dir };
    expect(clientOptions(resolveConnection({}, { GANETI_RAPI_CA: "/etc/ca.pem", HOME: dir }))).toMatchObject({ caFile: "/etc/ca.pem" });
    expect(clientOptions(resolveConnection({}, env))).toMatchObject({ insecure: true });
    const pinned = clientOptions(resolveConnection({ fingerprint: "AB".repeat(32) }, env));
    expect(pinned.fingerprint).toBe("AB".repeat(32));
    expect(pinned.insecure).toBeUndefined();
  });

  it("several comma-separated RAPI URLs (master candidates) become baseUrl and baseUrls", () => {
    const o = clientOptions(
      resolveConnection({}, { GANETI_RAPI_URL: "https://10.0.0.1:5080, https://10.0.0.2:5080,https://10.0.0.3:5080", HOME: dir }),
    );
    expect(o.baseUrl).toBe("https://10.0.0.1:5080");
    expect(o.baseUrls).toEqual(["https://10.0.0.2:5080", "https://10.0.0.3:5080"]);
    expect(clientOptions(resolveConnection({ url: "https://10.0.0.1:5080" }, { HOME: dir })).baseUrls).toBeUndefined();
  });

  it("an explicit missing or broken config file is a usage error", () => {
    expect(() => resolveConnection({ config: join(dir, "nope.json") }, {})).toThrow(CliError);
    expect(() => resolveConnection({ config: file("{not json") }, {})).toThrow(/cannot read config file/);
    expect(() => resolveConnection({ config: file([1]) }, {})).toThrow(/not a JSON object/);
  });

  it("rejects a bad timeout", () => {
    expect(() => resolveConnection({ timeout: "soon" }, { HOME: dir })).toThrow(/invalid timeout/);
  });
});
