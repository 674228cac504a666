// deploy/examples/hpc: seed 004's jupyterhub_config.py (two hub instances over common.py and slurm.py), with only paths,
// host names and ports changed as an operator would, loads as it is and starts nodehub: a PAM user with a client
// certificate whose CN is on the hub's list logs in over https and gets a server running as their system account,
// reached through the hub as a Slurm job on a one-node cluster with the seed's partition and reservation. Where Slurm
// cannot run here, the local spawner stands in (the test's name says so).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { resolveSpawnerClass } from '../src/spawner/index.ts';
import { startHub, type RunningHub } from '../src/hub/start.ts';
import type { HubConfig } from '../src/config/types.ts';
import { eventually } from './support/hub.ts';
import { executeOverWebsocket } from './support/kernel.ts';
import { createUserToken } from '../src/hub/commands.ts';
import { freePort, ROOT } from './support/hub-process.ts';
import { hasOpenssl, makePki, type Pki } from './support/pki.ts';
import { slurmMissing, startSlurmCluster, type SlurmCluster } from './support/slurm.ts';

const EXAMPLE = path.join(ROOT, 'deploy/examples/hpc');
const hasSlurm = (() => {
  try {
    resolveSpawnerClass('batchspawner.SlurmSpawner');
    return true;
  } catch {
    return false;
  }
})();
const canRun = process.getuid?.() === 0 && hasOpenssl && fs.existsSync('/usr/bin/jupyterhub-singleuser') && (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import pamela']);
    return true;
  } catch {
    return false;
  }
})();

// Slurm where it can run here (root, slurm-wlm, munge): the seed's own spawner, its partition and reservation
const useSlurm = hasSlurm && slurmMissing() === null;

const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const STUDENT = `nhx${tag}`;
const PASSWORD = 'a star is born 42';

let dir: string;
let pki: Pki;

/** Copies the example into dir with the operator's edits: paths, the private IP, ports, and the test's user name. */
async function install(ports: Record<string, number>): Promise<void> {
  for (const f of fs.readdirSync(EXAMPLE)) {
    if (!f.endsWith('.py') || (f === 'slurm.py' && !hasSlurm)) continue;
    let text = fs.readFileSync(path.join(EXAMPLE, f), 'utf8')
      .replaceAll('/var/lib/nodehub', path.join(dir, 'run'))
      .replaceAll("PKI = '/etc/pki'", `PKI = '${dir}/pki'`)
      .replaceAll('10.0.0.1', '127.0.0.1')
      .replaceAll('student01', STUDENT);
    for (const [from, to] of Object.entries(ports)) text = text.replaceAll(`= ${from}`, `= ${to}`);
    fs.writeFileSync(path.join(dir, f), text);
  }
}

describe('deploy/examples/hpc loads', () => {
  it(`reads both instances with their own ports, databases, cookie secrets and base_urls${hasSlurm ? '' : ' (slurm.py absent: no Slurm spawner in this build)'}`, async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-hpc-'));
    try {
      await install({});
      const [astro, students] = await Promise.all(['astro.py', 'astro-students.py'].map((f) => loadConfig({ file: path.join(dir, f), env: {} })));
      const hubOf = (c: HubConfig) => [c.hub.port, c.hub.hub_port, c.hub.base_url, c.hub.db_url, c.hub.cookie_secret_file];
      expect(hubOf(astro)).toEqual([8443, 8081, '/astro/', `sqlite:///${dir}/run/jupyterhub-astro.sqlite`, `${dir}/run/jupyterhub-astro_cookie_secret`]);
      expect(hubOf(students)).toEqual([8444, 8082, '/astro-students/', `sqlite:///${dir}/run/jupyterhub-astro-students.sqlite`, `${dir}/run/jupyterhub-astro-students_cookie_secret`]);
      expect(astro.hub.authenticator_class).toBe('pam');
      expect([astro.hub.ssl_cert, astro.hub.ssl_key, astro.hub.ssl_client_ca]).toEqual([
        `${dir}/pki/certs/hub.example.org.crt`, `${dir}/pki/certs/hub.example.org.key`, `${dir}/pki/tls/certs/jupyter-bundle.crt`]);
      expect(astro.authenticator.allowed_users).toEqual(['student02', STUDENT, 'user1', 'user2'].sort());
      expect(astro.hub.ssl_client_allowed_cns).toEqual(['user1', 'user2', STUDENT, 'student02']);
      expect(astro.hub.hub_ip).toBe('127.0.0.1');
      if (hasSlurm) {
        expect(astro.hub.spawner_class).toBe('batchspawner.SlurmSpawner');
        expect(astro.spawner).toMatchObject({ req_nprocs: '4', req_partition: 'slims', req_memory: '4G' });
      } else {
        expect(astro.hub.spawner_class).toBe('localprocess');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!canRun)(`deploy/examples/hpc starts: a PAM user with an admitted certificate gets a server${useSlurm ? ' as a Slurm job' : ' (local spawner: Slurm cannot run here)'}`, () => {
  let hub: RunningHub;
  let cluster: SlurmCluster | undefined;
  const slurmConf = process.env.SLURM_CONF;
  let config: HubConfig;
  let origin: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-hpc-'));
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(path.join(dir, 'run'), { mode: 0o700 });
    execFileSync('useradd', ['-m', '-s', '/bin/sh', STUDENT]);
    execFileSync('chpasswd', [], { input: `${STUDENT}:${PASSWORD}\n` });
    // the seed's PKI layout: certs/<fqdn>.crt|key, tls/certs/jupyter-bundle.crt (root + signing CA)
    fs.mkdirSync(path.join(dir, 'pki/certs'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'pki/tls/certs'), { recursive: true });
    pki = makePki(path.join(dir, 'pki'));
    pki.ca('signing-ca', 'JupyterHub Signing CA');
    pki.issue('certs/hub.example.org', 'localhost', 'signing-ca', { server: true });
    fs.copyFileSync(pki.crt('signing-ca'), path.join(dir, 'pki/tls/certs/jupyter-bundle.crt'));
    pki.issue(STUDENT, STUDENT, 'signing-ca');
    pki.issue('student03', 'student03', 'signing-ca');
    const [port, hubPort] = [await freePort(), await freePort()];
    await install({ 8443: port, 8081: hubPort });
    const file = path.join(dir, 'astro.py');
    if (useSlurm) {
      // the seed's cluster: partition `slims`, the reservation its script asks for, open to the user
      fs.mkdirSync(path.join(dir, 'slurm'));
      cluster = await startSlurmCluster(path.join(dir, 'slurm'), 32, 'slims');
      cluster.run('scontrol', ['create', 'reservation', 'ReservationName=harvard', 'StartTime=now', 'Duration=infinite',
        'Nodes=ALL', `Users=${STUDENT}`]);
      // sbatch finds the cluster through SLURM_CONF, kept in the jobs' environment (env_keep below)
      process.env.SLURM_CONF = cluster.conf;
    }
    const overrides = {
      ...(useSlurm
        // where this machine keeps the port-reporting wrapper (the seed's nodes have batchspawner's own)
        // and the test cluster's slurm.conf, which a real submit node has in /etc/slurm
        ? { 'SlurmSpawner.batchspawner_singleuser_cmd': path.join(ROOT, 'bin/nodehub-batchspawner-singleuser'),
          'Spawner.env_keep': JSON.stringify(['PATH', 'LANG', 'LC_ALL', 'SLURM_CONF']) }
        // the local spawner stands in for Slurm, running the real jupyterhub-singleuser as the user
        : { 'JupyterHub.spawner_class': 'localprocess' }),
      'Spawner.http_timeout': '90',
      'Spawner.start_timeout': '90',
      'JupyterHub.log_level': process.env.NODEHUB_TEST_LOG_LEVEL ?? 'ERROR',
      // the example keeps servers across hub restarts; the test's must go with its hub
      'JupyterHub.cleanup_servers': 'true',
    };
    config = await loadConfig({ file, env: {}, overrides });
    hub = await startHub(config, { env: {} });
    origin = `https://127.0.0.1:${hub.port}`;
  }, 120_000);

  afterAll(async () => {
    await hub?.close();
    await cluster?.stop();
    if (slurmConf === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = slurmConf;
    try {
      execFileSync('userdel', ['-r', STUDENT], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** One https request with the user's certificate and cookies; the jar is updated from Set-Cookie. */
  function request(jar: Map<string, string>, cert: string, url: string, form?: Record<string, string>, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; location: string; body: string }>((resolve, reject) => {
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const req = https.request(`${origin}${url}`, {
        method: form ? 'POST' : 'GET', agent: false, servername: 'localhost', ca: fs.readFileSync(pki.crt('signing-ca')),
        cert: fs.readFileSync(pki.crt(cert)), key: fs.readFileSync(pki.key(cert)),
        headers: {
          ...headers,
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
        },
      }, (res) => {
        for (const c of res.headers['set-cookie'] ?? []) {
          const [pair] = c.split(';');
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, location: String(res.headers.location ?? ''), body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('logs in through PAM over https with the client certificate; the real singleuser runs as the system user, checks tokens over hub_port, and its kernel answers over wss', { timeout: 180_000 }, async () => {
    // a valid certificate whose CN the astro hub does not list
    expect((await request(new Map(), 'student03', '/astro/hub/login')).status).toBe(403);
    const jar = new Map<string, string>();
    const page = await request(jar, STUDENT, '/astro/hub/login');
    expect(page.status).toBe(200);
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const wrong = await request(jar, STUDENT, '/astro/hub/login', { username: STUDENT, password: 'not it', _xsrf: xsrf });
    expect(wrong.status).toBe(200);
    expect(jar.has('jupyterhub-hub-login')).toBe(false);
    const ok = await request(jar, STUDENT, '/astro/hub/login', { username: STUDENT, password: PASSWORD, _xsrf: xsrf });
    expect(ok.status).toBe(302);
    expect(jar.has('jupyterhub-hub-login')).toBe(true);
    // the spawn, as the browser follows the login's redirect
    await request(jar, STUDENT, '/astro/hub/spawn');
    // the user's own token (as `nodehub token` makes it): the server checks it with the hub over hub_port
    const token = await createUserToken(config, STUDENT);
    const auth = { authorization: `token ${token}` };
    await eventually(async () => {
      const r = await request(new Map(), STUDENT, `/astro/hub/api/users/${STUDENT}`, undefined, auth);
      return r.status === 200 && (JSON.parse(r.body) as { servers: Record<string, { ready: boolean }> }).servers['']?.ready;
    }, 90_000);
    const made = await request(new Map(), STUDENT, `/astro/user/${STUDENT}/api/kernels`, {}, auth);
    expect(made.status).toBe(201);
    const kernel = JSON.parse(made.body) as { id: string };
    const channels = `wss://127.0.0.1:${hub.port}/astro/user/${STUDENT}/api/kernels/${kernel.id}/channels`;
    const tlsClient = (cert: string) => ({
      headers: auth, servername: 'localhost', ca: fs.readFileSync(pki.crt('signing-ca')),
      cert: fs.readFileSync(pki.crt(cert)), key: fs.readFileSync(pki.key(cert)),
    });
    const out = await executeOverWebsocket(channels, 'import os; print(os.getuid(), os.getcwd())', 60_000, tlsClient(STUDENT));
    expect(out.trim()).toBe(`${execFileSync('id', ['-u', STUDENT]).toString().trim()} /home/${STUDENT}`);
    // the same kernel with a certificate the hub does not list: refused at the upgrade, before the server sees it
    await expect(executeOverWebsocket(channels, 'print(1)', 10_000, tlsClient('student03'))).rejects.toThrow('websocket upgrade refused: 403');
  });
});
