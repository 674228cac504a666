// The hubs at work, one system at a time on a fresh hub: idle memory, logins per second, waves of mock single-user
// servers started at once (memory read while the largest wave runs), and a wave of real jupyter-servers.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createUsers, loginRate, spawnWave, stopWave } from '../lib/hub-load.ts';
import type { SpawnWave } from '../lib/hub-load.ts';
import { hubRssMiB } from '../lib/rss.ts';
import { formatMs } from '../lib/stats.ts';
import { NODEHUB_NODE, REPO_ROOT } from '../nodehub.ts';
import type { RunningHub } from '../reference.ts';
import type { Results, Target } from './report.ts';
import { SINGLEUSER, startSystem, SYSTEMS } from './systems.ts';
import type { SystemKey } from './systems.ts';

export interface WorkPlan {
  /** Sizes of the mock waves; the last one is left running while memory is read "under load". */
  mockWaves: readonly number[];
  /** Rounds of each mock wave but the last. */
  mockRounds: number;
  mockBudgetMs: number;
  realServers: number;
  realBudgetMs: number;
  loginWindowMs: number;
}

type Log = (m: string) => void;

function recordWave(res: Results, system: SystemKey, label: string, wave: SpawnWave, budgetMs: number,
  targets: { first?: Target; all?: Target } = {}): void {
  const first = res.row(`${label}: first ready`, 'ms', targets.first);
  const half = res.row(`${label}: half ready`, 'ms');
  const all = res.row(`${label}: all ready`, 'ms', targets.all);
  res.add(first, system, wave.firstMs);
  res.add(half, system, wave.medianMs);
  if (wave.failed === 0) res.add(all, system, wave.allMs);
  else if (wave.error?.includes('timeout') || wave.error?.includes('within the budget')) res.over(all, system, budgetMs);
  else res.fail(all, system, `${wave.failed} of ${wave.ready + wave.failed} failed, e.g. ${wave.error}`);
}

async function mockRun(res: Results, system: SystemKey, plan: WorkPlan, log: Log): Promise<void> {
  const hub = await startSystem(system);
  try {
    // Let start-up garbage settle before the idle reading.
    await sleep(2_000);
    res.add(res.row('RSS idle after start-up (hub + proxy processes)', 'MiB', { text: '≤ 70 MiB', max: 70 }), system, hubRssMiB(hub));
    const logins = await loginRate(hub, 'form', plan.loginWindowMs);
    const formRow = res.row('logins per second, DummyAuthenticator form POST /hub/login (8 clients)', '/s');
    if (logins.failed > 0) res.fail(formRow, system, `${logins.failed} failed logins, e.g. ${logins.error}`);
    res.add(formRow, system, logins.perSecond);
    if (system === 'jupyterhub') res.add(tmpRow(res), system, logins.perSecond);
    log(`${system}: ${logins.logins} form logins, ${logins.perSecond.toFixed(0)}/s`);

    const last = plan.mockWaves.length - 1;
    for (const [i, size] of plan.mockWaves.entries()) {
      for (let round = 0; round < (i === last ? 1 : plan.mockRounds); round++) {
        const names = Array.from({ length: size }, (_, k) => `w${size}r${round}u${k}`);
        await createUsers(hub, names);
        const wave = await spawnWave(hub, names, plan.mockBudgetMs);
        recordWave(res, system, `${size} mock servers started at once`, wave, plan.mockBudgetMs,
          size === 50 ? { all: { text: '≤ 2 s', max: 2_000 } } : {});
        log(`${system}: ${size} mock spawns: first ${formatMs(wave.firstMs)}, all ${formatMs(wave.allMs)}, ${wave.failed} failed`);
        if (i === last) {
          res.add(res.row(`RSS with ${size} mock servers running (hub + proxy processes)`, 'MiB'), system, hubRssMiB(hub));
        } else {
          const ms = await stopWave(hub, names);
          log(`${system}: ${size} servers stopped in ${formatMs(ms)}`);
        }
      }
    }
  } finally {
    await hub.stop();
  }
}

function tmpRow(res: Results) {
  return res.row('temporary-user logins per second (JupyterHub: DummyAuthenticator form POST; nodehub: GET /hub/tmplogin, tmp authenticator)', '/s');
}

async function tmpLogins(res: Results, plan: WorkPlan, log: Log): Promise<void> {
  const hub = await startSystem('nodehub', { tmp: true });
  try {
    const logins = await loginRate(hub, 'tmplogin', plan.loginWindowMs);
    if (logins.failed > 0) res.fail(tmpRow(res), 'nodehub', `${logins.failed} failed logins, e.g. ${logins.error}`);
    res.add(tmpRow(res), 'nodehub', logins.perSecond);
    log(`nodehub: ${logins.logins} tmplogins, ${logins.perSecond.toFixed(0)}/s`);
  } finally {
    await hub.stop();
  }
}

async function realRun(res: Results, system: SystemKey, plan: WorkPlan, log: Log): Promise<void> {
  let hub: RunningHub | undefined;
  try {
    hub = await startSystem(system, { cmd: [SINGLEUSER] });
    const names = Array.from({ length: plan.realServers }, (_, k) => `real${k}`);
    await createUsers(hub, names);
    const wave = await spawnWave(hub, names, plan.realBudgetMs);
    recordWave(res, system, `${plan.realServers} jupyter-servers started at once`, wave, plan.realBudgetMs,
      { first: { text: '≤ 2 s', max: 2_000 }, all: plan.realServers === 50 ? { text: '≤ 12 s', max: 12_000 } : undefined });
    log(`${system}: ${plan.realServers} jupyter-servers: first ${formatMs(wave.firstMs)}, all ${formatMs(wave.allMs)}, ${wave.failed} failed`);
  } finally {
    // The hub stops its servers on SIGTERM; whatever is left is killed by the sweep of its temp dir.
    await hub?.stop();
  }
}

/** What a hello-world server holds on the same Node, idle as the hubs are read (lib/hello-rss.cjs): the scale for the
 *  idle-RSS row. */
function helloRssNote(): string {
  const rss = (kind: string): string => {
    try {
      return `${execFileSync(NODEHUB_NODE, [join(REPO_ROOT, 'bench', 'lib', 'hello-rss.cjs'), kind], { encoding: 'utf8', timeout: 30_000 }).trim()} MiB`;
    } catch (err) {
      return `n/a (${(err as Error).message.split('\n')[0]})`;
    }
  };
  return `for scale, idle RSS of a hello-world server on nodehub's Node after one request: node:http alone ${rss('http')}, ` +
    `fastify ${rss('fastify')}`;
}

export async function workPhase(res: Results, plan: WorkPlan, log: Log): Promise<void> {
  for (const system of SYSTEMS) {
    try {
      await mockRun(res, system, plan, log);
    } catch (err) {
      res.notes.push(`${system}: mock-server steps stopped: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  res.notes.push(helloRssNote());
  try {
    await tmpLogins(res, plan, log);
  } catch (err) {
    res.notes.push(`nodehub: tmplogin step failed: ${(err as Error).message.split('\n')[0]}`);
  }
  // The real servers load both cores; nodehub goes first here, JupyterHub went first above.
  for (const system of [...SYSTEMS].reverse()) {
    try {
      await realRun(res, system, plan, log);
    } catch (err) {
      res.notes.push(`${system}: jupyter-server step stopped: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
