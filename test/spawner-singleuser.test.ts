// The real jupyterhub-singleuser 3.0 under the LocalProcessSpawner: a minimal hub API answers its start-up version
// probe and activity posts; the spawner must see it become ready (302) and stop it cleanly.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LocalProcessSpawner } from '../src/spawner/local/spawner.ts';
import { makeConfig, makeSpec, quietLog, tmpRoot } from './support/spawner-fixtures.ts';
import type { HubConfig } from '../src/config/types.ts';

const root = tmpRoot();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const hasSingleuser = fs.existsSync('/usr/bin/jupyterhub-singleuser');

describe.skipIf(!hasSingleuser)('LocalProcessSpawner with the real jupyterhub-singleuser', () => {
  it('starts it, sees it ready and stops it', { timeout: 60_000 }, async () => {
    const hubCalls: string[] = [];
    const hub = http.createServer((req, res) => {
      hubCalls.push(`${req.method} ${req.url}`);
      res.setHeader('X-JupyterHub-Version', '3.0.0');
      res.setHeader('Content-Type', 'application/json');
      if (req.method === 'GET' && req.url === '/hub/api') return res.end('{"version":"3.0.0"}');
      if (req.method === 'POST' && /^\/hub\/api\/users\/[^/]+\/activity$/.test(req.url ?? '')) return res.end();
      res.writeHead(404).end('{"status":404}');
    });
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
    const hubPort = (hub.address() as net.AddressInfo).port;

    const spawner = new LocalProcessSpawner({
      spec: makeSpec('alice', '', { hubApiUrl: `http://127.0.0.1:${hubPort}/hub/api` }),
      config: makeConfig({
        home_dir_template: `${root}/{username}`,
        http_timeout: 50,
        interrupt_timeout: 10,
        term_timeout: 2,
        kill_timeout: 2,
      }),
      hubConfig: { hub: { admin_access: false } } as unknown as HubConfig,
      state: {},
      log: quietLog,
      onExit: () => {},
    });
    try {
      const url = await spawner.start();
      // The version probe runs inside the server's event loop while its socket is already bound, so it can be served
      // after the readiness probe saw 302: wait for it rather than assume an order.
      await vi.waitFor(() => expect(hubCalls).toContain('GET /hub/api'), { timeout: 10_000, interval: 20 });
      const res = await fetch(`${url}/user/alice/`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toMatch(/^\/user\/alice\/tree\/?/);
      expect(await spawner.poll()).toBeNull();

      const { pid, port } = spawner.getState() as { pid: number; port: number };
      await spawner.stop();
      expect(() => process.kill(pid, 0)).toThrow();
      const refused = await new Promise<boolean>((resolve) => {
        const sock = net.connect(port, '127.0.0.1');
        sock.on('connect', () => (sock.destroy(), resolve(false)));
        sock.on('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    } finally {
      await spawner.stop();
      hub.closeAllConnections();
      await new Promise((r) => hub.close(r));
    }
  });
});
