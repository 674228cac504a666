// Benchmark: in-process timings that tests used to assert and now only measure, each beside the test's former budget.
// Spawn and readiness times are measured end to end by bench/spawn.ts and bench/hub.ts, the store by store-scale.ts.
//
//   node_modules/.bin/node bench/timings.ts [--rounds N]
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RouteTable } from '../src/proxy/index.ts';
import { IdleCuller } from '../src/hub/culler.ts';
import { startTestHub } from '../test/support/hub.ts';
import { formatMs, summarize } from './lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);
const rows: [string, string, number[]][] = [
  ['route table: add 10,000 routes', '< 1000 ms', []],
  ['route table: match 10,000 paths', '< 500 ms', []],
];
for (let r = 0; r < rounds; r++) {
  const table = new RouteTable();
  const n = 10_000;
  const t0 = performance.now();
  table.add('/', 'http://127.0.0.1:9000', { hub: true });
  for (let i = 0; i < n; i++) table.add(`/user/u${i}/`, `http://127.0.0.1:${10000 + i}`, { user: `u${i}` });
  const added = performance.now();
  for (let i = 0; i < n; i++) if (table.match(`/user/u${i}/api/kernels/abc`)?.data.user !== `u${i}`) throw new Error(`wrong route for u${i}`);
  const matched = performance.now();
  rows[0]![2].push(added - t0);
  rows[1]![2].push(matched - added);
}
// The culler on 100,000 idle users (test/hub-culler.test.ts asserts the batches and the yielding).
{
  const hub = await startTestHub();
  try {
    const h = hub.running.hub;
    const now = Date.now();
    const total = 100_000;
    for (let batch = 0; batch < total / 1000; batch++) {
      await h.store.tx(async () => {
        for (let i = batch * 1000; i < (batch + 1) * 1000; i++) await h.store.users.touch((await h.store.users.create(`visitor-${i}`)).id, now - 3_600_000 - i);
      });
    }
    const culler = new IdleCuller(h, { timeoutMs: 600_000, everyMs: 3_600_000, maxAgeMs: 0, cullUsers: true });
    let t = performance.now();
    await culler.cullOnce(now - 7_200_000);
    rows.push(['culler: a round with nothing idle, 100,000 users', '< 50 ms', [performance.now() - t]]);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    t = performance.now();
    await culler.cullOnce(now);
    rows.push(['culler: cull 100,000 idle users', '< 60 s', [performance.now() - t]]);
    delay.disable();
    rows.push(['culler: longest event-loop block during that round', '< 250 ms', [delay.max / 1e6]]);
  } finally {
    await hub.close();
  }
}

const lines = ['| operation | median | range | former test budget |', '|---|---|---|---|'];
for (const [label, budget, samples] of rows) {
  const s = summarize(samples);
  lines.push(`| ${label} | ${formatMs(s.median)} | ${formatMs(s.min)}–${formatMs(s.max)} | ${budget} |`);
}
process.stdout.write(`## In-process timings (${rounds} rounds, Node ${process.version})\n\n${lines.join('\n')}\n`);
