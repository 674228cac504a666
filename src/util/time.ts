// JupyterHub's timestamp format: ISO-8601 UTC with microseconds and Z (2026-11-23T15:00:37.659000Z), null when unset.
// A stored time no Date can hold (written before the API checked its inputs) reads as unset rather than failing a
// whole listing.
export function isoTime(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace('Z', '000Z');
}

/** Parses an ISO-8601 time; naive times are UTC as in JupyterHub. Returns NaN when unparsable. */
export function parseIsoTime(s: string): number {
  if (typeof s !== 'string' || !/^\d{4}-\d\d-\d\d/.test(s)) return NaN;
  let t = s.trim();
  const hasZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(t);
  // JS Date keeps only milliseconds; cut longer fractions so microseconds parse.
  t = t.replace(/(\.\d{3})\d+/, '$1');
  return Date.parse(hasZone ? t : t + 'Z');
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects: callers check the signal themselves). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `p`, or a rejection with `message` after `ms` (the timer cleared either way). */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
