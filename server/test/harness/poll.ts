// Polling for slow real-world state (guests booting, mirrors syncing, etcd
// electing): tests wait on a condition, never on a fixed sleep.

export interface PollOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** Pause between attempts (ms). */
  intervalMs?: number;
}

/**
 * Calls `fn` until it yields a value (anything but undefined, null or false)
 * and returns that value. A throwing attempt counts as "not yet": the state
 * being waited for often makes the probe fail first (a daemon not listening
 * yet). On timeout the error names `what` and the last failure seen.
 */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  { timeoutMs = 90_000, intervalMs = 200 }: PollOptions = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * `until` with a file's own defaults, so that a test file states once how
 * slow its world is: `const until = poller({ timeoutMs: 300_000 })`, and a
 * call may still pass its own timeout as the third argument.
 */
export function poller(defaults: PollOptions) {
  return <T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T> =>
    until(what, fn, { ...defaults, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}
