// A managed service must not outlive a hub that was killed outright (SIGKILL, the OOM killer): the next hub starts its
// own copy, and the orphan would keep running beside it with a token that no longer works. The hub runs in its own
// process here so that it can really be killed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { freePort, killHard, NODE24, pidAlive, startHubProcess } from './support/hub-process.ts';
import { hubDbUrl } from './support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'nodehub-svc-killed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a SIGKILLed hub takes its managed services with it', async () => {
  const pidFile = join(dir, 'service.pid');
  const script = join(dir, 'service.mjs');
  writeFileSync(script, `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
setInterval(() => {}, 1 << 30);\n`);
  const port = await freePort();
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ JupyterHub: {
    ip: '127.0.0.1', port, db_url: hubDbUrl(dir),
    services: [{ name: 'stays-up', command: [NODE24, script] }],
  } }));
  const hub = await startHubProcess(config, `http://127.0.0.1:${port}`);
  let servicePid = 0;
  try {
    await expect.poll(() => { try { return Number(readFileSync(pidFile, 'utf8')); } catch { return 0; } }, { timeout: 10_000 })
      .toBeGreaterThan(0);
    servicePid = Number(readFileSync(pidFile, 'utf8'));
    expect(pidAlive(servicePid)).toBe(true);
    killHard(hub.child.pid!);
    await hub.exited;
    await expect.poll(() => pidAlive(servicePid), { timeout: 5_000 }).toBe(false);
  } finally {
    killHard(hub.child.pid!);
    if (servicePid && pidAlive(servicePid)) killHard(servicePid);
  }
}, 30_000);
