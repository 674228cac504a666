// Benchmark: the store on a database of 100,000 users (test/store-scale.test.ts builds the same one and asserts which
// statements run; the times are measured here). Prints one Markdown table: median and range of each operation over
// the rounds, beside the budget the test used to assert before it stopped timing.
//
//   node_modules/.bin/node bench/store-scale.ts [--rounds N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src/store/index.ts';
import type { Store } from '../src/store/types.ts';
import { formatMs, summarize } from './lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);
const userCount = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'nodehub-bench-store-'));
const file = join(dir, 'hub.sqlite');
try {
  const fill = await openStore(file);
  await fill.tx(async (s) => {
    for (let i = 0; i < userCount; i++) {
      const u = await s.users.create(`user-${i}`);
      if (i % 1000 === 999) {
        const rec = await s.servers.ensure(u.id, '');
        await s.servers.update(rec.id, { started: Date.now(), url: `http://127.0.0.1:${10000 + i / 1000}`, state: { pid: i } });
      } else if (i % 10 === 0) {
        await s.servers.ensure(u.id, '');
      }
    }
  });
  await fill.close();

  const rows: [string, number, number[]][] = [
    ['open the database (start-up)', 200, []],
    ['page of 200 users', 50, []],
    ['page of 200 active users', 50, []],
    ['page of 200 inactive users, offset 200', 50, []],
    ['last page (offset 99,900)', 50, []],
    ['active servers for re-adoption (100)', 50, []],
  ];
  const time = async (row: number, fn: () => unknown) => {
    const t = performance.now();
    await fn();
    rows[row]![2].push(performance.now() - t);
  };
  for (let r = 0; r < rounds; r++) {
    let store!: Store;
    await time(0, async () => (store = await openStore(file)));
    await store.users.page({ offset: 0, limit: 1 }); // first touch of the file's pages, as the test did
    await time(1, async () => await store.users.page({ offset: 0, limit: 200 }));
    await time(2, async () => await store.users.page({ offset: 0, limit: 200, state: 'active' }));
    await time(3, async () => await store.users.page({ offset: 200, limit: 200, state: 'inactive' }));
    await time(4, async () => await store.users.page({ offset: userCount - 100, limit: 200 }));
    await time(5, async () => await store.servers.listActive());
    await store.close();
  }
  const lines = ['| operation, 100,000 users | median | range | former test budget |', '|---|---|---|---|'];
  for (const [label, budget, samples] of rows) {
    const s = summarize(samples);
    lines.push(`| ${label} | ${formatMs(s.median)} | ${formatMs(s.min)}–${formatMs(s.max)} | < ${budget} ms |`);
  }
  process.stdout.write(`## Store at scale (${rounds} rounds, Node ${process.version})\n\n${lines.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
