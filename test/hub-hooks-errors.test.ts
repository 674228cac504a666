// Config-module hooks run around a spawn, and a proxied server that goes away gets the hub's 503 page, not a hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/index.ts';
import { startHub, type RunningHub } from '../src/hub/start.ts';
import { testConfig } from './support/hub.ts';

let dir: string;
let running: RunningHub;
let origin: string;
const token = randomBytes(16).toString('hex');
const api = (path: string, method = 'GET') =>
  fetch(`${origin}/hub/api${path}`, { method, headers: { authorization: `token ${token}` } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-hooks-'));
  const base = testConfig(dir, token);
  const hooksLog = join(dir, 'hooks.log');
  // An .mjs config: the same object as YAML, plus functions for the hook traits.
  writeFileSync(join(dir, 'nodehub_config.mjs'), `
import { appendFileSync } from 'node:fs';
const base = ${JSON.stringify(base)};
export default {
  ...base,
  Spawner: {
    ...base.Spawner,
    environment: { FROM_CONFIG: 'yes' },
    pre_spawn_hook: (s) => {
      appendFileSync(${JSON.stringify(hooksLog)}, 'pre ' + s.user.name + '\\n');
      s.config.environment = { ...s.config.environment, FROM_HOOK: 'hooked-' + s.user.name };
      // JupyterHub's way: the spawner's traits set on the spawner itself
      s.args = [...s.args, '--from-hook'];
      s.environment = { ...s.environment, TRAIT_FROM_HOOK: String(s.cmd.length) };
    },
    post_stop_hook: (s) => appendFileSync(${JSON.stringify(hooksLog)}, 'post ' + s.user.name + '\\n'),
  },
};`);
  running = await startHub(await loadConfig({ file: join(dir, 'nodehub_config.mjs'), env: {} }), { env: {} });
  origin = `http://127.0.0.1:${running.port}`;
});
afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hooks from a config module', () => {
  it('runs pre_spawn_hook before the server starts (it may change the environment, and cmd/args/… as spawner traits) and post_stop_hook after it stops', async () => {
    await api('/users/hooky', 'POST');
    expect((await api('/users/hooky/server', 'POST')).status).toBe(201);
    const env = await (await fetch(`${origin}/user/hooky/env`)).json();
    expect(env.FROM_CONFIG).toBe('yes');
    expect(env.FROM_HOOK).toBe('hooked-hooky');
    expect(env.TRAIT_FROM_HOOK).toBe('2');
    expect((await (await fetch(`${origin}/user/hooky/proc`)).json()).argv).toContain('--from-hook');
    expect((await api('/users/hooky/server', 'DELETE')).status).toBe(204);
    expect(readFileSync(join(dir, 'hooks.log'), 'utf8')).toBe('pre hooky\npost hooky\n');
  });
});

describe('a proxied server that is down', () => {
  it('answers with the hub-rendered 503 page while the route still points at it', async () => {
    // A route to a port nobody listens on: what the proxy sees in the instant between a crash and its clean-up.
    running.hub.routes.add('/user/ghost', 'http://127.0.0.1:9', { user: 'ghost', server_name: '' });
    const r = await fetch(`${origin}/user/ghost/tree`);
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(await r.text()).toContain('Your server appears to be down');
    running.hub.routes.remove('/user/ghost');
  });
});
