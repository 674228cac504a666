// SlurmSpawner against a real one-node Slurm (test/support/slurm.ts): the hub, in its own process, submits each
// server as a batch job as the system user (sudo -E -u), the real jupyterhub-singleuser runs in it behind
// bin/nodehub-batchspawner-singleuser, which reports its port through POST /hub/api/batchspawner. One cluster and one
// system user (logging in through PAM) for the whole file; each case leaves the user with no server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, testConfig } from './support/hub.ts';
import { freePort, ROOT, startHubProcess, type HubProcess } from './support/hub-process.ts';
import { slurmMissing, startSlurmCluster, type SlurmCluster } from './support/slurm.ts';
import { ask, formPost, formSession } from './support/raw-http.ts';

const missing = slurmMissing() ?? (() => {
  try {
    execFileSync('which', ['jupyterhub-singleuser'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'jupyterhub-singleuser is not installed';
  }
})();
if (missing) console.warn(`test/spawner-slurm: skipped: ${missing}`);

const USER = `nhs${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const adminToken = randomBytes(16).toString('hex');
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
let dir = '';
let cluster: SlurmCluster;
let hub: HubProcess | null = null;
let origin = '';
let configFile = '';

beforeAll(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'nodehub-slurm-'));
  cluster = await startSlurmCluster(dir);
  execFileSync('useradd', ['-m', '-s', '/bin/bash', USER]);
  execFileSync('chpasswd', [], { input: `${USER}:${PASSWORD}\n` });
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  configFile = join(dir, 'nodehub.json');
  writeFileSync(configFile, JSON.stringify(testConfig(dir, adminToken, {
    // seed 004's pairing: PAM logins (sessions opened at spawn), servers as Slurm jobs
    JupyterHub: { port, spawner_class: 'batchspawner.SlurmSpawner', authenticator_class: 'pam', log_level: 'info' },
    Authenticator: { allow_all: true },
    // the job needs SLURM_CONF for srun; PATH so that it finds jupyterhub-singleuser
    Spawner: {
      cmd: ['jupyterhub-singleuser'], env_keep: ['PATH', 'LANG', 'SLURM_CONF'], environment: { NODEHUB_SLURM_MARK: 'from-{username}' },
      poll_interval: 1, start_timeout: 120, http_timeout: 60,
    },
    SlurmSpawner: { batchspawner_singleuser_cmd: join(ROOT, 'bin/nodehub-batchspawner-singleuser'), req_runtime: '00:10:00', startup_poll_interval: 0.2 },
  })));
  hub = await startHubProcess(configFile, origin, 20_000, cluster.env);
  expect((await api(`/users/${USER}`, { method: 'POST' })).status).toBe(201);
}, 90_000);

afterAll(async () => {
  if (missing) return;
  if (process.env.NODEHUB_SLURM_LOG) writeFileSync(process.env.NODEHUB_SLURM_LOG, `${hub?.output()}\n${cluster?.output()}`);
  if (hub && hub.child.exitCode === null) {
    hub.child.kill('SIGKILL');
    await hub.exited;
  }
  await cluster?.stop();
  try {
    execFileSync('userdel', ['-r', USER], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${origin}/hub/api${path}`, { ...init, headers: { authorization: `token ${adminToken}`, ...init.headers } });

const jobsOf = () => cluster.run('squeue', ['-h', '-u', USER, '-o', '%i %T %u']).trim();

async function serverModel(): Promise<{ ready: boolean; pending: string | null; state: Record<string, unknown> } | undefined> {
  const r = await api(`/users/${USER}`);
  return (await r.json()).servers[''];
}

/** Reads the progress stream until `want` matches a message; returns every message seen. */
async function progressUntil(want: RegExp): Promise<string[]> {
  const res = await api(`/users/${USER}/server/progress`);
  const reader = res.body!.getReader();
  const seen: string[] = [];
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`progress ended before ${want}: ${seen.join(' | ')}`);
      buf += Buffer.from(value).toString();
      let at: number;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const line = buf.slice(0, at).replace(/^data: /, '');
        buf = buf.slice(at + 2);
        if (!line.startsWith('{')) continue;
        const ev = JSON.parse(line) as { message: string };
        seen.push(ev.message);
        if (want.test(ev.message)) return seen;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

async function userToken(): Promise<string> {
  const r = await api(`/users/${USER}/tokens`, { method: 'POST', body: JSON.stringify({ note: 'slurm test' }) });
  return (await r.json()).token;
}

describe.skipIf(!!missing)('SlurmSpawner on a real Slurm', () => {
  it('logs the user in through PAM, queues the job (position and reason on the progress page), runs the server as the user, reaches it through the proxy; a SIGKILLed hub adopts the job; stop cancels it', async () => {
    const form = await formSession(origin, '/hub/login');
    expect((await ask(origin, '/hub/login', formPost({ username: USER, password: `${PASSWORD}x`, _xsrf: form.xsrf }, { cookie: form.cookie }))).status).toBe(200);
    const login = await ask(origin, '/hub/login', formPost({ username: USER, password: PASSWORD, _xsrf: form.xsrf }, { cookie: form.cookie }));
    expect(login.status).toBe(302);
    expect(login.cookies['jupyterhub-hub-login']).toBeTruthy();
    // batchspawner puts user_options into the script's variables: this one holds the job
    const post = await api(`/users/${USER}/server`, { method: 'POST', body: JSON.stringify({ options: '--hold' }) });
    expect(post.status).toBe(202);
    const seen = await progressUntil(/pending in the queue: position 1 of 1 \(reason: JobHeldUser\)/);
    const jobId = /Job (\d+) submitted/.exec(seen.join('\n'))![1]!;
    expect(jobsOf()).toBe(`${jobId} PENDING ${USER}`);
    expect((await serverModel())?.pending).toBe('spawn');

    cluster.run('scontrol', ['release', jobId]);
    await eventually(async () => (await serverModel())?.ready, 90_000, 200);
    const token = await userToken();
    const status = await fetch(`${origin}/user/${USER}/api/status`, { headers: { authorization: `token ${token}` } });
    expect(status.status).toBe(200);
    expect(jobsOf()).toBe(`${jobId} RUNNING ${USER}`);
    // the route goes to the host squeue names, and Spawner.environment reached the server inside the job
    const routes = await (await api('/proxy')).json() as Record<string, { target: string }>;
    expect(routes[`/user/${USER}/`]?.target).toMatch(new RegExp(`^http://${cluster.node}:\\d+$`));
    const pid = execFileSync('pgrep', ['-u', USER, '-f', 'jupyterhub-singleuser'], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`NODEHUB_SLURM_MARK=from-${USER}`);
    // the job's own token may report, but only a port
    const serverToken = environ.find((e) => e.startsWith('JUPYTERHUB_API_TOKEN='))!.slice('JUPYTERHUB_API_TOKEN='.length);
    for (const port of ['"8888"', '70000', 'null']) {
      const bad = await fetch(`${origin}/hub/api/batchspawner`, { method: 'POST', headers: { authorization: `token ${serverToken}` }, body: `{"port": ${port}}` });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ status: 400, message: expect.stringMatching(/port must be an integer from 1 to 65535/) });
    }

    // the hub dies without a word; its successor finds the job by its id and routes to it again
    hub!.child.kill('SIGKILL');
    await hub!.exited;
    hub = await startHubProcess(configFile, origin, 30_000, cluster.env);
    expect((await serverModel())?.ready).toBe(true);
    expect((await fetch(`${origin}/user/${USER}/api/status`, { headers: { authorization: `token ${token}` } })).status).toBe(200);
    expect(hub.output()).toMatch(/Re-adopted 1 running servers/);

    const del = await api(`/users/${USER}/server`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(jobsOf()).not.toMatch(/RUNNING|PENDING/);
    expect(await serverModel()).toBeUndefined();
  }, 180_000);

  it('notices a job cancelled outside the hub and marks the server stopped', async () => {
    // an empty body: without one the hub reuses the last spawn's options, which held the job
    const post = await api(`/users/${USER}/server`, { method: 'POST', body: '{}' });
    expect([201, 202]).toContain(post.status);
    await eventually(async () => (await serverModel())?.ready, 90_000, 200);
    const jobId = jobsOf().split(' ')[0]!;
    cluster.run('scancel', [jobId]);
    await eventually(async () => (await serverModel()) === undefined, 30_000, 200);
    expect(hub!.output()).toMatch(new RegExp(`Batch job ${jobId} ended \\(scheduler: CANCELLED`));
  }, 150_000);

  it("fails a spawn whose job dies, with Slurm's state and the end of the job's log", async () => {
    // srun is a user_option too: `false` ends the script (set -e) before the server starts
    const post = await api(`/users/${USER}/server`, { method: 'POST', body: JSON.stringify({ srun: 'echo job-log-marker; false;' }) });
    expect([202, 500]).toContain(post.status);
    await eventually(async () => (await serverModel()) === undefined, 60_000, 200);
    const failure = (await progressUntil(/Spawn failed/)).pop()!;
    expect(failure).toMatch(/The batch job \d+ ended before its server .*\(scheduler: FAILED NonZeroExitCode\)/);
    expect(failure).toMatch(/job-log-marker/);
  }, 90_000);

  it('refuses a submit the scheduler rejects, with its message', async () => {
    const post = await api(`/users/${USER}/server`, { method: 'POST', body: JSON.stringify({ partition: 'nosuch' }) });
    expect(post.status).toBe(500);
    expect((await post.json()).message).toMatch(/invalid partition/i);
  }, 60_000);

  it('POST /hub/api/batchspawner takes only a server token, and only a port', async () => {
    expect((await fetch(`${origin}/hub/api/batchspawner`, { method: 'POST', body: '{"port": 1}' })).status).toBe(403);
    const asAdmin = await api('/batchspawner', { method: 'POST', body: '{"port": 1}' });
    expect(asAdmin.status).toBe(403);
    expect(await asAdmin.json()).toMatchObject({ status: 403, message: expect.stringMatching(/server's own API token/) });
  });
});
