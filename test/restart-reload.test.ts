// Reload in place (docs/reload.md), with the hub in this process: what a reload applies live (limits, services, roles,
// log level), what it names and keeps (listener, database, classes), a bad config refused whole, and the config file
// watched. The SIGHUP path through a real process is in test/restart-reload-handover.test.ts.
import { afterEach, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/index.ts';
import { startHub, type RunningHub } from '../src/hub/start.ts';
import { watchConfigFile } from '../src/hub/reload.ts';
import { eventually, testConfig } from './support/hub.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Sections = Record<string, Record<string, unknown>>;

async function hubFromFile(extra: Sections, opts: { watch?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-reload-'));
  const adminToken = randomBytes(16).toString('hex');
  const file = join(dir, 'nodehub.json');
  const write = (more: Sections) => {
    const sections = testConfig(dir, adminToken, { ...more, JupyterHub: { reload_on_config_change: !!opts.watch, ...more.JupyterHub } });
    writeFileSync(file, JSON.stringify(sections));
  };
  write(extra);
  const load = (pin: Record<string, string> = {}) => loadConfig({ file, env: {}, overrides: pin });
  const running: RunningHub = await startHub(await load(), { env: {}, loadConfig: load, configFile: file });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => running.close());
  const origin = `http://127.0.0.1:${running.port}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${origin}/hub/api${path}`, { ...init, headers: { authorization: `token ${adminToken}`, ...init.headers } });
  return { running, write, api, dir };
}

it('applies limits, services and roles live, names the restart-only settings it keeps, and refuses a bad config whole', async () => {
  const { running, write, api } = await hubFromFile({ JupyterHub: { active_server_limit: 1 } });
  const hub = running.hub;
  for (const u of ['ann', 'ben']) expect((await api(`/users/${u}`, { method: 'POST' })).status).toBe(201);
  expect((await api('/users/ann/server', { method: 'POST' })).status).toBe(201);
  expect((await api('/users/ben/server', { method: 'POST' })).status).toBe(429);

  write({
    JupyterHub: {
      active_server_limit: 0, port: 1, db_url: 'sqlite:///elsewhere.sqlite', spawner_class: 'kubernetes', log_level: 'debug',
      services: [
        { name: 'admin-svc', api_token: hub.config.hub.services[0].api_token, admin: true },
        { name: 'notes', url: 'http://127.0.0.1:9' },
      ],
      load_roles: [{ name: 'note-readers', scopes: ['read:users'], users: ['ben'] }],
    },
  });
  const result = await running.reload();
  expect(result.ok).toBe(true);
  expect(result.kept.sort()).toEqual(['JupyterHub.db_url', 'JupyterHub.port', 'JupyterHub.spawner_class']);
  expect(hub.config.hub.port).toBe(0);
  expect(hub.config.hub.spawner_class).toBe('localprocess');
  expect(hub.config.spawnerSection).toBe('LocalProcessSpawner');
  expect((await api('/users/ben/server', { method: 'POST' })).status).toBe(201);
  expect(Object.keys(await (await api('/services')).json())).toContain('notes');
  expect(hub.routes.get('/services/notes')?.target).toBe('http://127.0.0.1:9');
  expect((await (await api('/users/ben')).json()).roles).toContain('note-readers');

  // One bad value refuses the whole file: the good changes beside it are not applied either.
  write({ JupyterHub: { active_server_limit: 1, concurrent_spawn_limit: -1 }, IdleCuller: { enabled: true, timeout: 0 } });
  const refused = await running.reload();
  expect(refused.ok).toBe(false);
  expect(refused.error).toContain('IdleCuller.timeout');
  expect(hub.config.hub.active_server_limit).toBe(0);
  expect(hub.routes.get('/services/notes')).toBeDefined();

  // Removing a service takes its route away.
  write({ JupyterHub: { services: [{ name: 'admin-svc', api_token: hub.config.hub.services[0].api_token, admin: true }] } });
  expect((await running.reload()).ok).toBe(true);
  expect(hub.routes.get('/services/notes')).toBeUndefined();
  expect(Object.keys(await (await api('/services')).json())).not.toContain('notes');
}, 60_000);

it('reloads when the config file changes', async () => {
  const { running, write } = await hubFromFile({ JupyterHub: { active_server_limit: 3 } }, { watch: true });
  write({ JupyterHub: { active_server_limit: 5 } });
  await eventually(() => running.hub.config.hub.active_server_limit === 5);
  write({ JupyterHub: { active_server_limit: 7, log_level: 'warn' } });
  await eventually(() => running.hub.config.hub.active_server_limit === 7);
}, 30_000);

it('notices a Kubernetes ConfigMap update, which swaps a ..data symlink instead of writing the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-configmap-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // The kubelet's layout: nodehub.yaml -> ..data/nodehub.yaml, ..data -> ..<timestamp>/
  mkdirSync(join(dir, '..2024_01_01_one'));
  writeFileSync(join(dir, '..2024_01_01_one', 'nodehub.yaml'), 'JupyterHub: {active_server_limit: 1}\n');
  symlinkSync('..2024_01_01_one', join(dir, '..data'));
  symlinkSync('..data/nodehub.yaml', join(dir, 'nodehub.yaml'));
  let changes = 0;
  const watcher = watchConfigFile(join(dir, 'nodehub.yaml'), () => changes++, 50);
  cleanups.push(() => watcher.close());
  mkdirSync(join(dir, '..2024_01_02_two'));
  writeFileSync(join(dir, '..2024_01_02_two', 'nodehub.yaml'), 'JupyterHub: {active_server_limit: 2}\n');
  symlinkSync('..2024_01_02_two', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  await eventually(() => changes === 1);
});
