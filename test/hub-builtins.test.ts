// The idle hub must not carry Node built-ins it never uses. One `import … from 'node:http'` anywhere makes Node read
// every export of node:http, and its WebSocket getters load undici, web streams and worker_threads (~12 MiB resident);
// src/util/builtins.ts is how the hub's modules avoid that. This starts the real CLI, serves a request through the
// proxy and asks the process which built-ins it has loaded.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { freePort, NODE24, ROOT } from './support/hub-process.ts';
import { hubDbUrl } from './support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'nodehub-builtins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('an idle hub that has served requests has not loaded undici or web streams', async () => {
  const port = await freePort();
  const probe = join(dir, 'probe.mjs');
  const listFile = join(dir, 'modules.json');
  // Written on a signal, so the list is read after start-up and the requests below, from inside the hub process.
  writeFileSync(probe, `import { writeFileSync } from 'node:fs';
process.on('SIGUSR2', () => writeFileSync(${JSON.stringify(listFile)}, JSON.stringify(process.moduleLoadList)));\n`);
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ JupyterHub: { ip: '127.0.0.1', port, db_url: hubDbUrl(dir) } }));
  const env = { ...process.env };
  delete env.NODEHUB_CONFIG;
  delete env.JPY_COOKIE_SECRET;
  const child = spawn(NODE24, ['--import', probe, 'bin/nodehub.mjs', '-f', config], { cwd: ROOT, env, stdio: 'ignore' });
  try {
    const origin = `http://127.0.0.1:${port}`;
    await expect.poll(async () => (await fetch(`${origin}/hub/health`).catch(() => null))?.status, { timeout: 20_000 }).toBe(200);
    expect((await fetch(`${origin}/hub/api`)).status).toBe(200);
    expect((await fetch(`${origin}/user/nobody/`, { redirect: 'manual' })).status).toBeLessThan(500);
    child.kill('SIGUSR2');
    await expect.poll(() => { try { return readFileSync(listFile, 'utf8').length; } catch { return 0; } }).toBeGreaterThan(0);
    const loaded = (JSON.parse(readFileSync(listFile, 'utf8')) as string[]).filter((m) => m.startsWith('NativeModule '));
    expect(loaded).toContain('NativeModule http'); // the probe really listed this process's built-ins
    // worker_threads itself is loaded by pino (the hub's logger reads isMainThread from it); its module costs nothing
    // measurable, while undici and web streams, which an ES import of node:http pulls in, cost ~12 MiB.
    expect(loaded.filter((m) => /undici|webstreams/.test(m))).toEqual([]);
  } finally {
    child.kill('SIGKILL');
  }
}, 30_000);
