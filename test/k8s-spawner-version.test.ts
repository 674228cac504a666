// Issue 11, Build 8: jupyterhub-singleuser 3.x starts in a pod without a warning about the hub's version. Its start-up
// probe (untokened GET /hub/api, from its pod IP through a Service) is answered with the version of its image: from
// the image pre-puller's report before the image's first start, else learned from the image's first server; everyone
// else (scripts with tokens, strangers, the pods' own requests under another IP) still gets 5.4.6.
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service, Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { IMAGE, NAMESPACE, readProgress, startK8sHub, startSim } from './support/k8s-hub.ts';
import { JUPYTERHUB_VERSION } from '../src/util/version.ts';

const hasSingleuser = existsSync('/usr/bin/jupyterhub-singleuser');
/** An image whose jupyterhub-singleuser is a shell wrapper and which has no python3 on PATH: the pre-puller cannot ask it. */
const WRAPPED = 'nodehub-test/wrapped-singleuser:1';
/** An image without python at all. */
const NOPY = 'nodehub-test/no-python:1';
/** JupyterHub 4.1.6 from its source tree (test/singleuser-version.test.ts says how it is made), run by Debian's Python. */
const jh41 = process.env.NODEHUB_JH41_SRC ?? '/tmp/jh416';
const hasJh41 = existsSync(join(jh41, 'jupyterhub', 'singleuser'));
const JH41 = 'nodehub-test/jupyterhub-4:1';
const WARNING = /jupyterhub version .* != jupyterhub-singleuser version/;

/** GET /hub/api with neither token nor cookie, from `localAddress`. */
function untokened(origin: string, localAddress: string): Promise<{ header: string | undefined; version: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${origin}/hub/api`, { localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ header: res.headers['x-jupyterhub-version'] as string | undefined, version: JSON.parse(body).version }));
    });
    req.on('error', reject);
  });
}

describe.skipIf(!hasSingleuser)('a pod\'s jupyterhub-singleuser is told its own version', () => {
  let sim: Simulator;
  let hub: TestHub;
  let dir: string;
  let svc: Service;
  const start = async (user: string, profile: string) => {
    if ((await hub.api(`/users/${user}`)).status === 404) expect((await hub.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
    const r = await hub.api(`/users/${user}/server`, { method: 'POST', body: JSON.stringify({ profile }), headers: { 'content-type': 'application/json' } });
    expect([201, 202]).toContain(r.status);
    expect((await readProgress(hub, user)).at(-1)).toMatchObject({ ready: true });
    return sim.get('pods', NAMESPACE, `jupyter-${user}`)!;
  };
  const stop = async (user: string) => {
    expect([202, 204]).toContain((await hub.api(`/users/${user}/server`, { method: 'DELETE' })).status);
    await eventually(async () => Object.keys((await (await hub.api(`/users/${user}`)).json()).servers).length === 0, 30_000);
  };
  const log = (user: string) => sim.logs(NAMESPACE, `jupyter-${user}`) ?? '';

  beforeAll(async () => {
    const s = await startSim({ images: {} });
    sim = s.sim;
    dir = s.dir;
    const wrapped = join(dir, 'wrapped-bin');
    const empty = join(dir, 'empty-bin');
    mkdirSync(wrapped);
    mkdirSync(empty);
    writeFileSync(join(wrapped, 'jupyterhub-singleuser'), '#!/bin/sh\nexec /usr/bin/jupyterhub-singleuser "$@"\n');
    chmodSync(join(wrapped, 'jupyterhub-singleuser'), 0o755);
    sim.images.set(IMAGE, { pullMs: 50 });
    sim.images.set(WRAPPED, { pullMs: 50, env: { PATH: wrapped } });
    sim.images.set(NOPY, { pullMs: 50, env: { PATH: empty } });
    sim.images.set(JH41, { pullMs: 50, env: { PYTHONPATH: jh41 } });
    // the hub's Service: pods reach the hub from their own IPs, as kube-proxy keeps the client address
    svc = await sim.service();
    hub = await startK8sHub(s.kubeconfig, {
      JupyterHub: { hub_connect_url: `http://${svc.host}:${svc.port}` },
      KubeSpawner: {
        // --debug: 3.x logs "both on version X" when the probe's answer matches
        cmd: ['jupyterhub-singleuser'], args: [...(process.getuid?.() === 0 ? ['--allow-root'] : []), '--debug'],
        http_timeout: 60, start_timeout: 60, delete_grace_period: 15, prepuller_enabled: true, prepuller_extra_images: [NOPY],
      },
      Spawner: {
        profile_list: [
          { display_name: 'Debian', slug: 'debian', default: true, kubespawner_override: {} },
          { display_name: 'Wrapped', slug: 'wrapped', kubespawner_override: { image: WRAPPED } },
          { display_name: 'JupyterHub 4', slug: 'jh41', kubespawner_override: { image: JH41 } },
        ],
      },
    });
    svc.target = { host: '127.0.0.1', port: Number(new URL(hub.origin).port) };
  }, 30_000);
  afterAll(async () => {
    await hub?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the pre-puller reports each image\'s jupyterhub in its termination message, and nothing (but success) for images without it', { timeout: 30_000 }, async () => {
    await eventually(async () => (await (await hub.api('/info')).json()).prepuller.ready === true, 20_000);
    await eventually(async () => (await (await hub.api('/info')).json()).kubernetes.image_versions[IMAGE]?.version === '3.0.0', 10_000);
    const { image_versions: versions } = (await (await hub.api('/info')).json()).kubernetes;
    expect(versions[IMAGE]).toEqual({ version: '3.0.0', from: 'puller' });
    expect(Object.keys(versions).sort()).toEqual([IMAGE, JH41].sort());
    if (hasJh41) expect(versions[JH41]).toEqual({ version: '4.1.6', from: 'puller' });
    const [pod] = sim.list('pods', NAMESPACE).filter((p) => p.metadata.labels?.component === 'image-puller');
    const byImage = Object.fromEntries(pod!.status.initContainerStatuses.map((c: any) => [c.image, c.state.terminated]));
    expect(byImage[IMAGE]).toMatchObject({ exitCode: 0, message: '3.0.0' });
    expect(byImage[WRAPPED]).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(byImage[WRAPPED].message).toBeUndefined();
    expect(byImage[NOPY]).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(byImage[NOPY].message).toBeUndefined();
  });

  it('a pre-pulled image\'s server starts without a version warning; scripts and strangers still see 5.4.6', { timeout: 120_000 }, async () => {
    const pod = await start('alice', 'debian');
    await eventually(() => /both on version 3\.0\.0/.test(log('alice')), 10_000);
    expect(log('alice')).not.toMatch(WARNING);

    // the pod's own IP is told 3.0.0 ...
    expect(await untokened(hub.origin, pod.status.podIP)).toEqual({ header: '3.0.0', version: '3.0.0' });
    // ... but a script with a token, or anyone from another address, gets the version nodehub speaks
    const tokened = await hub.api('/');
    expect(tokened.headers.get('x-jupyterhub-version')).toBe(JUPYTERHUB_VERSION);
    expect((await tokened.json()).version).toBe(JUPYTERHUB_VERSION);
    expect(await untokened(hub.origin, '127.0.0.1')).toEqual({ header: JUPYTERHUB_VERSION, version: JUPYTERHUB_VERSION });
    expect(await untokened(`http://${svc.host}:${svc.port}`, '127.0.0.1')).toEqual({ header: JUPYTERHUB_VERSION, version: JUPYTERHUB_VERSION });

    // once the server is gone, its IP is nobody's
    await stop('alice');
    expect(await untokened(hub.origin, pod.status.podIP)).toEqual({ header: JUPYTERHUB_VERSION, version: JUPYTERHUB_VERSION });
  });

  it.skipIf(!hasJh41)('so does a pre-pulled image\'s jupyterhub-singleuser 4.1', { timeout: 120_000 }, async () => {
    await start('carol', 'jh41');
    await eventually(() => /both on version 4\.1\.6/.test(log('carol')), 10_000);
    expect(log('carol')).toMatch(/Starting jupyterhub-singleuser server version 4\.1\.6/);
    expect(log('carol')).not.toMatch(WARNING);
    await stop('carol');
  });

  it('an image the pre-puller could not ask is learned from its first server: the second start has no warning', { timeout: 180_000 }, async () => {
    // Nothing knew this image's version before its first server answered the readiness check. Whether its probe came
    // before that (told 5.4.6: a warning) or after (told 3.0.0) is a race; the image is known from then on.
    await start('bob', 'wrapped');
    await stop('bob');

    await start('bob', 'wrapped');
    await eventually(() => /both on version 3\.0\.0/.test(log('bob')), 10_000);
    expect(log('bob')).not.toMatch(WARNING);
    await stop('bob');
    // what the servers said wins over what the pre-puller found
    expect((await (await hub.api('/info')).json()).kubernetes.image_versions).toMatchObject({
      [IMAGE]: { version: '3.0.0', from: 'server' }, [WRAPPED]: { version: '3.0.0', from: 'server' },
    });
  });
});
