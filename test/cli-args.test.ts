import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../src/config/argv.ts';
import { ConfigError } from '../src/config/index.ts';

describe('parseCliArgs', () => {
  it('defaults to starting the hub with no file and no overrides', () => {
    expect(parseCliArgs([])).toMatchObject({ command: 'start', rest: [], file: undefined, overrides: {}, help: false });
  });

  it('reads -f/--config in both spellings', () => {
    expect(parseCliArgs(['-f', 'a.yaml']).file).toBe('a.yaml');
    expect(parseCliArgs(['-f=b.yaml']).file).toBe('b.yaml');
    expect(parseCliArgs(['--config', 'c.json']).file).toBe('c.json');
    expect(parseCliArgs(['--config=d.mjs']).file).toBe('d.mjs');
  });

  it('turns aliases and --Class.trait into overrides, a later flag winning', () => {
    const args = parseCliArgs(['--ip', '127.0.0.1', '--port=8001', '--Spawner.cmd=["a","b"]', '--DummyAuthenticator.password', 'pw', '--JupyterHub.port=9']);
    expect(args.overrides).toEqual({
      'JupyterHub.ip': '127.0.0.1',
      'JupyterHub.port': '9',
      'Spawner.cmd': '["a","b"]',
      'DummyAuthenticator.password': 'pw',
    });
  });

  it('keeps an empty value and values containing "="', () => {
    expect(parseCliArgs(['--ip=', '--Spawner.args=["--x=1"]']).overrides).toEqual({ 'JupyterHub.ip': '', 'Spawner.args': '["--x=1"]' });
  });

  it('--debug sets the log level', () => {
    expect(parseCliArgs(['--debug'])).toMatchObject({ debug: true, overrides: { 'JupyterHub.log_level': 'DEBUG' } });
  });

  it('reads subcommands and their words', () => {
    expect(parseCliArgs(['token', 'alice', '-f', 'x.yaml'])).toMatchObject({ command: 'token', rest: ['alice'], file: 'x.yaml' });
    expect(parseCliArgs(['upgrade-db'])).toMatchObject({ command: 'upgrade-db', rest: [] });
    expect(parseCliArgs(['token', '--', '-odd-name'])).toMatchObject({ command: 'token', rest: ['-odd-name'] });
  });

  it('flags', () => {
    expect(parseCliArgs(['--generate-config', '-y', '-f', 'o.yaml'])).toMatchObject({ generateConfig: true, yes: true, file: 'o.yaml' });
    expect(parseCliArgs(['-h']).help).toBe(true);
    expect(parseCliArgs(['--version']).version).toBe(true);
  });

  it.each([
    [['--prot', '1'], 'Unknown option --prot; did you mean --port? (see nodehub --help)'],
    [['-x'], 'Unknown option -x (see nodehub --help)'],
    [['tokn', 'a'], 'Unknown command tokn; did you mean token? (see nodehub --help)'],
    [['--port'], '--port needs a value'],
    [['-f'], '-f needs a value'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(ConfigError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});
