// Waiting on state that changes through real processes, without a fixed sleep.

/** Polls until fn() is truthy; for waiting on state that changes through real processes. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
