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
import { formatMs, summarize } from './lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);
const userCount = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'nodehub-bench-store-'));
const file = join(dir, 'hub.sqlite');
try {
  const fill = openStore(file);
  fill.transaction(() => {
    for (let i = 0; i < userCount; i++) {
      const u = fill.users.create(`user-${i}`);
      if (i % 1000 === 999) {
        const s = fill.servers.ensure(u.id, '');
        fill.servers.update(s.id, { started: Date.now(), url: `http://127.0.0.1:${10000 + i / 1000}`, state: { pid: i } });
      } else if (i % 10 === 0) {
        fill.servers.ensure(u.id, '');
      }
    }
  });
  fill.close();

  const rows: [string, number, number[]][] = [
    ['open the database (start-up)', 200, []],
    ['page of 200 users', 50, []],
    ['page of 200 active users', 50, []],
    ['page of 200 inactive users, offset 200', 50, []],
    ['last page (offset 99,900)', 50, []],
    ['active servers for re-adoption (100)', 50, []],
  ];
  const time = (row: number, fn: () => unknown) => {
    const t = performance.now();
    fn();
    rows[row]![2].push(performance.now() - t);
  };
  for (let r = 0; r < rounds; r++) {
    let store!: ReturnType<typeof openStore>;
    time(0, () => (store = openStore(file)));
    await store.users.page({ offset: 0, limit: 1 }); // first touch of the file's pages, as the test did
    time(1, () => await store.users.page({ offset: 0, limit: 200 }));
    time(2, () => await store.users.page({ offset: 0, limit: 200, state: 'active' }));
    time(3, () => await store.users.page({ offset: 200, limit: 200, state: 'inactive' }));
    time(4, () => await store.users.page({ offset: userCount - 100, limit: 200 }));
    time(5, () => await store.servers.listActive());
    store.close();
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
