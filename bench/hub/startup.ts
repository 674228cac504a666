// Start-up with many users: both databases are filled directly (lib/populate.ts), then each hub is launched on them in
// turn, timed from launch to the first 200 on /hub/health through its public port. Right after, at the sizes asked
// for, the first and then warm `GET /hub/api/users?limit=200` are timed and the hub's memory is read.
import { join } from 'node:path';
import type { HubEndpoint } from '../lib/hub-api.ts';
import { populateJupyterhub, populateNodehub } from '../lib/populate.ts';
import { makeTempDir } from '../lib/procs.ts';
import { hubRssMiB } from '../lib/rss.ts';
import { formatMs } from '../lib/stats.ts';
import type { Results } from './report.ts';
import { startSystem, SYSTEMS } from './systems.ts';
import type { SystemKey } from './systems.ts';

export interface StartupPlan {
  sizes: readonly number[];
  /** Launches per system at a size (JupyterHub gets fewer at the largest sizes, where one launch takes many seconds). */
  rounds: (system: SystemKey, users: number) => number;
  startTimeoutMs: number;
  /** Sizes at which the users listing and RSS are measured after start-up. */
  listAt: readonly number[];
  warmCalls: number;
}

export const usersLabel = (n: number): string =>
  n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n);

async function timedGet(hub: HubEndpoint, path: string): Promise<{ ms: number; status: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(`${hub.url}${path}`, { headers: { Authorization: `token ${hub.token}` }, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { ms: performance.now() - t0, status: res.status, text };
}

async function populateAll(dir: string, sizes: readonly number[], log: (m: string) => void): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const file = (system: SystemKey, n: number) => join(dir, `${system}-${n}.sqlite`);
  // JupyterHub creates its own schema on a first start; users are then added beside it.
  const template = join(dir, 'jupyterhub-schema.sqlite');
  const first = await startSystem('jupyterhub', { dbFile: template });
  await first.stop();
  // One unmeasured nodehub launch too, so both start with warm caches (Python's bytecode, Node's compile cache), as
  // every launch but the first after an upgrade does.
  const warm = await startSystem('nodehub', { dbFile: join(dir, 'nodehub-warm-up.sqlite') });
  await warm.stop();
  const t0 = performance.now();
  // python3 fills JupyterHub's files on one core while this process fills nodehub's on the other.
  const jupyterhub = (async () => {
    for (const n of sizes) await populateJupyterhub(template, file('jupyterhub', n), n);
  })();
  for (const n of sizes) populateNodehub(file('nodehub', n), n);
  await jupyterhub;
  log(`databases for ${sizes.map(usersLabel).join(', ')} users written in ${formatMs(performance.now() - t0)}`);
  for (const n of sizes) for (const s of SYSTEMS) files.set(`${s}-${n}`, file(s, n));
  return files;
}

export async function startupPhase(res: Results, plan: StartupPlan, log: (m: string) => void): Promise<void> {
  const files = await populateAll(makeTempDir('dbs'), plan.sizes, log);
  // Rows in reading order: every start-up first, then the listings, then memory.
  const startRow = (n: number) => res.row(`start-up to first 200 on /hub/health, ${usersLabel(n)} users`, 'ms',
    n >= 100_000 ? { text: '≤ 0.3 s', max: 300 } : undefined);
  const firstRow = (n: number) => res.row(`first GET /hub/api/users?limit=200 after start-up, ${usersLabel(n)} users`, 'ms',
    n === 100_000 ? { text: '≤ 10 ms', max: 10 } : undefined);
  const warmRow = (n: number) => res.row(`warm GET /hub/api/users?limit=200 (${plan.warmCalls} calls after each first), ${usersLabel(n)} users`, 'ms');
  const rssRow = (n: number) => res.row(`RSS after those calls, ${usersLabel(n)} users (hub + proxy processes)`, 'MiB');
  plan.sizes.forEach(startRow);
  plan.listAt.forEach(firstRow);
  plan.listAt.forEach(warmRow);
  plan.listAt.forEach(rssRow);
  for (const n of plan.sizes) {
    const listing = plan.listAt.includes(n);
    const most = Math.max(...SYSTEMS.map((s) => plan.rounds(s, n)));
    for (let round = 0; round < most; round++) {
      // Alternate who goes first, so a slow phase of the machine does not always hit the same system.
      const order = round % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
      for (const system of order) {
        if (round >= plan.rounds(system, n)) continue;
        let hub;
        try {
          hub = await startSystem(system, { dbFile: files.get(`${system}-${n}`), startTimeoutMs: plan.startTimeoutMs });
        } catch (err) {
          const message = (err as Error).message;
          if (message.includes('did not answer within')) res.over(startRow(n), system, plan.startTimeoutMs);
          else res.fail(startRow(n), system, message);
          log(`${system} with ${usersLabel(n)} users: no start-up (${message.split('\n')[0]})`);
          continue;
        }
        res.add(startRow(n), system, hub.startupMs);
        let line = `${system} with ${usersLabel(n)} users: up in ${formatMs(hub.startupMs)}`;
        try {
          if (listing) {
            const first = await timedGet(hub, '/hub/api/users?limit=200');
            const listed = first.status === 200 ? (JSON.parse(first.text) as unknown[]).length : -1;
            if (listed !== Math.min(200, n)) throw new Error(`users listing gave HTTP ${first.status} with ${listed} users`);
            res.add(firstRow(n), system, first.ms);
            for (let i = 0; i < plan.warmCalls; i++) res.add(warmRow(n), system, (await timedGet(hub, '/hub/api/users?limit=200')).ms);
            res.add(rssRow(n), system, hubRssMiB(hub));
            line += `, first listing ${formatMs(first.ms)}`;
          }
        } catch (err) {
          res.fail(firstRow(n), system, (err as Error).message);
        } finally {
          await hub.stop();
        }
        log(line);
      }
    }
  }
}
