// The public listener's TLS, as seed 004's apache did it in front of JupyterHub: the server certificate and key
// (JupyterHub.ssl_cert / ssl_key), and optionally client certificates from a site CA (ssl_client_ca) whose subject CN
// must be on this hub's list (ssl_client_allowed_cns) before the browser gets any page. The handshake itself accepts a
// missing or foreign certificate (rejectUnauthorized false) so that the browser can be told why in a readable page
// instead of a bare TLS alert; every request and websocket upgrade is then checked here before routing.
// Files are read again on reload (SIGHUP, `nodehub reload`): new connections get the new context, open ones keep
// theirs; a new file that does not load is refused with the key it came from and the running context is kept.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext as tlsContext, type TLSSocket, type SecureContextOptions } from 'node:tls';
import type { Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubConfig } from '../config/types.ts';
import { ConfigError } from '../config/errors.ts';
import { JUPYTERHUB_VERSION } from '../util/version.ts';
import { errorPage } from './pages/index.ts';

export interface TlsFiles {
  key: Buffer;
  cert: Buffer;
  /** The client CA bundle, when client certificates are required. */
  ca: Buffer | null;
  /** Warnings for the log (e.g. a group-readable key). */
  warnings: string[];
}

/** True when the public listener speaks https. */
export function tlsEnabled(config: HubConfig): boolean {
  return Boolean(config.hub.ssl_cert && config.hub.ssl_key);
}

function read(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`JupyterHub.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, `JupyterHub.${key}`);
  }
}

/**
 * The key file must not be open to other users (refused, as ssh refuses such a private key); a key its group may read
 * (Debian's ssl-cert group convention, 0640) is accepted with a warning.
 */
function checkKeyMode(path: string, warnings: string[]): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o007 || mode & 0o020) {
    throw new ConfigError(`JupyterHub.ssl_key: ${path} has mode ${mode.toString(8).padStart(4, '0')}; a private key must not be `
      + `readable or writable by other users: chmod 600 ${path}`, 'JupyterHub.ssl_key');
  }
  if (mode & 0o040) warnings.push(`JupyterHub.ssl_key: ${path} is readable by its group (mode ${mode.toString(8).padStart(4, '0')}); 0600 keeps it to the hub's user`);
}

function certificates(pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/** Reads and checks the configured files; throws a ConfigError naming the key when one does not do. */
export function loadTlsFiles(config: HubConfig, now = Date.now()): TlsFiles {
  const { ssl_cert: certPath, ssl_key: keyPath, ssl_client_ca: caPath } = config.hub;
  const warnings: string[] = [];
  const cert = read(certPath, 'ssl_cert');
  const key = read(keyPath, 'ssl_key');
  checkKeyMode(keyPath, warnings);
  let leaf: X509Certificate | undefined;
  try {
    leaf = certificates(cert)[0];
  } catch (err) {
    throw new ConfigError(`JupyterHub.ssl_cert: ${certPath} is not a PEM certificate: ${(err as Error).message}`, 'JupyterHub.ssl_cert');
  }
  if (!leaf) throw new ConfigError(`JupyterHub.ssl_cert: ${certPath} holds no PEM certificate`, 'JupyterHub.ssl_cert');
  if (Date.parse(leaf.validTo) < now) throw new ConfigError(`JupyterHub.ssl_cert: ${certPath} expired on ${leaf.validTo}`, 'JupyterHub.ssl_cert');
  if (Date.parse(leaf.validFrom) > now) throw new ConfigError(`JupyterHub.ssl_cert: ${certPath} is not valid before ${leaf.validFrom}`, 'JupyterHub.ssl_cert');
  let ca: Buffer | null = null;
  if (caPath) {
    ca = read(caPath, 'ssl_client_ca');
    let n = 0;
    try {
      n = certificates(ca).length;
    } catch (err) {
      throw new ConfigError(`JupyterHub.ssl_client_ca: ${caPath} holds a certificate that does not parse: ${(err as Error).message}`, 'JupyterHub.ssl_client_ca');
    }
    if (n === 0) throw new ConfigError(`JupyterHub.ssl_client_ca: ${caPath} holds no PEM certificate`, 'JupyterHub.ssl_client_ca');
  }
  // The key must load and belong to the certificate: OpenSSL says so when the context is made.
  try {
    tlsContext(contextOptions({ key, cert, ca, warnings }));
  } catch (err) {
    const msg = (err as Error).message;
    const keyFault = /key/i.test(msg);
    throw new ConfigError(`JupyterHub.${keyFault ? 'ssl_key' : 'ssl_cert'}: ${keyFault ? keyPath : certPath} does not load with `
      + `${keyFault ? certPath : keyPath}: ${msg}`, `JupyterHub.${keyFault ? 'ssl_key' : 'ssl_cert'}`);
  }
  return { key, cert, ca, warnings };
}

function contextOptions(files: TlsFiles): SecureContextOptions {
  return { key: files.key, cert: files.cert, ...(files.ca ? { ca: files.ca } : {}) };
}

/** Options for https.createServer. */
export function serverOptions(files: TlsFiles): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  return { ...contextOptions(files), requestCert: Boolean(files.ca), rejectUnauthorized: false };
}

/** Puts freshly loaded files into the running server: connections from now on use them, open ones are untouched. */
export function applyTlsFiles(server: HttpsServer, files: TlsFiles): void {
  server.setSecureContext(contextOptions(files));
  // Read by node for each new connection, so turning client certificates on or off takes effect as the context does.
  (server as unknown as { requestCert: boolean }).requestCert = Boolean(files.ca);
}

export type Admission = { ok: true; cn: string | null } | { ok: false; message: string };

const REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'Your certificate has expired.',
  CERT_NOT_YET_VALID: 'Your certificate is not valid yet.',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "Your certificate was not issued by this hub's certificate authority.",
  UNABLE_TO_GET_ISSUER_CERT: "Your certificate was not issued by this hub's certificate authority.",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "Your certificate was not issued by this hub's certificate authority.",
  DEPTH_ZERO_SELF_SIGNED_CERT: "Your certificate is self-signed, not issued by this hub's certificate authority.",
  SELF_SIGNED_CERT_IN_CHAIN: "Your certificate was not issued by this hub's certificate authority.",
  CERT_SIGNATURE_FAILURE: 'Your certificate signature does not verify.',
  CERT_REVOKED: 'Your certificate has been revoked.',
};

/** A connection's certificate never changes (nodehub does not renegotiate): read once, kept with the socket. */
const peers = new WeakMap<TLSSocket, { cn: string } | null>();

function peerOf(socket: TLSSocket): { cn: string } | null {
  let peer = peers.get(socket);
  if (peer === undefined) {
    const cert = socket.getPeerCertificate?.();
    const raw = cert?.subject?.CN;
    peer = cert && cert.subject ? { cn: (Array.isArray(raw) ? raw[0] : raw) ?? '' } : null;
    peers.set(socket, peer);
  }
  return peer;
}

/**
 * Whether the connection's client certificate admits it, under the running config: signed by the CA bundle (node
 * verified the chain and dates during the handshake) and, when the hub names CNs, carrying one of them.
 */
export function admit(config: HubConfig, socket: TLSSocket): Admission {
  if (!config.hub.ssl_client_ca) return { ok: true, cn: null };
  const peer = peerOf(socket);
  if (peer === null) {
    return { ok: false, message: 'This hub admits only browsers that present a client certificate from its certificate authority, and yours sent none. Install your certificate in the browser and reload.' };
  }
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? '');
    return { ok: false, message: `${REASONS[code] ?? `Your certificate was not accepted (${code}).`} This hub admits only valid client certificates from its certificate authority.` };
  }
  const cn = peer.cn;
  const allowed = config.hub.ssl_client_allowed_cns;
  if (allowed.length > 0 && !allowed.includes(cn)) {
    return { ok: false, message: `Your certificate (CN ${JSON.stringify(cn)}) is valid, but it is not admitted to this hub. Ask the hub's administrators to add it, or use the hub your certificate is for.` };
  }
  return { ok: true, cn };
}

function isApi(config: HubConfig, url: string | undefined): boolean {
  return (url ?? '').startsWith(`${config.hub.base_url}hub/api`);
}

/** The refusal as an API client or a browser reads it: JSON on /hub/api, a page elsewhere; 403 either way. */
export function refuse(config: HubConfig, req: IncomingMessage, res: ServerResponse, message: string): void {
  res.shouldKeepAlive = false;
  if (isApi(config, req.url)) {
    res.writeHead(403, { 'Content-Type': 'application/json', 'X-JupyterHub-Version': JUPYTERHUB_VERSION });
    res.end(JSON.stringify({ status: 403, message }));
    return;
  }
  res.writeHead(403, { 'Content-Type': 'text/html; charset=utf-8', 'X-JupyterHub-Version': JUPYTERHUB_VERSION });
  res.end(errorPage({ base: config.hub.base_url, status: 403, message }));
}

/** A refused websocket upgrade: a plain 403 response on the raw socket, then close. */
export function refuseUpgrade(socket: Duplex, message: string): void {
  const body = JSON.stringify({ status: 403, message });
  socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
