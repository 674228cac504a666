// The hub container as the Deployment runs it: `node src/cli.ts <the Deployment's args>` with each deploy/ config in
// place of the ConfigMap and the Secret's values in the environment. Only what needs a cluster is swapped: loopback
// instead of 0.0.0.0, a temporary database, and the local spawner (the Kubernetes one needs an API server).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { deployTree, readDocuments, repo } from './support/deploy-tree.ts';
import type { K8sObject } from './support/deploy-tree.ts';
import { freePort, NODE24 } from './support/hub-process.ts';
import { hubDbUrl } from './support/postgres.ts';

const container = (readDocuments(join(repo, 'deploy/kubernetes/base/deployment.yaml'))[0] as K8sObject).spec.template.spec.containers[0];
const secretTemplate = (readDocuments(join(repo, 'deploy/kubernetes/base/secret.example.yaml'))[0] as K8sObject).stringData;
const dir = mkdtempSync(join(tmpdir(), 'nodehub-deploy-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The Deployment's arguments with `file` where the ConfigMap is mounted, then the local stand-ins. */
function hubArgs(file: string, extra: string[]): string[] {
  const args = (container.args as string[]).map((a) => (a === '/etc/nodehub/nodehub.yaml' ? file : a));
  expect(args).toContain(file);
  const db = hubDbUrl(join(dir, randomBytes(4).toString('hex')));
  return ['src/cli.ts', ...args, '--db', db, '--JupyterHub.spawner_class=localprocess', ...extra];
}

function startHub(args: string[], env: Record<string, string>) {
  const child = spawn(NODE24, args, { cwd: repo, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | string>((done) => child.once('exit', (code, signal) => done(code ?? signal ?? -1)));
  return { child, exited, output: () => output };
}

async function until(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// JUPYTERHUB_CRYPT_KEY: the single sign-on example (deploy/examples/keycloak-vault) keeps auth state, encrypted with the
// key its Secret carries; the other hubs ignore it.
const secrets = () => ({
  NODEHUB_SHARED_PASSWORD: 'a passphrase', JPY_COOKIE_SECRET: randomBytes(32).toString('hex'),
  JUPYTERHUB_CRYPT_KEY: randomBytes(32).toString('hex'),
});

describe.each(deployTree().configs.map((f) => [relative(repo, f), f]))('%s in the hub container', (_name, file) => {
  it('starts, answers the probes without the password, sends visitors to the password page, stops on SIGTERM', async () => {
    const port = await freePort();
    const hub = startHub(hubArgs(file, ['--ip', '127.0.0.1', '--port', String(port)]), secrets());
    try {
      const origin = `http://127.0.0.1:${port}`;
      const probe = async (p: { httpGet: { path: string } }) => (await fetch(`${origin}${p.httpGet.path}`)).status;
      await until(`the hub on ${origin}`, async () => (await probe(container.readinessProbe)) === 200);
      expect([await probe(container.startupProbe), await probe(container.livenessProbe)]).toEqual([200, 200]);
      const front = await fetch(`${origin}/hub/`, { redirect: 'manual' });
      expect(front.status).toBe(302);
      expect(front.headers.get('location')).toMatch(/\/hub\/password\b/);
    } finally {
      hub.child.kill('SIGTERM');
    }
    // The pod's grace period is 30 s; the hub must be done well within it.
    const code = await Promise.race([hub.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    if (code === 'still running') hub.child.kill('SIGKILL');
    expect(code, hub.output()).toBe(0);
  });
});

describe('the hub container without a proper Secret', () => {
  const file = join(repo, 'deploy/kubernetes/base/nodehub.yaml');

  it('refuses to listen on 0.0.0.0 without the shared password', async () => {
    const hub = startHub(hubArgs(file, ['--port', String(await freePort())]), { JPY_COOKIE_SECRET: secrets().JPY_COOKIE_SECRET });
    expect(await hub.exited).not.toBe(0);
    expect(hub.output()).toMatch(/Refusing to listen on 0\.0\.0\.0.*NODEHUB_SHARED_PASSWORD/s);
  });

  it('refuses the template\'s placeholder cookie secret', async () => {
    const env = { NODEHUB_SHARED_PASSWORD: secretTemplate['shared-password'], JPY_COOKIE_SECRET: secretTemplate['cookie-secret'] };
    const hub = startHub(hubArgs(file, ['--ip', '127.0.0.1', '--port', String(await freePort())]), env);
    expect(await hub.exited).not.toBe(0);
    expect(hub.output()).toMatch(/JPY_COOKIE_SECRET must be a hex string/);
  });
});
