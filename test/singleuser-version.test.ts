// What real jupyterhub-singleuser releases log about the hub's X-JupyterHub-Version (5.4.6) at start-up, with --debug
// so that the version check always leaves a line. jupyterhub/_version.py _check_version: 5.x warns only when the
// major versions differ; 3.x and 4.x warn when major.minor differ. So 5.x is quiet, and Debian's 3.0 logs one warning
// (docs/differences.md, "hub version"). The 5.x case runs the 5.4.6 source tree (NODEHUB_JH54_SRC, extracted as
// ../shared/reference/run-jupyterhub-5.4.sh describes) and is skipped without it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestHub, eventually, type TestHub } from './support/hub.ts';

const jh54 = process.env.NODEHUB_JH54_SRC ?? '';
const stub = new URL('../../shared/reference/jh5stub', import.meta.url).pathname;
const has54 = jh54 !== '' && existsSync(join(jh54, 'jupyterhub', 'singleuser')) && existsSync(stub);

const versionLines = (log: string) => log.split('\n').filter((l) => /jupyterhub version|both on version|no version header/i.test(l));

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
}, 60_000);

/** Starts alice's server with `spawner` settings, waits for ready, returns its log. */
async function startAndReadLog(spawner: Record<string, unknown>): Promise<string> {
  hub = await startTestHub({ Spawner: { http_timeout: 60, start_timeout: 60, ...spawner }, LocalProcessSpawner: { interrupt_timeout: 15 } });
  expect((await hub.api('/users/alice', { method: 'POST' })).status).toBe(201);
  expect([201, 202]).toContain((await hub.api('/users/alice/server', { method: 'POST' })).status);
  await eventually(async () => (await (await hub!.api('/users/alice')).json()).servers['']?.ready, 60_000, 200);
  const log = join(hub.dir, 'home', 'alice', '.nodehub-server.log');
  // The check runs while the already-bound server answers, so it can come after ready: wait for its line.
  return eventually(() => {
    const text = readFileSync(log, 'utf8');
    return versionLines(text).length > 0 ? text : '';
  }, 30_000, 100);
}

describe('jupyterhub-singleuser version check against the hub', () => {
  it.skipIf(!existsSync('/usr/bin/jupyterhub-singleuser'))('Debian 3.0 starts and logs the one major.minor mismatch warning', { timeout: 120_000 }, async () => {
    const log = await startAndReadLog({ cmd: ['jupyterhub-singleuser'], args: ['--debug'] });
    const lines = versionLines(log);
    expect(lines, log).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[W .*jupyterhub version 5\.4\.6 != jupyterhub-singleuser version 3\.0\.0\. This could cause failure to authenticate/);
  });

  it.skipIf(!has54)('5.x (the 5.4.6 source) starts with no version warning', { timeout: 120_000 }, async () => {
    const log = await startAndReadLog({
      cmd: ['/usr/bin/python3', '-m', 'jupyterhub.singleuser'], args: ['--debug'],
      environment: { PYTHONPATH: `${jh54}:${stub}` },
    });
    const lines = versionLines(log);
    expect(lines, log).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[D .*jupyterhub and jupyterhub-singleuser both on version 5\.4\.6$/);
    expect(log).not.toMatch(/^\[W .*version/m);
  });
});
