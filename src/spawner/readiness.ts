// The readiness check of spec 1.6: a server is up once its own URL answers anything below 500. Unlike JupyterHub's
// growing backoff we poll at a short fixed interval, so a server that is ready is noticed within a few milliseconds.
import { http } from '../util/builtins.ts';
import { sleep } from '../util/time.ts';

export interface ReadinessResult {
  status: number;
  /** The X-JupyterHub-Version the server reported, if any. */
  version: string | null;
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** True once the process behind the URL has exited; waiting stops at once instead of running into the timeout. */
  isDead?: () => boolean;
  /** Pause between attempts; fixed, not growing. */
  intervalMs?: number;
}

const DEFAULT_INTERVAL_MS = 25;
/** A server that accepted the connection but hangs gets this long per attempt before we try again. */
const ATTEMPT_TIMEOUT_MS = 5000;

export async function waitForHttp(url: string, opts: WaitOptions): Promise<ReadinessResult> {
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new Error(`waitForHttp: only http URLs are supported, got ${url}`);
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (opts.signal?.aborted) throw abortError(opts.signal, url);
    if (opts.isDead?.()) throw new Error(`Server at ${url} exited before it answered`);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new Error(`Server at ${url} did not answer within ${(opts.timeoutMs / 1000).toFixed(1)} s (last: ${lastProblem})`);
    }
    try {
      const result = await probe(target, Math.min(remaining, ATTEMPT_TIMEOUT_MS), opts.signal);
      if (result.status < 500) return result;
      lastProblem = `HTTP ${result.status}`;
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal, url);
      // an attempt the deadline cut short says nothing about the server; the problem before it does
      if (Date.now() < deadline || lastProblem === 'no answer yet') {
        lastProblem = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      }
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), opts.signal);
  }
}

/** One GET without redirects or auth; the body is drained and dropped. */
function probe(target: URL, timeoutMs: number, signal?: AbortSignal): Promise<ReadinessResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: 'GET', agent: false, timeout: timeoutMs, signal }, (res) => {
      const header = res.headers['x-jupyterhub-version'];
      const version = Array.isArray(header) ? (header[0] ?? null) : (header ?? null);
      res.resume();
      res.on('error', () => {});
      resolve({ status: res.statusCode ?? 0, version });
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function abortError(signal: AbortSignal, url: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason;
  return new Error(`Waiting for ${url} was aborted`);
}
