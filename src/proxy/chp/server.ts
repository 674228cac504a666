// The standalone proxy's two listeners: the public one, served by the same createForwarder and RouteTable as the
// hub's own front door, and the REST API one. Usable in-process (tests, benchmarks) or from `nodehub proxy`.
import { readFileSync } from 'node:fs';
import { http, https } from '../../util/builtins.ts';
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { ServerOptions as TlsServerOptions } from 'node:https';
import { createLogger } from '../../util/log.ts';
import type { Logger } from '../../util/log.ts';
import { createForwarder, defaultOnError } from '../forwarder.ts';
import { RouteTable } from '../route-table.ts';
import type { ForwarderOptions } from '../types.ts';
import { createApiHandler } from './api.ts';
import { errorPathPages, errorTargetPages } from './error-pages.ts';
import type { ErrorPage } from './error-pages.ts';
import type { ChpOptions } from './options.ts';

export interface ChpProxyOptions extends Partial<Omit<ChpOptions, 'pidFile' | 'logLevel'>> {
  /** CONFIGPROXY_AUTH_TOKEN; unset or '' leaves the API open. */
  authToken?: string;
  /** TLS key passphrase (CONFIGPROXY_SSL_KEY_PASSPHRASE). */
  sslPassphrase?: string;
  log?: Logger;
}

export interface ChpProxy {
  table: RouteTable;
  /** The bound ports (useful with port 0). */
  port: number;
  apiPort: number;
  close(): Promise<void>;
}

const HEALTHZ = '/_chp_healthz';
const HEALTHY = JSON.stringify({ status: 'OK' });

function listen(server: Server, port: number, host: string | undefined, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen for the ${what} on ${host ?? '*'}:${port}: ${err.code ?? err.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function tlsFiles(opts: ChpProxyOptions): TlsServerOptions {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  };
  return { key: read(opts.sslKey!, 'key'), cert: read(opts.sslCert!, 'certificate'), passphrase: opts.sslPassphrase };
}

export async function startChpProxy(opts: ChpProxyOptions = {}): Promise<ChpProxy> {
  const log = opts.log ?? createLogger('nodehub.proxy');
  const table = new RouteTable();
  if (opts.defaultTarget !== undefined) table.add('/', opts.defaultTarget);

  const errorTarget = opts.errorTarget !== undefined ? errorTargetPages(opts.errorTarget, log) : undefined;
  const errorPage: ErrorPage | undefined =
    errorTarget?.render ?? (opts.errorPath !== undefined ? errorPathPages(opts.errorPath, log) : undefined);
  const keepAliveTimeout = opts.keepAliveTimeout ?? 5000;
  const forwarderOptions: ForwarderOptions = {
    xForward: opts.xForward,
    timeout: opts.timeout,
    proxyTimeout: opts.proxyTimeout,
    keepAliveTimeout,
    hostRouting: opts.hostRouting,
    customHeaders: opts.customHeaders,
    includePrefix: opts.includePrefix,
    prependPath: opts.prependPath,
    onError: (status, req, res) => {
      const line = `${status} ${req.method} ${(req.url ?? '').split('?', 1)[0]}`;
      if (status >= 500) log.error(line);
      else log.warn(line);
      if (errorPage === undefined) return defaultOnError(status, req, res);
      return errorPage(status, req, res);
    },
  };
  const forwarder = createForwarder(table, forwarderOptions);

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === HEALTHZ) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': HEALTHY.length });
      res.end(HEALTHY);
      return;
    }
    forwarder.request(req, res);
  };
  const serverOptions: ServerOptions = { keepAlive: true, keepAliveTimeout };
  const tls = opts.sslKey !== undefined || opts.sslCert !== undefined;
  const publicServer = tls
    ? https.createServer({ ...serverOptions, ...tlsFiles(opts) }, onRequest)
    : http.createServer(serverOptions, onRequest);
  publicServer.on('upgrade', forwarder.upgrade);
  const api = createApiHandler(table, { authToken: opts.authToken, hostRouting: opts.hostRouting === true, log });
  const apiServer = http.createServer(api);

  const close = async (): Promise<void> => {
    await Promise.all([closeServer(publicServer), closeServer(apiServer), forwarder.close()]);
    errorTarget?.close();
  };
  try {
    const port = await listen(publicServer, opts.port ?? 8000, opts.ip, 'proxy');
    const defaultApiPort = opts.port && opts.port < 65535 ? opts.port + 1 : 0;
    const apiPort = await listen(apiServer, opts.apiPort ?? defaultApiPort, opts.apiIp ?? 'localhost', 'proxy API');
    return { table, port, apiPort, close };
  } catch (err) {
    await close();
    throw err;
  }
}

