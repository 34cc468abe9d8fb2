// Replays real exchanges recorded against Ganeti 3.0.2 (in $GANETI_ORACLE_DIR) as nock
// interceptors: method, path, exact query, request body (when one was sent),
// Content-Type and Authorization headers, status and response body.
import { readFileSync, readdirSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import nock from "nock";
import { afterEach, beforeAll, afterAll, expect } from "vitest";
import { GanetiClient, type GanetiClientOptions } from "../../src/index.js";

export const ORACLE = process.env.GANETI_ORACLE_DIR ?? "/work/shared/oracle";
export const BASE = "https://127.0.0.1:5080";

export interface Capture {
  seq: number;
  label: string;
  method: string;
  path: string;
  query: [string, string | number][];
  auth_user: string | null;
  request_headers_sent: string[];
  request_body: unknown;
  status: number;
  response_body: unknown;
  response_body_raw?: string | null;
}

export type CaptureSet = "captures" | "captures-3node";
const cache = new Map<string, string[]>();

export function capture(seq: number, set: CaptureSet = "captures"): Capture {
  let files = cache.get(set);
  if (!files) {
    files = readdirSync(`${ORACLE}/${set}`).filter((f) => /^\d{3}-.*\.json$/.test(f));
    cache.set(set, files);
  }
  const prefix = String(seq).padStart(3, "0") + "-";
  const f = files.find((x) => x.startsWith(prefix));
  if (!f) throw new Error(`no capture ${seq} in ${set}`);
  return JSON.parse(readFileSync(`${ORACLE}/${set}/${f}`, "utf8")) as Capture;
}

/** All captures of a set (for schema checks). */
export function allCaptures(set: CaptureSet): Capture[] {
  return readdirSync(`${ORACLE}/${set}`)
    .filter((f) => /^\d{3}-.*\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(`${ORACLE}/${set}/${f}`, "utf8")) as Capture);
}

function queryObject(pairs: [string, string | number][]): Record<string, string | string[]> {
  const o: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const s = String(v);
    const cur = o[k];
    if (cur === undefined) o[k] = s;
    else o[k] = Array.isArray(cur) ? [...cur, s] : [cur, s];
  }
  return o;
}

function header(c: Capture, name: string): string | undefined {
  const line = c.request_headers_sent.find((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

export interface MockOverrides {
  /** Replace the response body (e.g. to feed a wrong type). */
  response?: unknown;
  status?: number;
  /** Check the Authorization header as captured (default true). */
  auth?: boolean;
  /** Do not match the request body. */
  anyBody?: boolean;
  times?: number;
  /** Expect this request body instead of the captured one (our client's own spelling). */
  requestBody?: unknown;
}

/** Register one capture as a nock interceptor; returns the scope. */
export function mockCapture(c0: Capture, o: MockOverrides = {}): nock.Scope {
  const c = o.requestBody !== undefined ? { ...c0, request_body: o.requestBody } : c0;
  const scope = nock(BASE);
  const sendsBody = c.request_body !== null && c.request_body !== undefined && !o.anyBody;
  const bodyMatcher = sendsBody ? (b: unknown) => isDeepStrictEqual(b, c.request_body) : undefined;
  let ic = bodyMatcher ? scope.intercept(c.path, c.method, bodyMatcher) : scope.intercept(c.path, c.method);
  if (c.query.length) ic = ic.query(queryObject(c.query));
  if (sendsBody) scope.matchHeader("content-type", "application/json");
  const auth = header(c, "Authorization");
  if (auth && o.auth !== false) scope.matchHeader("authorization", auth);
  if (o.times) ic = ic.times(o.times);
  const body = o.response !== undefined ? o.response : c.response_body;
  const raw = c.response_body_raw ?? JSON.stringify(body);
  ic.reply(o.status ?? c.status, raw, { "Content-Type": "application/json" });
  return scope;
}

/** Mock captures by sequence number (ranges inclusive). */
export function mock(set: CaptureSet, ...seqs: (number | [number, number])[]): nock.Scope[] {
  const out: nock.Scope[] = [];
  for (const s of seqs) {
    if (Array.isArray(s)) for (let i = s[0]; i <= s[1]; i++) out.push(mockCapture(capture(i, set)));
    else out.push(mockCapture(capture(s, set)));
  }
  return out;
}

/** A client for the mocked server; no sleeping in tests (house rule 7). */
export function testClient(o: Partial<GanetiClientOptions> = {}): GanetiClient {
  return new GanetiClient({
    baseUrl: BASE,
    username: "admin",
    password: "secret",
    insecure: true,
    sleep: async () => undefined,
    random: () => 0.5,
    ...o,
  });
}

/** nock hygiene for a test file: no real network, every mock consumed. */
export function useNock(): void {
  beforeAll(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, "every nock mock is used").toEqual([]);
  });
  afterAll(() => {
    nock.enableNetConnect();
  });
}

/**
 * Mock a job submission and the recorded wait/poll exchanges that follow it
 * (every following capture on /2/jobs/ID...). Returns the job id.
 */
export function mockJob(set: CaptureSet, submitSeq: number, o: MockOverrides = {}): number {
  const sub = capture(submitSeq, set);
  mockCapture(sub, o);
  const id = Number(sub.response_body);
  for (let i = submitSeq + 1; ; i++) {
    let c: Capture;
    try {
      c = capture(i, set);
    } catch {
      break;
    }
    if (!c.path.startsWith(`/2/jobs/${id}`)) break;
    // Skip interleaved one-off reads (e.g. "GET /2/jobs/ID (just submitted)").
    if (!c.label.startsWith("job wait") && c.label !== sub.label) continue;
    mockCapture(c);
  }
  return id;
}
