// A real hub in the test process with LocalProcessSpawner's defaults, and what a visitor does inside it: start a
// server, run Python in a kernel of it (test/security-isolation*.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startHub, type RunningHub } from '../../src/hub/start.ts';
import { eventually } from './hub.ts';
import { executeOverWebsocket } from './kernel.ts';
import { hubDbUrl } from './postgres.ts';

export const isRoot = process.getuid?.() === 0;
export const hasSingleuser = fs.existsSync('/usr/bin/jupyterhub-singleuser') || fs.existsSync('/usr/local/bin/jupyterhub-singleuser');

export interface ServerState {
  uid: number;
  pid: number;
  home: string;
  cgroup?: string;
}

export interface IsoHub {
  running: RunningHub;
  dir: string;
  token: string;
  origin: string;
  api(p: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** A real hub in this (root) process with only what a test needs set: address, files, an admin token. */
export async function startIsoHub(extra: Record<string, Record<string, unknown>> = {}): Promise<IsoHub> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-iso-'));
  // as an operator's working directory usually is: the files' own modes are what protects them
  fs.chmodSync(dir, 0o755);
  const token = randomBytes(16).toString('hex');
  const config = {
    JupyterHub: {
      ip: '127.0.0.1', port: 0, db_url: hubDbUrl(dir), cookie_secret_file: path.join(dir, 'cookie_secret'),
      authenticator_class: 'dummy', services: [{ name: 'admin-svc', api_token: token, admin: true }], log_level: 'warn',
    },
    Spawner: { http_timeout: 60, start_timeout: 60 },
    ...extra,
  };
  const file = path.join(dir, 'nodehub.json');
  fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  const running = await startHub(await loadConfig({ file, env: {} }), { env: {} });
  const origin = `http://127.0.0.1:${running.port}`;
  return {
    running, dir, token, origin,
    api: (p, init = {}) => fetch(`${origin}/hub/api${p}`, { ...init, headers: { authorization: `token ${token}`, ...init.headers } }),
    async close() {
      await running.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startServer(hub: IsoHub, user: string): Promise<ServerState> {
  expect((await hub.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
  expect([201, 202]).toContain((await hub.api(`/users/${user}/server`, { method: 'POST' })).status);
  await eventually(async () => (await (await hub.api(`/users/${user}`)).json()).servers['']?.ready, 90_000, 200);
  return (await (await hub.api(`/users/${user}`)).json()).servers[''].state as ServerState;
}

/** Runs `code` in a fresh python3 kernel of `user`'s server; returns what it printed. */
export async function inKernel(hub: IsoHub, user: string, code: string): Promise<string> {
  const created = await fetch(`${hub.origin}/user/${user}/api/kernels`, {
    method: 'POST', headers: { authorization: `token ${hub.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'python3' }),
  });
  expect(created.status).toBe(201);
  const kernel = (await created.json()) as { id: string };
  const ws = `ws://127.0.0.1:${new URL(hub.origin).port}/user/${user}/api/kernels/${kernel.id}/channels?token=${hub.token}`;
  return executeOverWebsocket(ws, code, 60_000);
}

