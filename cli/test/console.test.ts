// gnt instance console: the command for an ssh-kind console, run locally or over ssh.
import { describe, expect, it } from "vitest";
import { consoleCommand, isLocalAddress, shellQuote } from "../src/commands/console.js";

const con = {
  instance: "i1.example.com",
  kind: "ssh",
  host: "node2.example.com",
  port: 2222,
  user: "root",
  command: ["socat", "STDIO,raw,echo=0,escape=0x1d", "UNIX-CONNECT:/var/run/x y.serial"],
};

describe("console command", () => {
  it("runs the node's command as is when the node is this machine", () => {
    expect(consoleCommand(con, true)).toEqual(con.command);
  });

  it("goes over ssh with a terminal, no escape character and the node's ssh port otherwise", () => {
    expect(consoleCommand(con, false)).toEqual([
      "ssh",
      "-oEscapeChar=none",
      "-oBatchMode=yes",
      "-t",
      "-p",
      "2222",
      "root@node2.example.com",
      "socat STDIO,raw,echo=0,escape=0x1d 'UNIX-CONNECT:/var/run/x y.serial'",
    ]);
  });

  it("quotes for a POSIX shell and knows loopback as local", () => {
    expect(shellQuote(["a", "b c", "it's"])).toBe(`a 'b c' 'it'\\''s'`);
    expect(isLocalAddress("127.0.0.12")).toBe(true);
    expect(isLocalAddress("192.0.2.200")).toBe(false);
  });
});
