// configurable-http-proxy's command line, read by hand so that its exact flag names work unchanged (JupyterHub and
// other CHP users pass them) and every mistake is one clear sentence instead of a stack trace.

export class ProxyUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyUsageError';
  }
}

export interface ChpOptions {
  /** Public interface; undefined listens on all interfaces (CHP's default). */
  ip: string | undefined;
  /** 0 picks a free port. */
  port: number;
  apiIp: string;
  apiPort: number;
  defaultTarget: string | undefined;
  errorTarget: string | undefined;
  errorPath: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  sslKey: string | undefined;
  sslCert: string | undefined;
  /** ms; 0 = none. */
  timeout: number;
  proxyTimeout: number;
  keepAliveTimeout: number;
  xForward: boolean;
  hostRouting: boolean;
  includePrefix: boolean;
  prependPath: boolean;
  customHeaders: Record<string, string>;
  pidFile: string | undefined;
}

export interface ChpCommandLine {
  options: ChpOptions;
  help: boolean;
  version: boolean;
}

const valueFlags = [
  'ip', 'port', 'api-ip', 'api-port', 'default-target', 'error-target', 'error-path', 'log-level', 'ssl-key', 'ssl-cert',
  'timeout', 'proxy-timeout', 'keep-alive-timeout', 'custom-header', 'pid-file',
] as const;
type ValueFlag = (typeof valueFlags)[number];
const switches = ['no-x-forward', 'host-routing', 'no-include-prefix', 'no-prepend-path', 'help', 'version'] as const;

/** CHP flags we know but do not implement: named as such, so nobody takes them for typos. */
const unsupported = new Set([
  'socket', 'ssl-ca', 'ssl-request-cert', 'ssl-reject-unauthorized', 'ssl-protocol', 'ssl-ciphers', 'ssl-allow-rc4',
  'ssl-dhparam', 'api-socket', 'api-ssl-key', 'api-ssl-cert', 'api-ssl-ca', 'api-ssl-request-cert',
  'api-ssl-reject-unauthorized', 'client-ssl-key', 'client-ssl-cert', 'client-ssl-ca', 'client-ssl-request-cert',
  'client-ssl-reject-unauthorized', 'redirect-port', 'redirect-to', 'auto-rewrite', 'change-origin', 'protocol-rewrite',
  'insecure', 'metrics-ip', 'metrics-port', 'metrics-socket', 'storage-backend',
]);

const logLevels = ['debug', 'info', 'warn', 'error'] as const;

function integer(flag: string, text: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) > max) {
    throw new ProxyUsageError(`--${flag} must be a whole number from 0 to ${max}, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function httpUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ProxyUsageError(`--${flag} must be a URL such as http://127.0.0.1:8081, not ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProxyUsageError(`--${flag} must be an http:// or https:// URL, not ${JSON.stringify(text)}`);
  }
  return text;
}

function customHeader(text: string, into: Record<string, string>): void {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  if (name === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new ProxyUsageError(`--custom-header needs NAME:VALUE with a valid header name, not ${JSON.stringify(text)}`);
  }
  into[name] = text.slice(colon + 1).trim();
}

export function parseProxyArgs(argv: readonly string[]): ChpCommandLine {
  const values = new Map<ValueFlag, string>();
  const headers: Record<string, string> = {};
  const on = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') on.add('help');
    else if (arg === '-V') on.add('version');
    else if (!arg.startsWith('--')) {
      throw new ProxyUsageError(`unexpected argument ${JSON.stringify(arg)} (see nodehub proxy --help)`);
    } else {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if ((switches as readonly string[]).includes(name)) {
        if (eq >= 0) throw new ProxyUsageError(`--${name} takes no value`);
        on.add(name);
      } else if ((valueFlags as readonly string[]).includes(name)) {
        let value: string;
        if (eq >= 0) value = arg.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        else throw new ProxyUsageError(`--${name} needs a value`);
        if (name === 'custom-header') customHeader(value, headers);
        else values.set(name as ValueFlag, value);
      } else if (unsupported.has(name)) {
        throw new ProxyUsageError(`--${name} is a configurable-http-proxy option that nodehub proxy does not support`);
      } else {
        throw new ProxyUsageError(`unknown option --${name} (see nodehub proxy --help)`);
      }
    }
  }
  return { options: toOptions(values, headers, on), help: on.has('help'), version: on.has('version') };
}

function toOptions(values: Map<ValueFlag, string>, customHeaders: Record<string, string>, on: Set<string>): ChpOptions {
  const ms = (flag: ValueFlag): number => (values.has(flag) ? integer(flag, values.get(flag)!, 2 ** 31 - 1) : 0);
  const port = values.has('port') ? integer('port', values.get('port')!, 65535) : 8000;
  let apiPort = values.has('api-port') ? integer('api-port', values.get('api-port')!, 65535) : port === 0 ? 0 : port + 1;
  if (apiPort > 65535) apiPort = 0; // --port 65535: no port+1 exists, so let the system pick one
  const logLevel = (values.get('log-level') ?? 'info').toLowerCase();
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw new ProxyUsageError(`--log-level must be one of ${logLevels.join(', ')}, not ${JSON.stringify(logLevel)}`);
  }
  const url = (flag: ValueFlag): string | undefined => (values.has(flag) ? httpUrl(flag, values.get(flag)!) : undefined);
  const options: ChpOptions = {
    // CHP reads '*' as all interfaces, and so does an empty --ip.
    ip: values.get('ip') === '*' || values.get('ip') === '' ? undefined : values.get('ip'),
    port,
    apiIp: values.get('api-ip') || 'localhost',
    apiPort,
    defaultTarget: url('default-target'),
    errorTarget: url('error-target'),
    errorPath: values.get('error-path'),
    logLevel: logLevel as ChpOptions['logLevel'],
    sslKey: values.get('ssl-key'),
    sslCert: values.get('ssl-cert'),
    timeout: ms('timeout'),
    proxyTimeout: ms('proxy-timeout'),
    keepAliveTimeout: values.has('keep-alive-timeout') ? ms('keep-alive-timeout') : 5000,
    xForward: !on.has('no-x-forward'),
    hostRouting: on.has('host-routing'),
    includePrefix: !on.has('no-include-prefix'),
    prependPath: !on.has('no-prepend-path'),
    customHeaders,
    pidFile: values.get('pid-file'),
  };
  if (options.errorTarget !== undefined && options.errorPath !== undefined) {
    throw new ProxyUsageError('--error-target and --error-path cannot both be given; pick one');
  }
  if ((options.sslKey === undefined) !== (options.sslCert === undefined)) {
    throw new ProxyUsageError('--ssl-key and --ssl-cert must be given together');
  }
  return options;
}

export const proxyUsage = `Usage: nodehub proxy [options]

A proxy that takes configurable-http-proxy's flags and REST API (/api/routes), so JupyterHub can use it in place of
configurable-http-proxy (c.ConfigurableHTTPProxy.should_start = False, api_url, auth_token). The API token comes from
$CONFIGPROXY_AUTH_TOKEN (Authorization: token <value>); without it the API is open.

Options:
  --ip IP                    public-facing IP (default: all interfaces)
  --port N                   public-facing port (default 8000; 0 picks a free one)
  --api-ip IP                IP of the REST API (default localhost)
  --api-port N               port of the REST API (default: --port + 1)
  --default-target URL       route / to URL at start
  --error-target URL         on 404/503 fetch URL/<code>?url=<request URL> and relay its body
  --error-path DIR           on 404/503 serve DIR/<code>.html or DIR/error.html
  --log-level LEVEL          debug, info, warn or error (default info)
  --ssl-key FILE             TLS key for the public port (with --ssl-cert; passphrase from $CONFIGPROXY_SSL_KEY_PASSPHRASE)
  --ssl-cert FILE            TLS certificate for the public port
  --timeout MS               close a client connection idle this long (default: never)
  --proxy-timeout MS         give up on a target that does not answer within MS (503)
  --keep-alive-timeout MS    keep-alive of client and upstream connections (default 5000)
  --no-x-forward             do not add X-Forwarded-* headers
  --host-routing             route on the Host header first (route keys /<host>/<path>)
  --no-include-prefix        strip the route prefix from forwarded paths
  --no-prepend-path          do not prepend the target URL's path
  --custom-header NAME:VALUE add a header to every forwarded request (repeatable)
  --pid-file FILE            write the process id to FILE (removed at exit)
  -V, --version              print the version
  -h, --help                 print this help
`;
