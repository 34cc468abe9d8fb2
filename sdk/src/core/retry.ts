// Retries with full-jitter exponential backoff, for idempotent requests only.
// Job-submitting calls (every PUT/POST/DELETE, and the two GETs that submit a
// job) are never retried: a retry after a lost response could run the
// operation twice.

export interface RetryOptions {
  /** Extra attempts after the first (default 2). */
  retries: number;
  /** First backoff in ms (default 200). */
  minDelayMs: number;
  /** Cap for one backoff in ms (default 5000). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 2, minDelayMs: 200, maxDelayMs: 5_000 };

/** Status codes worth retrying: the master daemon briefly unreachable or busy. */
export const RETRYABLE_STATUS = new Set([502, 503]);

/** Connection-level error codes worth retrying. */
export const RETRYABLE_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** Full jitter: uniform in [0, min(max, min * 2^attempt)]. */
export function backoffDelay(attempt: number, opts: RetryOptions, random: () => number): number {
  const cap = Math.min(opts.maxDelayMs, opts.minDelayMs * 2 ** attempt);
  return Math.round(random() * cap);
}

/** A sleep that rejects when the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
