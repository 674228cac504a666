// The hub image, built and run for real (issue #12 item 4): scripts/build-image.sh builds the Dockerfile with buildah
// on a debootstrap base (cached under /var/cache/nodehub-image-base), and the image's root file system is run with
// chroot, mounted read-only, as the image's user. It must start as uid 1000, answer /hub/health, and serve a
// temporary visitor a pod on the Kubernetes simulator. Its size and start time are printed. Without root, buildah,
// debootstrap or mount namespaces the test says so and is skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repo } from './support/deploy-tree.ts';
import { eventually, MOCK_SINGLEUSER } from './support/hub.ts';
import { IMAGE, NAMESPACE, startSim } from './support/k8s-hub.ts';
import { userOf, Visitor } from './support/scripted-visitor.ts';
import type { Simulator } from './k8s-sim/index.ts';

const TAG = 'localhost/nodehub:test';

function whyNot(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['buildah', 'debootstrap', 'unshare', 'chroot']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed (scripts/setup.sh --test installs it)`;
  }
  const info = spawnSync('buildah', ['info'], { encoding: 'utf8' });
  if (info.status !== 0) return `buildah cannot run here: ${(info.stderr || '').trim().split('\n').pop()}`;
  if (spawnSync('unshare', ['--mount', '--fork', 'true']).status !== 0) return 'no mount namespaces here';
  return null;
}
const skip = whyNot();

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

describe.skipIf(skip !== null)(`the hub image${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let ctr = '';
  let root = '';
  let dir = '';
  let sim: Simulator | null = null;
  let hub: ChildProcess | null = null;
  let port = 0;
  let hubLog = '';
  let startedMs = 0;
  let healthcheck: string[] | null = null;
  let imageConfig: { User?: string; Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string } = {};

  beforeAll(() => {
    // From scratch (no cached base) this takes minutes: debootstrap, then apt and npm in the build.
    execFileSync('sh', [join(repo, 'scripts/build-image.sh'), TAG], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
    const inspected = JSON.parse(run('buildah', ['inspect', '--type', 'image', TAG]));
    imageConfig = inspected.OCIv1.config;
    healthcheck = inspected.Docker?.config?.Healthcheck?.Test ?? null;
    const [listed] = JSON.parse(run('buildah', ['images', '--json', TAG]));
    console.log(`nodehub image ${TAG}: ${listed.size}`);
    ctr = run('buildah', ['from', '--pull=never', TAG]);
    root = run('buildah', ['mount', ctr]);
  }, 85 * 60_000);

  afterAll(async () => {
    if (hub?.pid) {
      try { process.kill(-hub.pid, 'SIGTERM'); } catch {}
      await new Promise((r) => (hub!.exitCode !== null ? r(null) : hub!.once('exit', r)));
    }
    await sim?.close();
    if (ctr) spawnSync('buildah', ['rm', ctr]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('is configured to run as uid 1000 with the nodehub entry point', () => {
    expect(imageConfig.User).toBe('1000:1000');
    expect(imageConfig.Entrypoint).toEqual(['node', '/app/bin/nodehub.mjs']);
    expect(imageConfig.WorkingDir).toBe('/srv/nodehub');
    // Built in Docker format, so the Dockerfile's HEALTHCHECK is kept (OCI images have none).
    expect(healthcheck?.[0]).toBe('CMD');
    expect(healthcheck).toContain('node');
  });

  it('starts as uid 1000 on a read-only root, answers /hub/health, and serves a temporary visitor a pod', async () => {
    const s = await startSim();
    sim = s.sim;
    dir = s.dir;
    port = await freePort();
    // What the Deployment mounts: the config (read-only) and the database volume (writable, owned by the hub's user).
    const etc = join(dir, 'etc');
    const data = join(dir, 'data');
    mkdirSync(etc);
    mkdirSync(data);
    chownSync(data, 1000, 1000);
    writeFileSync(join(etc, 'kubeconfig'), readFileSync(s.kubeconfig));
    writeFileSync(join(etc, 'nodehub.yaml'), stringify({
      JupyterHub: {
        ip: '127.0.0.1', port, authenticator_class: 'tmp', spawner_class: 'kubernetes',
        db_url: 'sqlite:////srv/nodehub/nodehub.sqlite', hub_connect_url: `http://127.0.0.1:${port}`, log_level: 'INFO',
      },
      KubeSpawner: {
        kubeconfig: '/etc/nodehub/kubeconfig', namespace: NAMESPACE, image: IMAGE,
        // The simulator's pods are processes on this machine, outside the hub's chroot.
        cmd: [process.execPath, MOCK_SINGLEUSER], ip: '$(POD_IP)',
        environment: { POD_IP: { valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } } },
        prepuller_enabled: false, start_timeout: 30,
      },
    }));
    const env = ['-i', ...(imageConfig.Env ?? []), 'HOME=/srv/nodehub'];
    // The image's entry point with the Deployment's kind of args, on loopback: the simulator's pods share this
    // machine's network, and on 0.0.0.0 the tmp authenticator rightly wants a shared password.
    expect(imageConfig.Cmd).toEqual(['-f', '/etc/nodehub/nodehub.yaml', '--ip', '0.0.0.0']);
    const command = [...(imageConfig.Entrypoint ?? []), '-f', '/etc/nodehub/nodehub.yaml', '--ip', '127.0.0.1'];
    // A private mount namespace: the image's root bound read-only, /proc, /dev, a tmpfs /tmp, and the two volumes;
    // then chroot as the image's user, in its working directory.
    const script = [
      'set -e',
      'mount --bind "$ROOT" "$ROOT"',
      'mount -o remount,bind,ro "$ROOT"',
      'mount -t proc proc "$ROOT/proc"',
      'mount --rbind /dev "$ROOT/dev"',
      'mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"',
      'mount --bind "$ETC" "$ROOT/etc/nodehub"',
      'mount -o remount,bind,ro "$ROOT/etc/nodehub"',
      'mount --bind "$DATA" "$ROOT/srv/nodehub"',
      'mount --bind /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true',
      `exec chroot --userspec=${imageConfig.User} "$ROOT" /usr/bin/env -C "${imageConfig.WorkingDir}" "$@"`,
    ].join('\n');
    startedMs = performance.now();
    hub = spawn('unshare', ['--mount', '--propagation', 'private', '--fork', 'sh', '-c', script, 'sh', ...env, ...command], {
      env: { ROOT: root, ETC: etc, DATA: data, PATH: process.env.PATH }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    hub.stdout!.on('data', (d) => (hubLog += d));
    hub.stderr!.on('data', (d) => (hubLog += d));
    const exited = new Promise<never>((_, reject) => hub!.once('exit', (code) => reject(new Error(`the hub exited (${code}):\n${hubLog}`))));

    const origin = `http://127.0.0.1:${port}`;
    const health = await Promise.race([exited, eventually(async () => {
      const r = await fetch(`${origin}/hub/health`).catch(() => null);
      return r?.status === 200 ? r : null;
    }, 60_000, 100)]);
    const startMs = performance.now() - startedMs;
    console.log(`nodehub image: /hub/health answered ${Math.round(startMs)} ms after the start`);
    expect(health!.status).toBe(200);

    // The hub's process: the one node process under unshare's child, as the image's user, on a read-only root.
    const pids = run('pgrep', ['-s', String(hub.pid)]).split('\n').filter(Boolean)
      .filter((pid) => {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return /(^|\/)node$/.test(argv[0]) && argv.includes('/app/bin/nodehub.mjs'); // not unshare, which names it too
      });
    // bin/nodehub.mjs re-executes Node with its flags: the launcher and the hub, both the image's user.
    expect(pids.length, hubLog).toBeGreaterThanOrEqual(1);
    for (const pid of pids) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(/^Uid:\s+(.*)$/m.exec(status)![1].split(/\s+/)).toEqual(['1000', '1000', '1000', '1000']);
      expect(/^Gid:\s+(.*)$/m.exec(status)![1].split(/\s+/)).toEqual(['1000', '1000', '1000', '1000']);
      const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')!;
      expect(rootMount.split(' ')[5].split(','), rootMount).toContain('ro');
    }

    const visitor = new Visitor(origin);
    const first = await visitor.go('/hub/');
    expect(first.status, hubLog).toBe(200);
    const user = /^\/(?:user|hub\/spawn-pending)\/([^/?]+)[/?]/.exec(first.url)?.[1];
    expect(user, first.url).toBeDefined();
    const page = await eventually(async () => {
      const p = await visitor.go(`/user/${user}/`);
      return userOf(p.url) === user && p.status === 200 ? p : null;
    }, 30_000, 200);
    expect(page!.url).toBe(`/user/${user}/tree/`);
    expect(sim.list('pods', NAMESPACE).some((p) => p.metadata.annotations?.['hub.jupyter.org/username'] === user)).toBe(true);
    // Its database is on the writable volume, not in the image.
    expect(spawnSync('test', ['-s', join(data, 'nodehub.sqlite')]).status).toBe(0);
  }, 120_000);
});
