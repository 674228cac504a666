// Benchmark: GET /hub/admin on a hub whose database holds 100,000 users (test/admin-scale.test.ts builds the same
// database and asserts which statements a page runs; the time is measured here). Target: the first page under 50 ms.
// Each request is timed from the client (fetch, over loopback, response body read), after one unmeasured warm-up.
// JupyterHub's admin page is a React app fed by /hub/api/users, so there is no like-for-like reference: only ours.
//
//   node_modules/.bin/node bench/admin-page.ts [--rounds N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src/store/index.ts';
import { startTestHub } from '../test/support/hub.ts';
import { login } from '../test/hub-protocol-support.ts';
import { fillUsers } from './lib/admin-fill.ts';
import { formatMs, summarize } from './lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '30' } } });
const rounds = Number(values.rounds);
const userCount = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'nodehub-bench-admin-'));
try {
  await fillUsers(await openStore(`sqlite:///${join(dir, 'nodehub.sqlite')}`), userCount);
  const hub = await startTestHub({ Authenticator: { admin_users: ['root'] }, JupyterHub: { log_level: 'error' } }, { dir });
  try {
    const cookie = await login(hub, 'root');
    const cases: [string, string][] = [
      ['first page (50 users, by name)', ''],
      ['first page by last activity', '?sort=last_activity&dir=desc'],
      ['page at offset 50,000', '?offset=50000'],
      ['search "user-4242"', '?q=user-4242'],
      ['search with no match', '?q=nobody'],
    ];
    const samples = new Map<string, number[]>(cases.map(([label]) => [label, []]));
    const timeOnce = async (query: string) => {
      const start = performance.now();
      const res = await fetch(`${hub.url}hub/admin${query}`, { headers: { cookie } });
      await res.text();
      if (res.status !== 200) throw new Error(`GET /hub/admin${query} answered ${res.status}`);
      return performance.now() - start;
    };
    for (const [, q] of cases) await timeOnce(q);
    for (let r = 0; r < rounds; r++) {
      for (const [label, q] of cases) samples.get(label)!.push(await timeOnce(q));
    }
    console.log(`GET /hub/admin, ${userCount.toLocaleString('en')} users, ${rounds} rounds (client-side, loopback)\n`);
    console.log('| page | median | min | max |');
    console.log('|---|---|---|---|');
    for (const [label] of cases) {
      const s = summarize(samples.get(label)!);
      console.log(`| ${label} | ${formatMs(s.median)} | ${formatMs(s.min)} | ${formatMs(s.max)} |`);
    }
  } finally {
    await hub.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
