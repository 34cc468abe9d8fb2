#!/usr/bin/env node
// ganeti-ts-noded: the node daemon in the foreground (the systemd unit's ExecStart).
import { daemonCli } from "../daemon-main.js";

daemonCli("node", process.argv.slice(2));
