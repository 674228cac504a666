// Benchmark: how long one plain (not preloaded) server start blocks the hub's event loop, started from the hub's own
// process (child_process.spawn: spawnChild, the fallback) or through the launcher (forkserver.py --plain). The process
// first grows to a hub's size (--rss MiB, default 150: what a hub holds during an event), since a fork copies the
// parent's page tables. Then, per round and per way, --spawns servers (`sleep 60`, log file, own session, go gate) are
// started at --rate per second, as during an event storm, while the event loop's delay is sampled every millisecond.
// Rounds alternate the order. Reported per way: the hub's CPU per start, the event-loop delay (mean, p99, max) over the
// round, and the time from the request to a recorded pid.
//
//   node_modules/.bin/node bench/spawn-block.ts [--rounds 3] [--spawns 40] [--rate 10] [--rss 150]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { launchProcess, spawnChild, type LaunchRequest, type ServerProcess } from '../src/spawner/local/process.ts';
import { PlainLauncher } from '../src/spawner/local/preload/launcher.ts';
import { quietLog } from '../test/support/spawner-fixtures.ts';
import { formatMs, percentile } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    spawns: { type: 'string', default: '40' },
    rate: { type: 'string', default: '10' },
    rss: { type: 'string', default: '150' },
  },
});
const [rounds, spawns, rate, rssMiB] = [values.rounds, values.spawns, values.rate, values.rss].map(Number) as [number, number, number, number];

// a hub's heap: many small objects (sessions, routes, records), touched so their pages are mapped
const ballast: object[] = [];
while (process.memoryUsage().rss < rssMiB * 2 ** 20) {
  for (let i = 0; i < 10_000; i++) ballast.push({ id: i, name: `user-${i}-${Math.random()}`, seen: [i, i + 1, i + 2] });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-spawn-block-'));
const launcher = new PlainLauncher();
if (!(await launcher.warm(quietLog))) throw new Error('the launcher did not start');

interface Sample {
  cpuMs: number[];
  /** per round: event-loop delay mean, p99, max (ms) */
  delays: [number, number, number][];
  toPid: number[];
}
/** Stands for a start that costs nothing: the baseline of the timers and the delay sampling themselves. */
const nothing: ServerProcess = { pid: 0, preloaded: false, exit: { code: 0, signal: null }, onExit: (l) => l({ code: 0, signal: null }), release: () => {} };
const ways = {
  'nothing started (baseline)': async (_req: LaunchRequest) => nothing,
  'from the hub (child_process.spawn)': (req: LaunchRequest) => spawnChild(req),
  'through the launcher': (req: LaunchRequest) => launchProcess(req, null, launcher, quietLog),
} as const;
type Way = keyof typeof ways;
const results = new Map<Way, Sample>(Object.keys(ways).map((w) => [w as Way, { cpuMs: [], delays: [], toPid: [] }]));

async function round(way: Way, n: number): Promise<void> {
  const sample = results.get(way)!;
  const started: ServerProcess[] = [];
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const cpu0 = process.cpuUsage();
  histogram.enable();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < spawns; i++) {
    const req: LaunchRequest = {
      file: 'sleep', args: ['60'], cwd: dir, env: { PATH: '/usr/bin:/bin' }, logFile: path.join(dir, `${n}-${i}.log`),
      uid: null, cgroupProcs: [], rlimitAs: null,
    };
    const t0 = performance.now();
    pending.push(ways[way](req).then((proc) => {
      sample.toPid.push(performance.now() - t0);
      started.push(proc);
      proc.release();
    }));
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await Promise.all(pending);
  histogram.disable();
  const cpu = process.cpuUsage(cpu0);
  sample.cpuMs.push((cpu.user + cpu.system) / 1000 / spawns);
  // nanoseconds; a delay includes the 1 ms sampling interval
  sample.delays.push([histogram.mean / 1e6, histogram.percentile(99) / 1e6, histogram.max / 1e6]);
  for (const proc of started) if (proc.pid) process.kill(-proc.pid, 'SIGKILL');
  await Promise.all(started.map((p) => new Promise((r) => p.onExit(r))));
}

// the launcher's socket does not hold the event loop open (a hub's listening socket does)
const keepAlive = setInterval(() => {}, 1000);
const rssNow = Math.round(process.memoryUsage().rss / 2 ** 20);
const order = Object.keys(ways) as Way[];
for (let n = 0; n < rounds; n++) {
  for (const way of n % 2 ? [...order].reverse() : order) await round(way, n);
}
await launcher.close();
clearInterval(keepAlive);
fs.rmSync(dir, { recursive: true, force: true });

const med = (xs: number[]) => percentile(xs, 50);
const rows = order.map((way) => {
  const s = results.get(way)!;
  const col = (i: number) => s.delays.map((r) => r[i]!);
  return [way, formatMs(med(s.cpuMs)), formatMs(med(col(0))), formatMs(med(col(1))), formatMs(Math.max(...col(2))),
    formatMs(percentile(s.toPid, 50)), formatMs(percentile(s.toPid, 99))];
});
console.log(`${rounds} rounds x ${spawns} starts of \`sleep 60\` at ${rate}/s, hub process at ${rssNow} MiB RSS, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}\n`);
console.log(markdownTable(
  ['plain server start', { title: 'hub CPU / start', align: 'right' }, { title: 'loop delay mean', align: 'right' },
    { title: 'p99', align: 'right' }, { title: 'max', align: 'right' }, { title: 'request → pid p50', align: 'right' },
    { title: 'p99', align: 'right' }],
  rows,
));
