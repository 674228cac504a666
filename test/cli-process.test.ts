// The command line as users meet it: a real child process running bin/nodehub.mjs (and src/cli.ts, as `npm start` does).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const node24 = join(root, 'node_modules/.bin/node');
const bin = join(root, 'bin/nodehub.mjs');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI to its end; with `signalWhen`, sends SIGTERM once stderr matches it (for a hub that keeps running). */
function run(args: string[], node = node24, script = bin, signalWhen?: RegExp): Promise<Result> {
  const env = { ...process.env };
  delete env.NODEHUB_CONFIG;
  delete env.JPY_COOKIE_SECRET;
  return new Promise((done, fail) => {
    const child = spawn(node, [script, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (signalWhen && !signalled && signalWhen.test(stderr)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('nodehub (child process)', () => {
  it('--version prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help lists the commands and common flags', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['Usage: nodehub', 'token USER', 'upgrade-db', '--config FILE', '--ip IP', '--port N', '--Class.trait=VALUE', '--generate-config']) {
      expect(r.stdout).toContain(word);
    }
  });

  it('a bad key on the command line exits 2 with the message and no stack trace', async () => {
    const r = await run(['--JupyterHub.prot=8000']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('nodehub: Unknown configuration key JupyterHub.prot (on the command line); did you mean JupyterHub.port?\n');
  });

  it('a bad value in the config file exits 2 naming the key and file', async () => {
    writeFileSync(join(dir, 'hub.yaml'), 'JupyterHub:\n  port: abc\n');
    const r = await run(['-f', 'hub.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('nodehub: JupyterHub.port must be an integer, got "abc" (in hub.yaml)\n');
  });

  it('picks up ./nodehub_config.yaml when no file is named', async () => {
    writeFileSync(join(dir, 'nodehub_config.yaml'), 'Spawner:\n  cmnd: [x]\n');
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Spawner.cmnd (in nodehub_config.yaml); did you mean Spawner.cmd?');
  });

  it('an unknown option or command is a usage error', async () => {
    expect(await run(['--prot', '1'])).toMatchObject({ code: 2, stderr: 'nodehub: Unknown option --prot; did you mean --port? (see nodehub --help)\n' });
    expect((await run(['token'])).code).toBe(2);
  });

  it('--generate-config writes a file, refuses to overwrite it without -y, and the file loads', async () => {
    const first = await run(['--generate-config']);
    expect(first.code).toBe(0);
    const file = join(dir, 'nodehub_config.yaml');
    expect(readFileSync(file, 'utf8')).toContain('# port: 8000');

    writeFileSync(file, 'JupyterHub:\n  port: 1\n');
    const again = await run(['--generate-config']);
    expect(again).toMatchObject({ code: 1, stderr: 'nodehub: nodehub_config.yaml already exists; add -y to overwrite it\n' });
    expect(readFileSync(file, 'utf8')).toBe('JupyterHub:\n  port: 1\n');

    expect((await run(['--generate-config', '-y'])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('# port: 8000');

    expect((await run(['--generate-config', '-f', 'other.yaml'])).code).toBe(0);
    expect(existsSync(join(dir, 'other.yaml'))).toBe(true);
    // the generated file is a valid config: a bad override is then the only complaint
    const r = await run(['-f', 'other.yaml', '--port=x']);
    expect(r).toMatchObject({ code: 2, stderr: 'nodehub: JupyterHub.port must be an integer, got "x" (on the command line)\n' });
  });

  it('src/cli.ts runs directly, as npm start does', async () => {
    expect(await run(['--version'], node24, join(root, 'src/cli.ts'))).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  // The bin re-runs itself under the Node 24 from node_modules when started by an older Node.
  const oldNode = ['/usr/bin/node', '/bin/node'].find((p) => existsSync(p));
  it.skipIf(!oldNode)('under an older Node the bin re-runs itself with Node 24 and passes the exit code on', async () => {
    expect(await run(['--version'], oldNode)).toMatchObject({ code: 0, stdout: `${version}\n` });
    const r = await run(['--Spawnr.cmd=[]'], oldNode);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('nodehub: Unknown configuration key Spawnr.cmd (on the command line); did you mean Spawner.cmd?\n');
  });

  // These run the real hub commands (src/hub/commands.ts) against a sqlite file in the temp dir.
  const hubArgs = () => ['--ip', '127.0.0.1', '--port', '0', '--db', `sqlite:///${join(dir, 'hub.sqlite')}`, `--JupyterHub.cookie_secret_file=${join(dir, 'secret')}`];

  it.skipIf(!oldNode)('starts the hub and, on SIGTERM forwarded by the bin, shuts it down and exits 0', async () => {
    const r = await run(hubArgs(), oldNode, bin, /running at http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stderr).toMatch(/received SIGTERM, shutting down/);
    expect(r.code).toBe(0);
  });

  it('starts from a jupyterhub_config.py, its print() output in the log', async () => {
    writeFileSync(
      join(dir, 'jupyterhub_config.py'),
      `import os
from jupyterhub.auth import DummyAuthenticator
c = get_config()
c.JupyterHub.authenticator_class = DummyAuthenticator
c.JupyterHub.db_url = 'sqlite:///' + os.path.join(os.path.dirname(__file__), 'py-hub.sqlite')
print('config read by', os.path.basename(__file__))
`,
    );
    const args = ['-f', 'jupyterhub_config.py', '--ip', '127.0.0.1', '--port', '0', `--JupyterHub.cookie_secret_file=${join(dir, 'secret')}`];
    const r = await run(args, node24, bin, /running at http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stderr).toMatch(/nodehub config\] jupyterhub_config\.py: config read by jupyterhub_config\.py/);
    expect(r.stderr).toMatch(/running at/);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'py-hub.sqlite'))).toBe(true); // the db_url the config built
  });

  it('a .py config with a hook stops start-up with the key and line; --generate-config will not write YAML into a .py', async () => {
    writeFileSync(join(dir, 'jupyterhub_config.py'), 'c.Spawner.pre_spawn_hook = print\n');
    const r = await run(['-f', 'jupyterhub_config.py']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^nodehub: Spawner\.pre_spawn_hook \(in jupyterhub_config\.py line 1\) is the function print, which nodehub cannot take/);
    const g = await run(['--generate-config', '-f', 'jupyterhub_config.py', '-y']);
    expect(g.code).toBe(2);
    expect(g.stderr).toBe('nodehub: --generate-config writes YAML; name a .yaml file instead of jupyterhub_config.py\n');
  });

  it('token USER prints a token; upgrade-db prints a message', async () => {
    expect((await run(['upgrade-db', ...hubArgs()])).code).toBe(0);
    const r = await run(['token', 'alice', ...hubArgs()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S{16,}\n$/);
  });
});
