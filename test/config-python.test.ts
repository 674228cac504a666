// jupyterhub_config.py read the way JupyterHub reads it, by a real python3 (src/config/pyconfig/runner.py).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { JUPYTERHUB_VERSION } from '../src/util/version.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-pyconfig-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = { PATH: process.env.PATH, HOME: process.env.HOME };

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function load(text: string, extra: Partial<Parameters<typeof loadConfig>[0]> = {}) {
  write('jupyterhub_config.py', text);
  return loadConfig({ file: 'jupyterhub_config.py', cwd: dir, env, ...extra });
}

async function failure(text: string, extra: Partial<Parameters<typeof loadConfig>[0]> = {}): Promise<ConfigError> {
  const err = await load(text, extra).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('recording what the file assigns', () => {
  it('takes every form of assignment, edit and read-back', async () => {
    const c = await load(`import os
c.JupyterHub.port = 8001                       # c is there before get_config(), as in JupyterHub
c = get_config()
assert get_config() is c
c.JupyterHub.port = c.JupyterHub.port + 1      # reads back what was assigned
c.JupyterHub.ip = os.environ['HUB_IP']
c.JupyterHub.cookie_secret_file = os.path.join(os.path.dirname(__file__), 'secret')
print("this goes to the log, not into the result")
c.Spawner.args = ['--a']
c.Spawner.args.append('--b')                   # a list assigned earlier is a real list
c.Spawner.args.extend(['--c', '--d'])
c.Spawner.env_keep.append('MY_VAR')            # never assigned: edits the default, as traitlets' lazy values do
c.Spawner.environment['K'] = 'v'
c.Spawner.environment.update({'L': 'w'})
c.Authenticator.admin_users.add('root')
c.Authenticator.blocked_users.update({'mallory'})
c.Spawner.cmd.prepend(['env'])
c.JupyterHub.template_vars = {'headers': {'X': 'y'}}
c.JupyterHub.template_vars['headers']['Z'] = 'q'
c['LocalProcessSpawner']['kill_timeout'] = 7
print(c.Spawner.mem_limit, hasattr(c.KubeSpawner, 'namespace'), c.BatchSpawnerBase)  # reads set nothing
c.JupyterHub.services = []
c.JupyterHub.services.append({'name': 'svc', 'url': 'http://127.0.0.1:9999', 'command': ('python3', '-m', 'x')})
`, { env: { ...env, HUB_IP: '10.1.2.3' } });
    expect(c.hub.port).toBe(8002);
    expect(c.hub.ip).toBe('10.1.2.3');
    expect(c.hub.cookie_secret_file).toBe(join(dir, 'secret'));
    expect(c.spawner.args).toEqual(['--a', '--b', '--c', '--d']);
    expect(c.spawner.env_keep).toContain('PATH');
    expect(c.spawner.env_keep.at(-1)).toBe('MY_VAR');
    expect(c.spawner.environment).toEqual({ K: 'v', L: 'w' });
    expect(c.spawner.cmd).toEqual(['env', 'jupyterhub-singleuser']);
    expect(c.spawner.kill_timeout).toBe(7);
    expect(c.authenticator.admin_users).toEqual(['root']);
    expect(c.authenticator.blocked_users).toEqual(['mallory']);
    expect(c.hub.template_vars).toEqual({ headers: { X: 'y', Z: 'q' } });
    expect(c.hub.services).toMatchObject([{ name: 'svc', url: 'http://127.0.0.1:9999', command: ['python3', '-m', 'x'] }]);
    expect(c.source).toBe('jupyterhub_config.py');
  });

  it('load_subconfig reads a file next to the config, whatever the working directory', async () => {
    mkdirSync(join(dir, 'etc'));
    write('etc/jupyterhub_config.py', "c.JupyterHub.port = 1\nload_subconfig('more.py')\nload_subconfig('absent.py')\nc.Spawner.args = ['--x']\n");
    write('etc/more.py', "c.JupyterHub.port = 2\nc.Spawner.args = ['--overwritten']\nc.Spawner.http_timeout = 3\n");
    const c = await loadConfig({ file: 'etc/jupyterhub_config.py', cwd: dir, env });
    expect(c.hub.port).toBe(2);
    expect(c.spawner.args).toEqual(['--x']);
    expect(c.spawner.http_timeout).toBe(3);
  });

  it('a subconfig error names the subconfig file and line', async () => {
    write('more.py', 'x = 1\nraise RuntimeError("no cluster")\n');
    const err = await failure("load_subconfig('more.py')\n");
    expect(err.message).toBe('Error in more.py line 2: RuntimeError: no cluster');
  });

  it('a JupyterHub 5.4-style config loads into the same configuration as its YAML', async () => {
    const py = await load(`c = get_config()  # noqa
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.authenticator_class = "null"
c.JupyterHub.ip = "127.0.0.1"
c.Authenticator.allowed_users = {"alice", "bob"}
c.Authenticator.admin_users = set()
c.JupyterHub.services = [
    {"name": "announce", "api_token": "a" * 32, "url": "http://127.0.0.1:8888"},
    {"name": "culler", "api_token": "b" * 32, "command": ["python3", "-m", "jupyterhub_idle_culler"]},
]
c.JupyterHub.load_roles = [
    {"name": "culler", "scopes": ["list:users", "delete:servers"], "services": ["culler"]},
    {"name": "announcer", "scopes": ["read:users"], "services": ["announce"], "users": ["alice"]},
]
`);
    const yamlFile = write(
      'jupyterhub_config.yaml',
      `JupyterHub:
  spawner_class: simple
  authenticator_class: "null"
  ip: 127.0.0.1
  services:
    - {name: announce, api_token: ${'a'.repeat(32)}, url: "http://127.0.0.1:8888"}
    - {name: culler, api_token: ${'b'.repeat(32)}, command: [python3, -m, jupyterhub_idle_culler]}
  load_roles:
    - {name: culler, scopes: ["list:users", "delete:servers"], services: [culler]}
    - {name: announcer, scopes: ["read:users"], services: [announce], users: [alice]}
Authenticator:
  allowed_users: [alice, bob]
  admin_users: []
`,
    );
    const yaml = await loadConfig({ file: yamlFile, env });
    expect({ ...py, source: null }).toEqual({ ...yaml, source: null });
    expect(py.authenticator.allowed_users).toEqual(['alice', 'bob']);
    expect(py.hub.services.map((s) => s.name)).toEqual(['announce', 'culler']);
  });
});

describe('the jupyterhub module a config imports', () => {
  it('has the version nodehub speaks for, and classes become their class path', async () => {
    const c = await load(`import jupyterhub
from jupyterhub.auth import DummyAuthenticator
from jupyterhub.spawner import LocalProcessSpawner
assert jupyterhub.__version__ == ${JSON.stringify(JUPYTERHUB_VERSION)}, jupyterhub.__version__
assert jupyterhub.version_info[0] == ${Number(JUPYTERHUB_VERSION.split('.')[0])}
c.JupyterHub.authenticator_class = DummyAuthenticator
c.JupyterHub.spawner_class = LocalProcessSpawner
c.DummyAuthenticator.password = 'pw'
c.LocalProcessSpawner.kill_timeout = 9
`);
    expect(c.hub.authenticator_class).toBe('jupyterhub.auth.DummyAuthenticator');
    expect(c.hub.spawner_class).toBe('jupyterhub.spawner.LocalProcessSpawner');
    // the class path picks the class's own section, as a YAML class path does
    expect(c.authenticator.password).toBe('pw');
    expect(c.spawner.kill_timeout).toBe(9);
  });

  // Debian's python3-jupyterhub lives in /usr/bin/python3; the pyenv python3 first on PATH does not have it.
  const realHub = (() => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import jupyterhub.utils'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!realHub)('with a real JupyterHub installed, its other modules import and the stand-in still names classes', async () => {
    mkdirSync(join(dir, 'bin'));
    symlinkSync('/usr/bin/python3', join(dir, 'bin/python3'));
    const c = await load(
      `from jupyterhub.utils import url_path_join
from jupyterhub.auth import DummyAuthenticator
c.JupyterHub.base_url = url_path_join('/a', 'b')
c.JupyterHub.authenticator_class = DummyAuthenticator
`,
      { env: { PATH: join(dir, 'bin') } },
    );
    expect(c.hub.base_url).toBe('/a/b/');
    expect(c.hub.authenticator_class).toBe('jupyterhub.auth.DummyAuthenticator');
  });
});

describe('errors name the key, the file and the line', () => {
  it('a function value, naming the key and the line it was assigned on, and how to write it in .mjs', async () => {
    const err = await failure(`c = get_config()

def my_hook(spawner):
    spawner.environment['X'] = '1'

c.Spawner.pre_spawn_hook = my_hook
`);
    expect(err.key).toBe('Spawner.pre_spawn_hook');
    expect(err.message).toMatch(/^Spawner\.pre_spawn_hook \(in jupyterhub_config\.py line 6\) is the function my_hook, which nodehub cannot take from a \.py config/);
    expect(err.message).toContain('.mjs');
    expect(err.message).toContain('pre_spawn_hook: async (spawner)');
  });

  it.each([
    ['class MySpawner(LocalProcessSpawner):\n    pass\nc.JupyterHub.spawner_class = MySpawner\n', 'JupyterHub.spawner_class', 3, 'the class MySpawner, defined in the config file'],
    ["c.Spawner.environment = {'A': 'x', 'B': lambda spawner: 'y'}\n", 'Spawner.environment.B', 1, 'a lambda function'],
    ['import threading\nc.JupyterHub.services = [{"name": "a", "info": {"lock": threading.Lock()}}]\n', 'JupyterHub.services[0].info.lock', 2, 'a lock object'],
    ["c.Spawner.environment = {1: 'x'}\n", 'Spawner.environment', 1, 'a mapping with the non-string key 1'],
  ])('a value nodehub cannot carry: %j', async (text, key, line, what) => {
    const err = await failure(`from jupyterhub.spawner import LocalProcessSpawner\n${text}`);
    expect(err.key).toBe(key);
    expect(err.message).toContain(`${key} (in jupyterhub_config.py line ${line + 1}) is ${what},`);
  });

  it('a set is fine and comes out as a sorted list', async () => {
    expect((await load("c.Authenticator.allowed_users = {'zed', 'amy', 'bob'}\n")).authenticator.allowed_users).toEqual(['amy', 'bob', 'zed']);
  });

  it('a syntax error', async () => {
    const err = await failure("c.JupyterHub.port = 8000\nc.Spawner.cmd = ['a',\n");
    expect(err.message).toMatch(/^Error in jupyterhub_config\.py line 2: SyntaxError: /);
    expect(err.message).not.toContain('Traceback');
  });

  it('an exception names the file, line and message, not a traceback', async () => {
    const err = await failure("import os\n\nc.JupyterHub.port = int(os.environ['HUB_PORT'])\n");
    expect(err.message).toBe("Error in jupyterhub_config.py line 3: KeyError: 'HUB_PORT'");
  });

  it('sys.exit() in the config is an error too', async () => {
    expect((await failure('import sys\nsys.exit(3)\n')).message).toBe('Error in jupyterhub_config.py line 2: SystemExit: 3');
  });

  it('wrong types and unknown keys get the YAML messages, with the line', async () => {
    expect((await failure("c = get_config()\nc.JupyterHub.port = '80a'\n")).message).toBe(
      'JupyterHub.port must be an integer, got "80a" (in jupyterhub_config.py line 2)',
    );
    const unknown = await failure('\n\nc.JupyterHub.prot = 8000\n');
    expect(unknown.message).toBe('Unknown configuration key JupyterHub.prot (in jupyterhub_config.py line 3); did you mean JupyterHub.port?');
    expect((await failure('c.Jupyterhub.port = 1\n')).message).toBe(
      'Unknown configuration key Jupyterhub (in jupyterhub_config.py line 1); did you mean JupyterHub?',
    );
    expect((await failure('c.Spawner.mem_limit.append(1)\n')).message).toContain('Spawner.mem_limit cannot take list edits');
  });

  it('without python3 on PATH', async () => {
    mkdirSync(join(dir, 'empty'));
    const err = await failure('c.JupyterHub.port = 1\n', { env: { PATH: join(dir, 'empty') } });
    expect(err.message).toBe(
      'Reading jupyterhub_config.py needs python3 on PATH, and there is none; install Python 3, or write the configuration as YAML or .mjs',
    );
  });

  it('a config that hangs is stopped', async () => {
    const err = await failure('import time\nwhile True:\n    time.sleep(1)\n', { pythonTimeoutMs: 500 });
    expect(err.message).toMatch(/^jupyterhub_config\.py did not finish within 0\.5 s/);
  });

  it('a missing file', async () => {
    const err = await loadConfig({ file: 'nope.py', cwd: dir, env }).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ name: 'ConfigError', message: 'Config file nope.py not found' });
  });

  it('writes no __pycache__ next to the config', async () => {
    write('helper.py', 'PORT = 8123\n');
    await load('import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\nimport helper\nc.JupyterHub.port = helper.PORT\n');
    expect(readdirSync(dir)).not.toContain('__pycache__');
  });
});

// ../shared/seeds/004: a batchspawner/Slurm hub's jupyterhub_config.py (the closing """ the page lost restored).
const seed004 = `## Example JupyterHub
c.JupyterHub.port = 8000
c.JupyterHub.hub_port = 8081

c = get_config()
c.JupyterHub.spawner_class = 'batchspawner.SlurmSpawner'

c.JupyterHub.statsd_prefix = 'jupyterhub-astro'
c.JupyterHub.cookie_secret_file = '/var/run/jupyterhub/jupyterhub-astro_cookie_secret'
c.JupyterHub.db_url = 'sqlite:////var/run/jupyterhub/jupyterhub-astro.sqlite'

c.JupyterHub.base_url = '/astro'
c.JupyterHub.proxy_auth_token = 'astro-hub'

c.BatchSpawnerBase.req_nprocs = '4'
c.BatchSpawnerBase.req_partition = 'slims'
c.BatchSpawnerBase.req_memory = '4b'
c.BatchSpawnerBase.batch_script = """#!/bin/bash
#SBATCH --partition={partition}
#SBATCH --output={homedir}/myjupyterhub_%j.log
#SBATCH --job-name=my_jupyterhub
#SBATCH --workdir={homedir}
#SBATCH --mem={memory}
#SBATCH --export={keepvars}
#SBATCH --uid={username}
#SBATCH --get-user-env=L
#SBATCH {options}

module load astro

which jupyterhub-singleuser
JUPYTERHUB_RUNTIME_DIR=$HOME/.jupyter/rt {cmd}
"""

c.Authenticator.admin_users = {'user1','user2'}
c.Authenticator.whitelist = set(['user1','user2','student01','student02'])
`;

describe('seed 004', () => {
  it('loads as written: every JupyterHub and batchspawner key of it is known, and it selects the Slurm spawner', async () => {
    const c = await load(seed004);
    expect([c.spawnerSection, c.hub.base_url, c.hub.hub_port]).toEqual(['SlurmSpawner', '/astro/', 8081]);
    expect(c.spawner).toMatchObject({ req_nprocs: '4', req_partition: 'slims', req_memory: '4b' });
    expect((c.spawner as unknown as { batch_script: string }).batch_script).toContain('module load astro');
    expect(c.authenticator.admin_users).toEqual(['user1', 'user2']);
  });
});
