// `nodehub proxy`'s command line: configurable-http-proxy's flags and defaults, clear errors for everything else, and
// the command as a real process (help, usage errors, a port already taken, SIGTERM with a pid file).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../src/config/argv.ts';
import { parseProxyArgs, ProxyUsageError, startChpProxy } from '../src/proxy/chp/index.ts';
import { createLogger } from '../src/util/log.ts';
import { closeServer, listen } from './proxy-support.ts';

const ROOT = resolve(import.meta.dirname, '..');
const NODE24 = join(ROOT, 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'nodehub-chp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseProxyArgs', () => {
  it("has configurable-http-proxy's defaults", () => {
    expect(parseProxyArgs([])).toEqual({
      help: false,
      version: false,
      options: {
        ip: undefined, port: 8000, apiIp: 'localhost', apiPort: 8001, defaultTarget: undefined, errorTarget: undefined,
        errorPath: undefined, logLevel: 'info', sslKey: undefined, sslCert: undefined, timeout: 0, proxyTimeout: 0,
        keepAliveTimeout: 5000, xForward: true, hostRouting: false, includePrefix: true, prependPath: true,
        customHeaders: {}, pidFile: undefined,
      },
    });
    expect(parseProxyArgs(['--port', '9000']).options.apiPort).toBe(9001);
    expect(parseProxyArgs(['--port=0']).options).toMatchObject({ port: 0, apiPort: 0 });
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    const { options } = parseProxyArgs([
      '--ip', '127.0.0.1', '--port=8100', '--api-ip=127.0.0.2', '--api-port', '8200',
      '--default-target', 'http://127.0.0.1:8081', '--error-target=http://127.0.0.1:8081/hub/error',
      '--log-level', 'DEBUG', '--ssl-key', 'k.pem', '--ssl-cert', 'c.pem', '--timeout', '100', '--proxy-timeout=200',
      '--keep-alive-timeout', '0', '--no-x-forward', '--host-routing', '--no-include-prefix', '--no-prepend-path',
      '--custom-header', 'X-A: 1', '--custom-header=X-B:two:parts', '--pid-file', 'p.pid',
    ]);
    expect(options).toEqual({
      ip: '127.0.0.1', port: 8100, apiIp: '127.0.0.2', apiPort: 8200, defaultTarget: 'http://127.0.0.1:8081',
      errorTarget: 'http://127.0.0.1:8081/hub/error', errorPath: undefined, logLevel: 'debug', sslKey: 'k.pem',
      sslCert: 'c.pem', timeout: 100, proxyTimeout: 200, keepAliveTimeout: 0, xForward: false, hostRouting: true,
      includePrefix: false, prependPath: false, customHeaders: { 'X-A': '1', 'X-B': 'two:parts' }, pidFile: 'p.pid',
    });
    expect(parseProxyArgs(['--ip', '*']).options.ip).toBeUndefined();
    expect(parseProxyArgs(['--error-path', '/srv/errors']).options.errorPath).toBe('/srv/errors');
    expect(parseProxyArgs(['-h']).help).toBe(true);
    expect(parseProxyArgs(['--version']).version).toBe(true);
  });

  it.each([
    [['--prot', '1'], 'unknown option --prot (see nodehub proxy --help)'],
    [['--metrics-port', '9'], '--metrics-port is a configurable-http-proxy option that nodehub proxy does not support'],
    [['--api-ssl-key', 'k'], '--api-ssl-key is a configurable-http-proxy option'],
    [['extra'], 'unexpected argument "extra"'],
    [['--port'], '--port needs a value'],
    [['--port', '80a'], '--port must be a whole number from 0 to 65535, not "80a"'],
    [['--api-port', '70000'], '--api-port must be a whole number from 0 to 65535'],
    [['--timeout', '-1'], '--timeout must be a whole number'],
    [['--default-target', 'localhost:8081'], '--default-target must be an http:// or https:// URL'],
    [['--default-target', '127.0.0.1:8081'], '--default-target must be a URL such as http://127.0.0.1:8081'],
    [['--error-target', 'not a url'], '--error-target must be a URL'],
    [['--log-level', 'loud'], '--log-level must be one of debug, info, warn, error'],
    [['--custom-header', 'novalue'], '--custom-header needs NAME:VALUE'],
    [['--custom-header', 'bad name:v'], '--custom-header needs NAME:VALUE'],
    [['--host-routing=yes'], '--host-routing takes no value'],
    [['--error-target', 'http://a/', '--error-path', '/x'], '--error-target and --error-path cannot both be given'],
    [['--ssl-key', 'k.pem'], '--ssl-key and --ssl-cert must be given together'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseProxyArgs(argv)).toThrow(ProxyUsageError);
    expect(() => parseProxyArgs(argv)).toThrow(message);
  });
});

describe('nodehub command line', () => {
  it('`proxy` hands every later word to the proxy, unparsed by the hub', () => {
    expect(parseCliArgs(['proxy', '--port', '9000', '--default-target', 'http://x'])).toMatchObject({
      command: 'proxy',
      rest: ['--port', '9000', '--default-target', 'http://x'],
      overrides: {},
    });
    expect(() => parseCliArgs(['proxi'])).toThrow('Unknown command proxi; did you mean proxy?');
  });
});

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(NODE24, [join(ROOT, 'src/cli.ts'), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  return { child, exited, out: () => ({ stdout, stderr }) };
}

describe('nodehub proxy (child process)', () => {
  it('--help lists the configurable-http-proxy flags; nodehub --help lists the command', async () => {
    const help = run(['proxy', '--help']);
    expect(await help.exited).toBe(0);
    for (const flag of ['--ip', '--port', '--api-ip', '--api-port', '--default-target', '--error-target', '--error-path',
      '--log-level', '--ssl-key', '--ssl-cert', '--timeout', '--proxy-timeout', '--keep-alive-timeout', '--no-x-forward',
      '--host-routing', '--no-include-prefix', '--no-prepend-path', '--custom-header', 'CONFIGPROXY_AUTH_TOKEN']) {
      expect(help.out().stdout).toContain(flag);
    }
    const top = run(['--help']);
    expect(await top.exited).toBe(0);
    expect(top.out().stdout).toContain('proxy [FLAGS]');
  });

  it('a usage mistake exits 2 with one line and no stack trace', async () => {
    const r = run(['proxy', '--no-such-flag']);
    expect(await r.exited).toBe(2);
    expect(r.out()).toEqual({ stdout: '', stderr: 'nodehub proxy: unknown option --no-such-flag (see nodehub proxy --help)\n' });
  });

  it('a port already taken exits 1 naming it', async () => {
    const busy = http.createServer();
    const port = await listen(busy);
    try {
      const r = run(['proxy', '--ip', '127.0.0.1', '--port', String(port), '--api-port', '0']);
      expect(await r.exited).toBe(1);
      expect(r.out().stderr).toContain(`nodehub proxy: cannot listen for the proxy on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      await closeServer(busy);
    }
  });

  it('serves until SIGTERM, then exits 0 and removes its pid file; warns when the API is open', async () => {
    const pidFile = join(dir, 'proxy.pid');
    const r = run(['proxy', '--ip', '127.0.0.1', '--port', '0', '--api-ip', '127.0.0.1', '--pid-file', pidFile]);
    const deadline = Date.now() + 10_000;
    while (!/Proxy API at http:\/\/127\.0\.0\.1:(\d+)/.test(r.out().stderr) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 20));
    }
    try {
      const apiPort = /Proxy API at http:\/\/127\.0\.0\.1:(\d+)/.exec(r.out().stderr)?.[1];
      expect(apiPort).toBeDefined();
      expect(r.out().stderr).toContain('REST API is not authenticated');
      expect(readFileSync(pidFile, 'utf8')).toBe(String(r.child.pid));
      expect((await fetch(`http://127.0.0.1:${apiPort}/api/routes`)).status).toBe(200);
    } finally {
      r.child.kill('SIGTERM');
    }
    expect(await r.exited).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });
});

describe('startChpProxy', () => {
  it('closes the public listener again when the API port is taken', async () => {
    const busy = http.createServer();
    const apiPort = await listen(busy);
    try {
      const probe = http.createServer();
      const port = await listen(probe);
      await closeServer(probe);
      await expect(startChpProxy({ ip: '127.0.0.1', port, apiIp: '127.0.0.1', apiPort, log: createLogger('test') }))
        .rejects.toThrow(`cannot listen for the proxy API on 127.0.0.1:${apiPort}: EADDRINUSE`);
      // The public port must be free again: bind it ourselves.
      const again = http.createServer();
      again.listen(port, '127.0.0.1');
      await once(again, 'listening');
      await closeServer(again);
    } finally {
      await closeServer(busy);
    }
  });
});
