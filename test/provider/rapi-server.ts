// The provider tests' RAPI fake served over HTTP on 127.0.0.1:0, for code
// running in another process (Pulumi's dynamic-provider host).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { FakeRapi } from "../../provider/test/helpers/fake-rapi.js";

export interface FakeServer {
  fake: FakeRapi;
  url: string;
  /** Authorization headers seen (to prove credentials reached the server). */
  auths: string[];
  close(): Promise<void>;
}

export async function startFakeRapi(): Promise<FakeServer> {
  const fake = new FakeRapi();
  const auths: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      auths.push(req.headers.authorization ?? "");
      const [status, body] = fake.handle(req.method ?? "GET", req.url ?? "/", Buffer.concat(chunks).toString("utf8"));
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    fake,
    url: `http://127.0.0.1:${port}`,
    auths,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
