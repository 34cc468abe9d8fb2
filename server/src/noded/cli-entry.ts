// Standalone node daemon process (tests and `node --import tsx`):
//   cli-entry.ts --data-dir DIR --address 127.0.0.1 --port 0 [--node-name N]
// Prints {"port": N} on stdout once listening; SIGTERM stops it gracefully.
import { parseArgs } from "node:util";
import { startNodeDaemon } from "./main.js";

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    address: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "1811" },
    "node-name": { type: "string" },
  },
  strict: true,
});

const dataDir = values["data-dir"];
if (!dataDir) {
  process.stderr.write("usage: cli-entry.ts --data-dir DIR [--address ADDR] [--port N] [--node-name NAME]\n");
  process.exit(2);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid --port ${values.port}\n`);
  process.exit(2);
}

try {
  const daemon = await startNodeDaemon({
    dataDir,
    address: values.address!,
    port,
    nodeName: values["node-name"],
    handleSignals: true,
  });
  process.stdout.write(JSON.stringify({ port: daemon.port }) + "\n");
} catch (err) {
  process.stderr.write(`node daemon failed to start: ${(err as Error).message}\n`);
  process.exit(1);
}
