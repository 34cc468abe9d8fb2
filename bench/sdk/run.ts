// SDK overhead per call: requests/s through @ganeti-ts/sdk versus raw HTTP
// clients (undici, node:http/https) against the same tiny fastify server
// answering GET /2/instances?bulk=1 with a captured Ganeti 3.0.2 response.
// Writes the table into the "## SDK" section of docs/benchmarks.md.
//
//   npx tsx bench/sdk/run.ts [--requests 2000] [--no-write]
import { readFileSync, existsSync, writeFileSync, readdirSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { X509Certificate } from "node:crypto";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { Agent, request as undiciRequest } from "undici";
import { generate } from "selfsigned";
import { GanetiClient } from "@ganeti-ts/sdk";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
const { values: args } = parseArgs({
  options: { requests: { type: "string", default: "2000" }, "no-write": { type: "boolean", default: false } },
});
const N = Number(args.requests);

function capturedInstances(): { body: string; count: number } {
  const dir = process.env.GANETI_ORACLE_DIR ?? "/work/shared/oracle";
  const set = `${dir}/captures`;
  const f = existsSync(set) ? readdirSync(set).find((x) => x.startsWith("083-")) : undefined;
  if (!f) throw new Error(`capture 083 (GET /2/instances?bulk=1) not found under ${set}`);
  const data = JSON.parse(readFileSync(join(set, f), "utf8")).response_body as unknown[];
  return { body: JSON.stringify(data), count: data.length };
}

async function startServer(tls?: { key: string; cert: string }): Promise<{ url: string; close: () => Promise<void> }> {
  const payload = capturedInstances().body;
  const app = Fastify({ logger: false, ...(tls ? { https: tls } : {}) } as Parameters<typeof Fastify>[0]);
  app.get("/2/instances", async (_req, reply) => {
    reply.header("content-type", "application/json").send(payload);
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return { url: `${tls ? "https" : "http"}://127.0.0.1:${port}`, close: () => app.close() };
}

async function measure(
  name: string,
  concurrency: number,
  call: () => Promise<unknown>,
): Promise<{ name: string; concurrency: number; rps: number }> {
  for (let i = 0; i < Math.min(200, N / 10); i++) await call(); // warm-up
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < N) await call();
    }),
  );
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { name, concurrency, rps: N / secs };
}

function nodeGet(agent: http.Agent, url: string, mod: typeof http | typeof https): () => Promise<unknown> {
  return () =>
    new Promise((resolve, reject) => {
      mod
        .get(`${url}/2/instances?bulk=1`, { agent, headers: { Accept: "application/json" } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
          res.on("error", reject);
        })
        .on("error", reject);
    });
}

async function main(): Promise<void> {
  const { count } = capturedInstances();
  const pems = await generate([{ name: "commonName", value: "ganeti.example.com" }], { keySize: 2048 });
  const plain = await startServer();
  const secure = await startServer({ key: pems.private, cert: pems.cert });
  const fingerprint = new X509Certificate(pems.cert).fingerprint256;
  const results: { transport: string; name: string; concurrency: number; rps: number }[] = [];
  try {
    for (const [transport, srv] of [
      ["http", plain],
      ["https", secure],
    ] as const) {
      const undiciAgent = new Agent({ connect: { rejectUnauthorized: false } });
      const nodeAgent =
        transport === "http" ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true, rejectUnauthorized: false });
      const sdk = new GanetiClient({
        baseUrl: srv.url,
        ...(transport === "https" ? { fingerprint } : {}),
        retry: false,
      });
      const calls: [string, () => Promise<unknown>][] = [
        [
          "undici request + JSON.parse",
          async () => (await undiciRequest(`${srv.url}/2/instances?bulk=1`, { dispatcher: undiciAgent })).body.json(),
        ],
        [`node:${transport} + JSON.parse`, nodeGet(nodeAgent, srv.url, transport === "http" ? http : https)],
        ["SDK instances.list({bulk}) (axios + zod)", () => sdk.instances.list({ bulk: true })],
      ];
      for (const concurrency of [1, 8]) {
        for (const [name, call] of calls) results.push({ transport, ...(await measure(name, concurrency, call)) });
      }
      sdk.close();
      nodeAgent.destroy();
      await undiciAgent.close();
    }
  } finally {
    await plain.close();
    await secure.close();
  }

  const lines = [
    "## SDK",
    "",
    `Requests per second for \`GET /2/instances?bulk=1\` (${count} instances, ${capturedInstances().body.length} bytes, captured from Ganeti 3.0.2)`,
    "against a local fastify server; each row parses the JSON body. `vs undici` is the ratio to undici in the same",
    "run and concurrency; `overhead/call` is the extra time per request compared with undici. The SDK validates",
    "every instance with zod and goes through axios; HTTPS rows pin the certificate fingerprint.",
    `Run: \`npx tsx bench/sdk/run.ts --requests ${N}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPU(s).`,
    "",
    "| transport | client | concurrency | req/s | vs undici | overhead/call |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    const ref = results.find((x) => x.transport === r.transport && x.concurrency === r.concurrency && x.name.startsWith("undici"))!;
    const overheadUs = (1 / r.rps - 1 / ref.rps) * 1e6 * r.concurrency;
    lines.push(
      `| ${r.transport} | ${r.name} | ${r.concurrency} | ${r.rps.toFixed(0)} | ${(r.rps / ref.rps).toFixed(2)} | ${r === ref ? "—" : `${overheadUs.toFixed(0)} µs`} |`,
    );
  }
  const section = lines.join("\n") + "\n";
  console.log(section);
  if (!args["no-write"]) writeSection(join(root, "docs/benchmarks.md"), section);
}

/** Replace (or append) only the "## SDK" section of docs/benchmarks.md. */
function writeSection(file: string, section: string): void {
  const cur = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const start = cur.search(/^## SDK\s*$/m);
  let out: string;
  if (start < 0) out = `${cur.replace(/\n*$/, "\n\n")}${section}`;
  else {
    const rest = cur.slice(start + 1);
    const nextRel = rest.search(/^## /m);
    const end = nextRel < 0 ? cur.length : start + 1 + nextRel;
    out = cur.slice(0, start) + section + (end < cur.length ? "\n" + cur.slice(end) : "");
  }
  writeFileSync(file, out);
  console.log(`wrote the SDK section of ${file}`);
}

await main();
