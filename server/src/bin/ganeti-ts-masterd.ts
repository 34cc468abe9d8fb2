#!/usr/bin/env node
// ganeti-ts-masterd: the master daemon in the foreground (the systemd unit's ExecStart).
import { daemonCli } from "../daemon-main.js";

daemonCli("master", process.argv.slice(2));
