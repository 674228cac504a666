// `nodehub proxy …`: configurable-http-proxy's command, on nodehub's forwarder. Takes no hub configuration; usage
// mistakes exit 2 with one line on stderr, a failed start (port taken, unreadable TLS file) exits 1.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createLogger, setLogLevel } from '../../util/log.ts';
import { parseProxyArgs, ProxyUsageError, proxyUsage } from './options.ts';
import { startChpProxy } from './server.ts';
import type { ChpProxy } from './server.ts';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const hostForUrl = (ip: string | undefined): string => (ip === undefined ? '*' : ip.includes(':') ? `[${ip}]` : ip);

/** Resolves to an exit code, or null once the proxy is running and owns the process (it exits on SIGINT/SIGTERM). */
export async function runProxyCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  let parsed;
  try {
    parsed = parseProxyArgs(argv);
  } catch (err) {
    if (!(err instanceof ProxyUsageError)) throw err;
    process.stderr.write(`nodehub proxy: ${err.message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(proxyUsage);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const opts = parsed.options;
  setLogLevel(opts.logLevel);
  const log = createLogger('nodehub.proxy');
  const authToken = env.CONFIGPROXY_AUTH_TOKEN || undefined;
  if (authToken === undefined) log.warn('REST API is not authenticated (CONFIGPROXY_AUTH_TOKEN is not set)');

  let proxy: ChpProxy;
  try {
    proxy = await startChpProxy({ ...opts, authToken, sslPassphrase: env.CONFIGPROXY_SSL_KEY_PASSPHRASE, log });
  } catch (err) {
    process.stderr.write(`nodehub proxy: ${(err as Error).message}\n`);
    return 1;
  }
  const scheme = opts.sslKey !== undefined ? 'https' : 'http';
  log.info(`Proxying ${scheme}://${hostForUrl(opts.ip)}:${proxy.port} to ${opts.defaultTarget ?? '(no default)'}`);
  log.info(`Proxy API at http://${hostForUrl(opts.apiIp)}:${proxy.apiPort}/api/routes`);

  if (opts.pidFile !== undefined) {
    try {
      writeFileSync(opts.pidFile, String(process.pid));
    } catch (err) {
      await proxy.close();
      process.stderr.write(`nodehub proxy: cannot write the pid file: ${(err as Error).message}\n`);
      return 1;
    }
    process.once('exit', () => rmSync(opts.pidFile!, { force: true }));
  }

  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) process.exit(1);
    closing = true;
    log.info(`Received ${signal}, shutting down`);
    proxy.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return null;
}
