// Benchmark: the proxy. Direct (client → upstream), a C byte relay (the floor of any user-space proxy),
// configurable-http-proxy 5.3, nodehub's standalone proxy and the whole nodehub hub, side by side in one run on loopback: small and 64 KiB responses at 1 and 50 keep-alive
// connections, websocket echo at 1 and 50 clients, ~10,000 idle websockets held, and 10,000 routes through the REST
// API. HTTP load comes from wrk (lib/load-wrk.ts, a C generator cheap enough not to cap the ratios), the rest from a
// separate Node process (lib/load.ts); rounds rotate the order of the systems so that slow phases of a noisy machine
// hit all of them. See bench/README.md.
//
//   node_modules/.bin/node bench/proxy.ts [--quick]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startLoadGenerator } from './lib/load.ts';
import type { LoadGenerator } from './lib/load.ts';
import { ensureWrk, wrkTrial } from './lib/load-wrk.ts';
import { cleanupAll, makeTempDir } from './lib/procs.ts';
import { HTTP_SCENARIOS, WS_SCENARIOS, addToHistogram, newSeries } from './lib/proxy-results.ts';
import type { IdleResult, Series, SystemResults } from './lib/proxy-results.ts';
import { report } from './lib/proxy-report.ts';
import { IDLE_PREFIX, MAIN_PREFIX, cpuNs, direct, fileLimit, rssBytes, startByteRelay, startChp, startHub, startNodehubProxy,
  startUpstream }
  from './lib/proxy-systems.ts';
import type { ProxySystem, Upstream } from './lib/proxy-systems.ts';

export interface Plan {
  quick: boolean;
  rounds: number;
  trialMs: number;
  idleSockets: number;
  holdMs: number;
  routes: number;
  /** wrk's version line. */
  wrk: string;
}

function plan(): Plan {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  // A proxied websocket costs the proxy two descriptors; keep ~200 for everything else.
  const idleSockets = Math.min(10_000, Math.floor((fileLimit() - 200) / 2));
  const wrk = ensureWrk(log);
  // wrk runs whole seconds, so a quick run has fewer rounds, not shorter trials.
  return values.quick
    ? { quick: true, rounds: 2, trialMs: 1_000, idleSockets, holdMs: 10_000, routes: 10_000, wrk }
    : { quick: false, rounds: 5, trialMs: 1_000, idleSockets, holdMs: 60_000, routes: 10_000, wrk };
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}
const wsUrl = (sys: ProxySystem, prefix: string): string => `${sys.url.replace(/^http/, 'ws')}${prefix}/ws`;
const rss = (sys: ProxySystem): number => (sys.process ? rssBytes(sys.process.pid) : NaN);

/** A trial from either generator: wrk reports a histogram and its own CPU, the Node generator a latency list. */
type Trial = { ok: number; errors: number; elapsedMs: number; latencies?: Float64Array; histogram?: Map<number, number>;
  genCpuUs?: number; firstError?: string };

/** Runs one trial and records its rate, latencies and the CPU the system's own process spent per operation. */
async function measure(s: Series, pid: number, genPid: number, run: () => Promise<Trial>): Promise<void> {
  const [cpu0, gen0] = [cpuNs(pid), cpuNs(genPid)];
  const r = await run();
  s.cpuPerOp.push((cpuNs(pid) - cpu0) / 1000 / Math.max(1, r.ok));
  s.genCpuPerOp.push((r.genCpuUs ?? (cpuNs(genPid) - gen0) / 1000) / Math.max(1, r.ok));
  s.rates.push(r.ok / (r.elapsedMs / 1000));
  if (r.latencies) s.latencies.push(r.latencies);
  if (r.histogram) addToHistogram(s.histogram, r.histogram);
  s.errors += r.errors;
  s.firstError ??= r.firstError;
}

/** Every scenario, `rounds` times; within a round each system runs each scenario once, the order rotating per round. */
async function throughput(p: Plan, gen: LoadGenerator, upstream: Upstream, systems: ProxySystem[],
  results: Map<string, SystemResults>): Promise<void> {
  const pidOf = (sys: ProxySystem): number => (sys.process ?? upstream.process).pid;
  for (let round = 0; round < p.rounds; round++) {
    const order = systems.map((_, i) => systems[(i + round) % systems.length]!);
    for (const sc of HTTP_SCENARIOS) {
      for (const sys of order) {
        await measure(results.get(sys.key)!.series.get(sc.id)!, pidOf(sys), gen.pid,
          () => wrkTrial(`${sys.url}${MAIN_PREFIX}/${sc.path}`, sc.conns, p.trialMs / 1000, sc.bytes));
      }
    }
    for (const sc of WS_SCENARIOS) {
      for (const sys of order) {
        await measure(results.get(sys.key)!.series.get(sc.id)!, pidOf(sys), gen.pid,
          () => gen.wsEcho(wsUrl(sys, MAIN_PREFIX), sc.clients, p.trialMs));
      }
    }
    log(`round ${round + 1}/${p.rounds} done`);
  }
}

/**
 * Idle websockets on every proxy at once (each with its own generator process and idle upstream, because one
 * process may hold only so many descriptors): opened and held on all of them together.
 */
async function idleSockets(p: Plan, dir: string, proxies: ProxySystem[], results: Map<string, SystemResults>): Promise<void> {
  const held: { sys: ProxySystem; gen: LoadGenerator; res: IdleResult }[] = [];
  try {
    for (const sys of proxies) {
      const gen = startLoadGenerator(`idle-${sys.key}`, dir);
      const res: IdleResult = { wanted: p.idleSockets, opened: 0, openFailed: 0, openMs: 0, holdMs: 0, closedWhileHeld: 0,
        echoed: 0, rssBefore: rss(sys), rssEnd: NaN, rssMax: NaN };
      results.get(sys.key)!.idle = res;
      held.push({ sys, gen, res });
    }
    // All proxies open theirs at once: it halves the phase, and each proxy's open time is then a same-load figure.
    await Promise.all(held.map(async ({ sys, gen, res }) => {
      try {
        const o = await gen.idleOpen(wsUrl(sys, IDLE_PREFIX), p.idleSockets);
        Object.assign(res, { opened: o.opened, openFailed: o.failed, openMs: o.elapsedMs });
        if (o.firstError) res.error = `open: ${o.firstError}`;
      } catch (err) {
        res.error = (err as Error).message;
      }
      log(`${sys.label}: ${res.opened} idle websockets open in ${(res.openMs / 1000).toFixed(1)} s`);
    }));
    const t0 = performance.now();
    while (performance.now() - t0 < p.holdMs) {
      for (const h of held) h.res.rssMax = Math.max(Number.isNaN(h.res.rssMax) ? 0 : h.res.rssMax, rss(h.sys));
      await sleep(Math.min(2_000, Math.max(0, p.holdMs - (performance.now() - t0))));
    }
    for (const h of held) {
      h.res.holdMs = performance.now() - t0;
      h.res.rssEnd = rss(h.sys);
      h.res.rssMax = Math.max(h.res.rssMax, h.res.rssEnd);
      try {
        const c = await h.gen.idleCheck(10_000);
        h.res.closedWhileHeld = c.closedWhileHeld;
        h.res.echoed = c.echoed;
      } catch (err) {
        h.res.error ??= (err as Error).message;
      }
    }
  } finally {
    for (const h of held) {
      await h.gen.idleClose().catch(() => undefined);
      await h.gen.stop();
    }
  }
}

async function routes(p: Plan, gen: LoadGenerator, sys: ProxySystem, upstream: Upstream, r: SystemResults): Promise<void> {
  if (!sys.api) return;
  try {
    const out = await gen.routes({ apiUrl: sys.api.url, token: sys.api.token, prefix: '/user/bench-', target: upstream.url,
      count: p.routes, listTimes: 5 });
    r.routes = { count: p.routes, ...out, rssAfter: rss(sys) };
  } catch (err) {
    r.routes = { count: p.routes, addLatencies: new Float64Array(), addTotalMs: NaN, listLatencies: new Float64Array(),
      listedRoutes: 0, listBytes: 0, rssAfter: rss(sys), error: (err as Error).message };
  }
  log(`${sys.label}: ${p.routes} routes added in ${(r.routes.addTotalMs / 1000).toFixed(1)} s`);
}

/**
 * Checks that a system answers both measured routes with the right bodies before anything is timed (wrk looks only at
 * status codes and the bytes it read, not at bodies).
 */
async function probe(sys: ProxySystem): Promise<void> {
  for (const sc of HTTP_SCENARIOS.filter((x) => x.conns === 1)) {
    const res = await fetch(`${sys.url}${MAIN_PREFIX}/${sc.path}`, { signal: AbortSignal.timeout(5_000) });
    const body = await res.arrayBuffer();
    if (res.status !== 200 || body.byteLength !== sc.bytes) {
      throw new Error(`${sys.label}: probe of /${sc.path} got HTTP ${res.status}, ${body.byteLength} bytes`);
    }
  }
}

async function main(): Promise<void> {
  const p = plan();
  // Whatever stalls, the run ends: exiting runs procs.ts's and load.ts's exit handlers, which kill every child.
  const budgetS = p.quick ? 150 : 420;
  setTimeout(() => {
    log(`bench/proxy.ts: over its ${budgetS} s budget, stopping`);
    process.exit(1);
  }, budgetS * 1000).unref();
  const t0 = performance.now();
  const dir = makeTempDir('proxy');
  const upstream = await startUpstream(dir, 'upstream');
  const starters = [
    { key: 'relay', start: (d: string, up: Upstream) => startByteRelay(d, up) },
    { key: 'chp', start: startChp },
    { key: 'nodehub', start: startNodehubProxy },
    { key: 'hub', start: startHub },
  ] as const;
  const systems: ProxySystem[] = [direct(upstream)];
  const results = new Map<string, SystemResults>();
  const blank = (key: ProxySystem['key'], label: string): SystemResults => ({ key, label, available: false, rssIdle: NaN,
    rssAfterLoad: NaN, series: new Map([...HTTP_SCENARIOS, ...WS_SCENARIOS].map((s) => [s.id, newSeries()])), notes: [] });
  results.set('direct', { ...blank('direct', 'direct'), available: true });
  for (const { key, start } of starters) {
    const r = blank(key, key);
    results.set(key, r);
    try {
      const idle = key === 'relay' ? upstream : await startUpstream(dir, `upstream-idle-${key}`);
      const sys = await start(dir, upstream, idle);
      await probe(sys);
      await sleep(500); // let start-up garbage settle before the idle RSS is read
      Object.assign(r, { label: sys.label, available: true, rssIdle: rss(sys), notes: sys.notes });
      systems.push(sys);
      log(`${sys.label} up at ${sys.url} (pid ${sys.process?.pid})`);
    } catch (err) {
      r.notes.push(`${key} unavailable: ${(err as Error).message.split('\n')[0]}`);
      log(`${key} unavailable: ${(err as Error).message}`);
    }
  }

  // Idle websockets first, on processes that have seen no load yet: their RSS is then what holding them costs, not
  // what a heap grown by the throughput runs keeps.
  // The byte relay has one upstream and no route API: it is there for the speed rows only.
  const proxies = systems.filter((s) => s.process !== undefined && s.key !== 'relay');
  await idleSockets(p, dir, proxies, results);
  const gen = startLoadGenerator('main', dir);
  try {
    for (const sys of systems) {
      await wrkTrial(`${sys.url}${MAIN_PREFIX}/small`, 50, 1, 100); // warm-up (JIT, pools), unrecorded
      await gen.wsEcho(wsUrl(sys, MAIN_PREFIX), 10, 200);
    }
    await throughput(p, gen, upstream, systems, results);
    for (const sys of systems) results.get(sys.key)!.rssAfterLoad = rss(sys);
    for (const sys of proxies) await routes(p, gen, sys, upstream, results.get(sys.key)!);
  } finally {
    await gen.stop();
  }
  process.stdout.write(report(p, [...results.values()], (performance.now() - t0) / 1000) + '\n');
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/proxy.ts: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
