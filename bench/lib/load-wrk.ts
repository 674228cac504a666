// The HTTP load generator: wrk 4.1 (Debian's `wrk`, written in C), one thread, keep-alive connections sending requests
// back to back. A Node generator costs 22–46 µs of CPU per request, more than the upstream and a third to a half of a
// proxy, on the same 2 cores as the system under test, so it capped every ratio; wrk costs a fraction of that (see
// bench/README.md, Proxy). Its done() hook (load-wrk.lua) hands back its CPU time and its whole latency histogram.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WRK = '/usr/bin/wrk';
const SCRIPT = fileURLToPath(new URL('./load-wrk.lua', import.meta.url));
/** Bytes of response headers a system may add to a body before the size check calls a response wrong. */
const MAX_HEADER_BYTES = 2048;

export interface WrkTrial {
  /** Responses with the expected status and size. */
  ok: number;
  /** Non-2xx/3xx responses, socket errors (connect, read, write, timeout) and responses of the wrong size. */
  errors: number;
  elapsedMs: number;
  /** Latency in µs → number of responses, one entry per answered request (wrk's correction undone, see uncorrect). */
  histogram: Map<number, number>;
  /** CPU microseconds wrk used in this trial (all its threads). */
  genCpuUs: number;
  firstError?: string;
}

/**
 * Makes sure /usr/bin/wrk exists: as root it installs Debian's package, otherwise it throws with what to do.
 * Returns wrk's version line.
 */
export function ensureWrk(log: (msg: string) => void): string {
  if (!existsSync(WRK)) {
    if (process.getuid?.() !== 0) {
      throw new Error(`${WRK} is missing: the proxy benchmark drives HTTP load with wrk. Install it as root with ` +
        '`apt-get install -y --no-install-recommends wrk` (Debian package wrk 4.1), then run the benchmark again.');
    }
    log(`${WRK} is missing: installing Debian's wrk package`);
    const install = (): boolean => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk'],
      { stdio: ['ignore', 2, 2], timeout: 300_000 }).status === 0;
    // A fresh machine may not have package lists yet.
    if (!install() && (spawnSync('apt-get', ['update'], { stdio: ['ignore', 2, 2], timeout: 300_000 }).status !== 0 ||
      !install())) {
      throw new Error(`${WRK} is missing and \`apt-get install -y --no-install-recommends wrk\` failed (see above)`);
    }
  }
  const v = spawnSync(WRK, ['-v'], { encoding: 'utf8', timeout: 10_000 });
  return `${v.stdout ?? ''}${v.stderr ?? ''}`.split('\n')[0]!.replace(/\s+Copyright.*$/, '').trim();
}

/**
 * wrk "corrects" its histogram for coordinated omission before done() sees it: for every latency L over twice the
 * mean interval I between a connection's requests it adds made-up samples at L−I, L−2I, … down to just above I
 * (stats_correct in wrk's stats.c). The rows here count real requests, like the websocket rows, so this takes those
 * samples out again. wrk reads each bin before any higher bin adds to it, so the original counts come back exactly,
 * from the top bin down: added(v) = original(v+I) + added(v+I) for v > I.
 */
export function uncorrect(corrected: ReadonlyMap<number, number>, intervalUs: number): Map<number, number> {
  if (intervalUs <= 0 || corrected.size === 0) return new Map(corrected);
  const values = [...corrected.keys()].sort((a, b) => b - a);
  const original = new Map<number, number>();
  const added = new Map<number, number>();
  for (const v of values) {
    const count = corrected.get(v)! - (added.get(v) ?? 0);
    if (count < 0) throw new Error(`undoing wrk's latency correction gave ${count} requests at ${v} µs`);
    if (count > 0) original.set(v, count);
    // Everything that lands on v−I: this bin's own samples and what higher bins pushed onto this one.
    if (v - intervalUs > intervalUs) added.set(v - intervalUs, count + (added.get(v) ?? 0));
  }
  // Bins that only made-up samples filled (no real request there) held exactly what was added; none may remain.
  for (const [v, n] of added) {
    if (!corrected.has(v) && n > 0) throw new Error(`wrk's histogram lacks ${n} made-up samples at ${v} µs`);
  }
  return original;
}

/** Reads what load-wrk.lua printed; `conns` and `expectBytes` are the trial's. */
export function parseWrkOutput(stdout: string, conns: number, expectBytes: number): WrkTrial {
  const line = (tag: string): number[] | undefined =>
    new RegExp(`^${tag} (.*)$`, 'm').exec(stdout)?.[1]!.trim().split(' ').map(Number);
  const cpu = line('wrk-cpu');
  const sum = line('wrk-summary');
  const end = line('wrk-end');
  if (!cpu || !sum || sum.length !== 8 || !end) throw new Error(`wrk printed no summary:\n${stdout.slice(0, 2000)}`);
  const [durationUs, responses, bytes, connect, read, write, status, timeout] = sum as [number, number, number,
    number, number, number, number, number];
  const corrected = new Map<number, number>();
  for (const m of stdout.matchAll(/^wrk-bin (\d+) (\d+)$/gm)) corrected.set(Number(m[1]), Number(m[2]));
  if (corrected.size !== end[0]) throw new Error(`wrk printed ${corrected.size} latency bins of ${end[0]}`);
  // The same integer arithmetic as wrk.c: interval = runtime ÷ (responses ÷ connections), if that is not 0.
  const perConn = Math.floor(responses / conns);
  const histogram = perConn > 0 ? uncorrect(corrected, Math.floor(durationUs / perConn)) : corrected;
  let recorded = 0;
  for (const n of histogram.values()) recorded += n;
  // Each response records one latency, except those over --timeout, which wrk counts as timeouts instead.
  if (recorded > responses || recorded < responses - timeout) {
    throw new Error(`wrk: ${recorded} latencies for ${responses} responses (${timeout} timeouts)`);
  }
  const problems: string[] = [];
  let ok = responses - status;
  if (status) problems.push(`${status} responses with status ≥ 400`);
  if (connect + read + write + timeout) {
    problems.push(`socket errors: connect ${connect}, read ${read}, write ${write}, timeout ${timeout}`);
  }
  // wrk does not look at bodies; a proxy answering 200 with an error page must not count as fast. The mean size of
  // what was read (partial responses at the end included) must fit the body plus headers.
  const mean = responses ? bytes / responses : 0;
  let wrongSize = 0;
  if (responses && (mean < expectBytes || mean > expectBytes + MAX_HEADER_BYTES)) {
    problems.push(`mean response of ${mean.toFixed(0)} bytes for a ${expectBytes}-byte body: every response counted as failed`);
    wrongSize = ok;
    ok = 0;
  }
  return {
    ok,
    errors: status + connect + read + write + timeout + wrongSize,
    elapsedMs: durationUs / 1000,
    histogram,
    genCpuUs: cpu[0]! * 1e6,
    firstError: problems.length ? `wrk: ${problems.join('; ')}` : undefined,
  };
}

/**
 * One trial: `conns` keep-alive connections on one wrk thread for `seconds` (wrk counts whole seconds). Requests
 * still unanswered when the time is up are counted neither as done nor as failed.
 */
export function wrkTrial(url: string, conns: number, seconds: number, expectBytes: number): Promise<WrkTrial> {
  const s = Math.max(1, Math.round(seconds));
  const args = ['-t1', `-c${conns}`, `-d${s}s`, '--timeout', '2s', '-s', SCRIPT, url];
  return new Promise((resolve, reject) => {
    // Its own process group, so that a stalled run can be killed whole.
    const child = spawn(WRK, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const kill = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    process.once('exit', kill);
    const timer = setTimeout(kill, (s + 20) * 1000);
    child.once('error', (e) => {
      clearTimeout(timer);
      process.off('exit', kill);
      reject(new Error(`wrk: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', kill);
      const stdout = Buffer.concat(out).toString('utf8');
      if (code !== 0) {
        reject(new Error(`wrk ${args.join(' ')} ended with ${signal ?? `exit code ${code}`}: ` +
          `${Buffer.concat(err).toString('utf8').trim() || stdout.slice(0, 500)}`));
        return;
      }
      try {
        resolve(parseWrkOutput(stdout, conns, expectBytes));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
