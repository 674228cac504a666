import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/index.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Loads `text` as `nodehub.yaml` (relative to the temp dir, as a user would name it) and returns the ConfigError. */
async function failure(text: string, name = 'nodehub.yaml'): Promise<ConfigError> {
  writeFileSync(join(dir, name), text);
  const err = await loadConfig({ file: name, cwd: dir, env: {} }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

async function overrideFailure(overrides: Record<string, string>): Promise<ConfigError> {
  const err = await loadConfig({ file: null, env: {}, overrides }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('unknown keys name the full path, the origin and the nearest known name', () => {
  it('a misspelt trait', async () => {
    const err = await failure('JupyterHub:\n  prot: 8000\n');
    expect(err.message).toBe('Unknown configuration key JupyterHub.prot (in nodehub.yaml); did you mean JupyterHub.port?');
    expect(err.key).toBe('JupyterHub.prot');
  });

  it('a misspelt section, letter case included', async () => {
    const err = await failure('Jupyterhub:\n  port: 8000\n');
    expect(err.message).toBe('Unknown configuration key Jupyterhub (in nodehub.yaml); did you mean JupyterHub?');
    expect((await failure('LocalProcesSpawner:\n  kill_timeout: 1\n')).message).toContain('did you mean LocalProcessSpawner?');
  });

  it('a nested service field', async () => {
    const err = await failure('JupyterHub:\n  services:\n    - name: a\n      comand: [x]\n');
    expect(err.message).toBe(
      'Unknown configuration key JupyterHub.services[0].comand (in nodehub.yaml); did you mean JupyterHub.services[0].command?',
    );
    expect(err.key).toBe('JupyterHub.services[0].comand');
  });

  it('a right trait in the wrong class points at the class that has it', async () => {
    expect((await failure('JupyterHub:\n  cmd: [x]\n')).message).toContain('did you mean Spawner.cmd?');
  });

  it('nothing close: points at --generate-config instead of guessing', async () => {
    const err = await failure('Spawner:\n  completely_unrelated_setting: 1\n');
    expect(err.message).toMatch(/^Unknown configuration key Spawner\.completely_unrelated_setting \(in nodehub\.yaml\); run `nodehub --generate-config`/);
  });

  it('a class-specific trait is not known to its parent or sibling', async () => {
    expect((await failure('Spawner:\n  kill_timeout: 1\n')).key).toBe('Spawner.kill_timeout');
    expect((await failure('KubeSpawner:\n  kill_timeout: 1\n')).key).toBe('KubeSpawner.kill_timeout');
  });

  it('from the command line', async () => {
    const err = await overrideFailure({ 'Spawner.start_timout': '3' });
    expect(err.message).toBe('Unknown configuration key Spawner.start_timout (on the command line); did you mean Spawner.start_timeout?');
    expect((await overrideFailure({ 'Spawnr.cmd': '[]' })).message).toContain('did you mean Spawner.cmd?');
  });
});

describe('wrong types name the key and the expected type', () => {
  it.each([
    ['JupyterHub:\n  port: abc\n', 'JupyterHub.port must be an integer, got "abc" (in nodehub.yaml)'],
    ['JupyterHub:\n  port: 80.5\n', 'JupyterHub.port must be an integer, got 80.5 (in nodehub.yaml)'],
    ['JupyterHub:\n  allow_named_servers: "yes"\n', 'JupyterHub.allow_named_servers must be true or false, got "yes" (in nodehub.yaml)'],
    ['Spawner:\n  args: --debug\n', 'Spawner.args must be a list of strings, got "--debug" (in nodehub.yaml)'],
    ['Spawner:\n  environment: {A: [1]}\n', 'Spawner.environment.A must be a string, got [1] (in nodehub.yaml)'],
    ['Spawner:\n  mem_limit: lots\n', 'Spawner.mem_limit must be a byte count such as 1073741824 or "1G" or null, got "lots" (in nodehub.yaml)'],
    ['JupyterHub:\n  cookie_secret: xyz\n', 'JupyterHub.cookie_secret must be a hex string, got "xyz" (in nodehub.yaml)'],
    ['JupyterHub:\n  authenticator_class: null\n', 'JupyterHub.authenticator_class must be a string, got null (in nodehub.yaml)'],
    ['JupyterHub: [1]\n', 'JupyterHub must be a mapping of trait names to values, got [1] (in nodehub.yaml)'],
    ['LocalProcessSpawner:\n  uid_range: [1000]\n', 'LocalProcessSpawner.uid_range must be a list of two uids [first, last] with 0 < first <= last or null, got [1000] (in nodehub.yaml)'],
    ['JupyterHub:\n  log_level: LOUD\n', 'JupyterHub.log_level must be one of DEBUG, INFO, WARN, ERROR, CRITICAL, got "LOUD" (in nodehub.yaml)'],
  ])('%j', async (text, message) => {
    const err = await failure(text);
    expect(err.message).toBe(message);
    expect(err.key).toBe(message.split(' ')[0]);
  });

  it('from the command line', async () => {
    const err = await overrideFailure({ 'JupyterHub.port': 'abc' });
    expect(err.message).toBe('JupyterHub.port must be an integer, got "abc" (on the command line)');
  });

  it('a hook can only come from a JS config file', async () => {
    const err = await failure('Spawner:\n  pre_spawn_hook: "print(1)"\n');
    expect(err.message).toContain('Spawner.pre_spawn_hook must be a function (set it from a .mjs or .js config file)');
  });

  it('a function where data belongs', async () => {
    const err = await failure('export default { JupyterHub: { port: () => 8000 } };\n', 'nodehub.mjs');
    expect(err.message).toBe('JupyterHub.port must be an integer, got a function (in nodehub.mjs)');
  });

  it('service entries: required name, field types, duplicate names', async () => {
    expect((await failure('JupyterHub:\n  services:\n    - url: http://x\n')).message).toBe(
      'JupyterHub.services[0].name is required (in nodehub.yaml)',
    );
    expect((await failure('JupyterHub:\n  services:\n    - name: a\n      admin: "no"\n')).key).toBe('JupyterHub.services[0].admin');
    expect((await failure('JupyterHub:\n  services:\n    - name: a\n    - name: a\n')).message).toContain(
      'JupyterHub.services[1].name: service "a" is defined twice',
    );
  });

  it('role and profile entries', async () => {
    expect((await failure('JupyterHub:\n  load_roles:\n    - name: r\n      scope: [x]\n')).message).toContain(
      'did you mean JupyterHub.load_roles[0].scopes?',
    );
    const dup = await failure('Spawner:\n  profile_list:\n    - display_name: A b\n    - display_name: a-B\n');
    expect(dup.message).toContain('Spawner.profile_list[1].slug: profile slug "a-b" is defined twice');
  });

  it('port ranges', async () => {
    expect((await overrideFailure({ 'JupyterHub.port': '70000' })).message).toBe('JupyterHub.port must be a port number (0-65535), got 70000');
  });
});

describe('file problems', () => {
  it('a missing file', async () => {
    await expect(loadConfig({ file: join(dir, 'nope.yaml'), env: {} })).rejects.toThrow(/Config file .*nope\.yaml not found/);
  });

  it('YAML that does not parse', async () => {
    expect((await failure('JupyterHub:\n  port: [1,\n')).message).toMatch(/^Cannot parse nodehub\.yaml: /);
  });

  it('a top level that is not a mapping', async () => {
    expect((await failure('- JupyterHub\n')).message).toContain('nodehub.yaml must hold a mapping of class names');
  });

  it('an unsupported extension', async () => {
    // .py is read now (test/config-python.test.ts); .cfg is not
    expect((await failure('[JupyterHub]\n', 'jupyterhub.cfg')).message).toContain('must end in .yaml, .yml, .json, .mjs, .js or .py');
  });

  it('a module without a default export, or one that throws', async () => {
    expect((await failure('export const JupyterHub = {};\n', 'a.mjs')).message).toContain('a.mjs has no default export');
    expect((await failure('throw new Error("boom");\n', 'b.mjs')).message).toBe('Cannot load b.mjs: boom');
  });
});
