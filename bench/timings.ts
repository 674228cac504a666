// Benchmark: in-process timings that tests used to assert and now only measure, each beside the test's former budget.
// Spawn and readiness times are measured end to end by bench/spawn.ts and bench/hub.ts.
//
//   node_modules/.bin/node bench/timings.ts [--rounds N]
import { parseArgs } from 'node:util';
import { RouteTable } from '../src/proxy/index.ts';
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
const lines = ['| operation | median | range | former test budget |', '|---|---|---|---|'];
for (const [label, budget, samples] of rows) {
  const s = summarize(samples);
  lines.push(`| ${label} | ${formatMs(s.median)} | ${formatMs(s.min)}–${formatMs(s.max)} | ${budget} |`);
}
process.stdout.write(`## In-process timings (${rounds} rounds, Node ${process.version})\n\n${lines.join('\n')}\n`);
