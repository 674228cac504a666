// The compatibility test of `nodehub proxy`: Debian's JupyterHub 3.0, told not to start configurable-http-proxy, drives
// nodehub proxy through its REST API (routes for the hub and for a spawned server), and traffic reaches both through
// nodehub proxy's public port. JupyterHub's own error page comes back through --error-target.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, hubApi, requestServer, stopServer, waitServerReady } from '../bench/lib/hub-api.ts';
import type { HubEndpoint } from '../bench/lib/hub-api.ts';
import { freePort } from '../bench/lib/ports.ts';
import { cleanupAll, makeTempDir, startProcess, waitForUrl } from '../bench/lib/procs.ts';
import type { ManagedProcess } from '../bench/lib/procs.ts';

const ROOT = resolve(import.meta.dirname, '..');
const NODE24 = join(ROOT, 'node_modules/.bin/node');
const MOCK = join(ROOT, 'test/support/mock-singleuser.mjs');
const JUPYTERHUB = '/usr/bin/jupyterhub';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const py = (value: string): string => JSON.stringify(value); // JSON string escapes are valid Python

let proxy: ManagedProcess;
let hub: ManagedProcess;
let endpoint: HubEndpoint;
let apiUrl: string;
const proxyToken = randomBytes(32).toString('hex');

async function proxyApi(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${apiUrl}/api/routes${path}`, {
    method,
    headers: { Authorization: `token ${proxyToken}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe.skipIf(!existsSync(JUPYTERHUB))('JupyterHub 3.0 with nodehub proxy in place of configurable-http-proxy', () => {
  beforeAll(async () => {
    const dir = makeTempDir('chp-jupyterhub');
    const [port, apiPort, hubPort] = [await freePort(), await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    proxy = startProcess({
      name: 'nodehub-proxy',
      command: NODE24,
      args: [
        join(ROOT, 'src/cli.ts'), 'proxy', '--ip', '127.0.0.1', '--port', String(port), '--api-ip', '127.0.0.1',
        '--api-port', String(apiPort), '--error-target', `http://127.0.0.1:${hubPort}/hub/error`,
      ],
      cwd: dir,
      env: { PATH: SYSTEM_PATH, CONFIGPROXY_AUTH_TOKEN: proxyToken },
    });
    await waitForUrl(`http://127.0.0.1:${port}/_chp_healthz`, { process: proxy, accept: (s) => s === 200 });

    const serviceToken = randomBytes(32).toString('hex');
    const config = [
      `c.JupyterHub.ip = '127.0.0.1'`,
      `c.JupyterHub.port = ${port}`,
      `c.JupyterHub.hub_ip = '127.0.0.1'`,
      `c.JupyterHub.hub_port = ${hubPort}`,
      `c.JupyterHub.db_url = ${py(`sqlite:///${join(dir, 'jupyterhub.sqlite')}`)}`,
      `c.JupyterHub.cookie_secret_file = ${py(join(dir, 'jupyterhub_cookie_secret'))}`,
      `c.JupyterHub.authenticator_class = 'jupyterhub.auth.DummyAuthenticator'`,
      `c.JupyterHub.spawner_class = 'jupyterhub.spawner.SimpleLocalProcessSpawner'`,
      `c.JupyterHub.services = [{'name': 'test', 'api_token': ${py(serviceToken)}, 'admin': True}]`,
      `c.Spawner.cmd = [${py(NODE24)}, ${py(MOCK)}]`,
      `c.SimpleLocalProcessSpawner.home_dir_template = ${py(join(dir, 'home', '{username}'))}`,
      `c.ConfigurableHTTPProxy.should_start = False`,
      `c.ConfigurableHTTPProxy.api_url = ${py(apiUrl)}`,
      `c.ConfigurableHTTPProxy.auth_token = ${py(proxyToken)}`,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'jupyterhub_config.py'), config);
    hub = startProcess({
      name: 'jupyterhub',
      command: JUPYTERHUB,
      args: ['-f', join(dir, 'jupyterhub_config.py')],
      cwd: dir,
      env: { PATH: SYSTEM_PATH, HOME: dir, LANG: 'C.UTF-8' },
    });
    endpoint = { name: 'JupyterHub 3.0 + nodehub proxy', url: `http://127.0.0.1:${port}`, token: serviceToken };
    // 200 here means JupyterHub added its '/' route through our API and the hub is reached through our public port.
    await waitForUrl(`${endpoint.url}/hub/api`, { process: hub, timeoutMs: 60_000, accept: (s) => s === 200 });
  }, 90_000);

  afterAll(async () => {
    // SIGTERM to JupyterHub first, so it stops its servers itself; the sweep then catches anything left in the dir.
    await hub?.stop(15_000);
    await proxy?.stop();
    await cleanupAll();
  }, 60_000);

  it('JupyterHub registers its hub route through the authenticated API', async () => {
    const routes = await proxyApi('GET', '');
    expect(routes.status).toBe(200);
    expect((routes.body as Record<string, Record<string, unknown>>)['/']).toMatchObject({
      hub: true,
      jupyterhub: true,
      target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      last_activity: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const res = await fetch(`${endpoint.url}/hub/api`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ version: '3.0.0' });
    expect(hub.logTail(200)).not.toMatch(/Failed to connect to proxy|Traceback/);
  });

  it('a server started through the REST API is reached through nodehub proxy, and its route goes at stop', async () => {
    await createUser(endpoint, 'alice');
    await requestServer(endpoint, 'alice');
    await waitServerReady(endpoint, 'alice');

    const route = await proxyApi('GET', '/user/alice');
    expect(route.status).toBe(200);
    expect(route.body).toMatchObject({ user: 'alice', server_name: '', jupyterhub: true });

    const res = await fetch(`${endpoint.url}/user/alice/`, { redirect: 'manual' });
    await res.arrayBuffer();
    expect(res.status).toBe(302); // the mock single-user server's own answer
    expect(res.headers.get('location')).toMatch(/^\/user\/alice\/tree\//);

    await stopServer(endpoint, 'alice');
    expect((await proxyApi('GET', '/user/alice')).status).toBe(404);
    const users = await hubApi(endpoint, 'GET', '/users/alice');
    expect(users.status).toBe(200);
  });

  it("a dead target gets JupyterHub's own 503 page through --error-target", async () => {
    const dead = await freePort();
    expect((await proxyApi('POST', '/dead', { target: `http://127.0.0.1:${dead}` })).status).toBe(201);
    const res = await fetch(`${endpoint.url}/dead/x?y=1`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('Your server appears to be down');
    expect((await proxyApi('DELETE', '/dead')).status).toBe(204);
  });
});
