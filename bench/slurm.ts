// Spawns through Slurm: N users' servers requested at once, each a batch job on a one-node Slurm cluster this script
// starts (test/support/slurm.ts), nodehub's SlurmSpawner against JupyterHub 3.0 (Debian) with batchspawner 1.3.0 run
// from its source. Both run the real jupyterhub-singleuser behind batchspawner's own batchspawner-singleuser (so the
// same job script, the same port report), with the same settings: the default SlurmSpawner script, sudo -E -u as
// exec_prefix, startup_poll_interval 0.5 s. Needs root, slurm-wlm, munge, sudo and batchspawner's git tag v1.3.0
// (BATCHSPAWNER_SRC: a directory holding its batchspawner/ package).
//
// --login ldap (the default): each user logs in through LDAP like a browser (bench/lib/browser-spawn.ts) against a
// slapd started here (test/support/slapd.ts, StartTLS with a certificate made here), nodehub's LDAPAuthenticator against
// ldapauthenticator 1.3.2 run from its source (LDAPAUTHENTICATOR_SRC: a directory holding its ldapauthenticator/
// package; it needs Debian's python3-ldap3). The LDAP users are the system users the jobs run as.
// --login api: no login, the spawns are asked for through the REST API with the admin service's token.
//
//   node_modules/.bin/node bench/slurm.ts --n 5 --rounds 2 [--login api]
//
// Per round and system: the login time of each user (the form POST), the spawn→ready time of each server (ldap: GET
// /hub/spawn/<name> until the notebook page answers through the proxy; api: POST …/server until servers[""].ready,
// polled every 100 ms), the time until all are ready, the hub's CPU seconds over that span (JupyterHub: hub + CHP; the
// submit and query commands it runs are counted separately, as "commands"), and the hub's peak RSS.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makePki } from '../test/support/pki.ts';
import { BASE, hasSlapd, startSlapd, type Slapd } from '../test/support/slapd.ts';
import { startSlurmCluster } from '../test/support/slurm.ts';
import { openLoginPage } from './lib/browser-spawn.ts';
import { createUser, requestServer, stopServer, viaProxy, waitServerReady } from './lib/hub-api.ts';
import { cleanupAll } from './lib/procs.ts';
import { proxyPid, hubRssMiB } from './lib/rss.ts';
import { median } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';
import { startNodehub } from './nodehub.ts';
import { py, startReferenceHub, type RunningHub } from './reference.ts';

const { values: args } = parseArgs({ options: {
  n: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' }, login: { type: 'string', default: 'ldap' },
} });
const N = Number(args.n);
const ROUNDS = Number(args.rounds);
if (args.login !== 'ldap' && args.login !== 'api') throw new Error(`--login: ldap or api, not ${args.login}`);
const LDAP = args.login === 'ldap';
const SRC = process.env.BATCHSPAWNER_SRC ?? '/tmp/bs130';
if (!existsSync(join(SRC, 'batchspawner', 'singleuser.py'))) {
  throw new Error(`batchspawner's source is not at ${SRC}: git archive v1.3.0 batchspawner | tar -x -C ${SRC}`);
}
const LDAP_SRC = process.env.LDAPAUTHENTICATOR_SRC ?? '/tmp/ldap132';
if (LDAP) {
  if (!existsSync(join(LDAP_SRC, 'ldapauthenticator', 'ldapauthenticator.py'))) {
    throw new Error(`ldapauthenticator's source is not at ${LDAP_SRC}: git archive 1.3.2 ldapauthenticator | tar -x -C ${LDAP_SRC}`);
  }
  if (!existsSync('/usr/lib/python3/dist-packages/ldap3')) throw new Error('ldapauthenticator needs Debian\'s python3-ldap3 (apt-get install python3-ldap3)');
  if (!hasSlapd) throw new Error('--login ldap needs Debian\'s slapd');
}

// A directory every job can read: the cluster, batchspawner's package and its batchspawner-singleuser.
const shared = mkdtempSync(join(tmpdir(), 'nodehub-bench-slurm-'));
chmodSync(shared, 0o755);
const pkg = join(shared, 'py');
mkdirSync(pkg);
execFileSync('cp', ['-r', join(SRC, 'batchspawner'), pkg]);
execFileSync('chmod', ['-R', 'a+rX', pkg]);
const wrapper = join(shared, 'batchspawner-singleuser');
// sudo drops PYTHONPATH (it is on sudo's list of variables to remove, -E or not), so the path is in the script
writeFileSync(wrapper, `#!/usr/bin/python3\nimport sys\nsys.path.insert(0, ${JSON.stringify(pkg)})\nfrom batchspawner.singleuser import main\nmain()\n`, { mode: 0o755 });
mkdirSync(join(shared, 'cluster'));
const cluster = await startSlurmCluster(join(shared, 'cluster'), 64);
const users = Array.from({ length: N }, (_, i) => `nhbench${i}`);
for (const u of users) {
  try {
    execFileSync('id', [u], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/bash', u]);
  }
}
const env = { SLURM_CONF: cluster.conf };
const keep = ['PATH', 'LANG', 'SLURM_CONF'];
const password = (u: string) => `${u}-ldap-pw`;

// The directory: one entry per system user, StartTLS with a certificate for 127.0.0.1 from a CA made here.
let slapd: Slapd | null = null;
let caPem = '';
if (LDAP) {
  const pki = makePki(mkdtempSync(join(shared, 'pki-')));
  pki.ca('ca', 'Bench CA');
  pki.issue('ldap', '127.0.0.1', 'ca', { server: true });
  caPem = readFileSync(pki.crt('ca'), 'utf8');
  slapd = await startSlapd({ users: users.map((u) => ({ uid: u, password: password(u) })), tls: { crt: pki.crt('ldap'), key: pki.key('ldap') } });
}
const bindDn = `uid={username},ou=people,${BASE}`;
// Both use ldapauthenticator 1.x's spelling: use_ssl False is StartTLS before the bind.
const nodehubLdap: Record<string, Record<string, unknown>> = LDAP ? {
  JupyterHub: { authenticator_class: 'ldapauthenticator.LDAPAuthenticator' },
  Authenticator: { allow_all: true },
  LDAPAuthenticator: { server_address: '127.0.0.1', server_port: slapd!.port, use_ssl: false, bind_dn_template: [bindDn], tls_kwargs: { ca: caPem } },
} : {};
const referenceLdap = LDAP ? [
  `c.JupyterHub.authenticator_class = 'ldapauthenticator.LDAPAuthenticator'`,
  `c.LDAPAuthenticator.server_address = '127.0.0.1'`,
  `c.LDAPAuthenticator.server_port = ${slapd!.port}`,
  'c.LDAPAuthenticator.use_ssl = False',
  `c.LDAPAuthenticator.bind_dn_template = [${py(bindDn)}]`,
] : [];

const systems: Record<string, () => Promise<RunningHub>> = {
  nodehub: () => startNodehub({
    node: '', mock: '', env, startTimeoutMs: 60_000,
    nodehubConfig: {
      ...nodehubLdap,
      JupyterHub: { ...nodehubLdap.JupyterHub, spawner_class: 'batchspawner.SlurmSpawner', log_level: 'WARN' },
      Spawner: { cmd: ['jupyterhub-singleuser'], env_keep: keep, http_timeout: 300, start_timeout: 600 },
      SlurmSpawner: { batchspawner_singleuser_cmd: wrapper, req_runtime: '01:00:00' },
    },
  }),
  [LDAP ? 'JupyterHub 3.0 + batchspawner 1.3.0 + ldapauthenticator 1.3.2' : 'JupyterHub 3.0 + batchspawner 1.3.0']: () => startReferenceHub({
    // the hub imports batchspawner (and ldapauthenticator); its jobs do not see this (env_keep leaves it out, and sudo
    // would drop it)
    node: '', mock: '', env: { ...env, PYTHONPATH: LDAP ? `${pkg}:${LDAP_SRC}` : pkg }, startTimeoutMs: 60_000,
    jupyterhubConfig: [
      'import batchspawner  # registers POST /hub/api/batchspawner',
      `c.JupyterHub.spawner_class = 'batchspawner.SlurmSpawner'`,
      `c.Spawner.cmd = ['jupyterhub-singleuser']`,
      `c.Spawner.env_keep = [${keep.map(py).join(', ')}]`,
      'c.Spawner.http_timeout = 300',
      'c.Spawner.start_timeout = 600',
      `c.SlurmSpawner.batchspawner_singleuser_cmd = ${py(wrapper)}`,
      `c.SlurmSpawner.req_runtime = '01:00:00'`,
      `c.JupyterHub.log_level = 'WARN'`,
      ...referenceLdap,
    ],
  }),
};

/** utime+stime and cutime+cstime of a process, in seconds. */
function cpu(pid: number): { own: number; children: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const tick = 100;
  return { own: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick };
}

interface Round { logins: number[]; latencies: number[]; all: number; cpu: number; commands: number; rss: number }

/** API mode: the admin token asks for every server; spawn→ready is until the user model says ready. */
async function apiSpawns(hub: RunningHub, t0: number): Promise<Pick<Round, 'logins' | 'latencies' | 'all'>> {
  const latencies = await Promise.all(users.map(async (u) => {
    await requestServer(hub, u);
    await waitServerReady(hub, u, 100, 600_000);
    return performance.now() - t0;
  }));
  const all = performance.now() - t0;
  for (const u of users) {
    const status = await viaProxy(hub, u);
    if (status >= 500) throw new Error(`${u}'s server answered ${status} through ${hub.name}'s proxy`);
  }
  return { logins: [], latencies, all };
}

async function round(hub: RunningHub): Promise<Round> {
  // The login pages are loaded before the clock starts: the measured part begins with the form submissions.
  const submits = LDAP ? await Promise.all(users.map((u) => openLoginPage(hub.url, u, password(u)))) : [];
  const pids = [hub.process.pid, proxyPid(hub)].filter((p): p is number => p !== undefined);
  const before = pids.map(cpu);
  let rss = hubRssMiB(hub);
  const sampler = setInterval(() => {
    if (!hub.process.hasExited()) rss = Math.max(rss, hubRssMiB(hub));
  }, 200);
  const t0 = performance.now();
  let spawns: Pick<Round, 'logins' | 'latencies' | 'all'>;
  let after: { own: number; children: number }[];
  try {
    if (LDAP) {
      const visits = await Promise.all(submits.map((submit) => submit()));
      console.error(`${hub.name}: last pages ${[...new Set(visits.map((v) => v.final.replace(/nhbench\d+/, '<u>')))].join(', ')}`);
      spawns = { logins: visits.map((v) => v.loginMs), latencies: visits.map((v) => v.spawnMs), all: Math.max(...visits.map((v) => v.readyAt)) - t0 };
    } else {
      spawns = await apiSpawns(hub, t0);
    }
    after = pids.map(cpu);
  } catch (err) {
    console.error(`${hub.name}: ${(err as Error).message}\n${hub.process.logTail(30)}`);
    throw err;
  } finally {
    clearInterval(sampler);
  }
  await Promise.all(users.map((u) => stopServer(hub, u, 120_000)));
  const sum = (xs: { own: number; children: number }[], k: 'own' | 'children') => xs.reduce((a, x) => a + x[k], 0);
  return { ...spawns, cpu: sum(after, 'own') - sum(before, 'own'), commands: sum(after, 'children') - sum(before, 'children'), rss };
}

const results: Record<string, Round[]> = {};
try {
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? Object.keys(systems) : Object.keys(systems).reverse();
    for (const name of order) {
      const hub = await systems[name]!();
      try {
        if (!LDAP) for (const u of users) await createUser(hub, u);
        const res = await round(hub);
        (results[name] ??= []).push(res);
        const login = LDAP ? `median login ${median(res.logins).toFixed(0)} ms, ` : '';
        console.error(`${name} round ${r + 1}: ${login}all ${N} ready in ${(res.all / 1000).toFixed(1)} s, hub CPU ${res.cpu.toFixed(2)} s, commands ${res.commands.toFixed(2)} s, peak RSS ${res.rss.toFixed(0)} MiB`);
      } finally {
        await hub.stop();
      }
    }
  }
} finally {
  await slapd?.stop();
  await cluster.stop();
  await cleanupAll();
  for (const u of users) {
    try {
      execFileSync('userdel', ['-r', u], { stdio: 'ignore' });
    } catch {
      console.error(`userdel ${u} failed (a process of theirs still running?): remove the user by hand`);
    }
  }
  rmSync(shared, { recursive: true, force: true });
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const how = LDAP ? 'each user logged in through LDAP by a scripted browser' : 'asked for through the REST API';
console.log(`\n${N} concurrent Slurm spawns (real jupyterhub-singleuser), ${how}, ${ROUNDS} rounds, medians (ranges):\n`);
const range = (xs: number[], f: (x: number) => string) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
// Per round: the median user's login and server, the whole wave, the hub's CPU and peak RSS.
const metrics: [string, (r: Round) => number, (x: number) => string][] = [
  ...(LDAP ? [['login, median user', (r: Round) => median(r.logins), ms] as [string, (r: Round) => number, (x: number) => string]] : []),
  ['spawn→ready, median server', (r) => median(r.latencies), s],
  ['all ready', (r) => r.all, s],
  ['hub CPU', (r) => r.cpu * 1000, (x) => `${(x / 1000).toFixed(2)} s`],
  ['commands CPU', (r) => r.commands * 1000, (x) => `${(x / 1000).toFixed(2)} s`],
  ['peak hub RSS', (r) => r.rss, (x) => `${x.toFixed(0)} MiB`],
];
console.log(markdownTable(['system', ...metrics.map(([h]) => h)], Object.entries(results).map(([name, rs]) => [
  name, ...metrics.map(([, f, fmt]) => range(rs.map(f), fmt)),
])));
const [nh, ref] = [results.nodehub, Object.entries(results).find(([k]) => k !== 'nodehub')?.[1]];
if (nh && ref) {
  const ratio = ([h, f]: (typeof metrics)[number]) => `${h} ${(median(ref.map(f)) / median(nh.map(f))).toFixed(2)}×`;
  console.log(`\nJupyterHub ÷ nodehub (medians): ${metrics.map(ratio).join(', ')}`);
}
