// The hub's image files: /hub/logo (JupyterHub's logo, or JupyterHub.logo_file) and the favicon. Both are public, as
// JupyterHub serves them, and read once: a logo_file that cannot be read stops start-up with its config key instead of
// failing each page later. Browsers may keep them an hour and then revalidate with the ETag.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubConfig } from '../../config/types.ts';
import { ConfigError } from '../../config/errors.ts';

const STATIC_DIR = new URL('../static/', import.meta.url);
const TYPES: Record<string, string> = {
  '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.ico': 'image/x-icon', '.webp': 'image/webp',
};
const LOGO_MAX_BYTES = 5 * 1024 * 1024;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  modified: string;
}

function asset(body: Buffer, type: string, mtime: Date): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`, modified: mtime.toUTCString() };
}

function bundled(name: string): Asset {
  const url = new URL(name, STATIC_DIR);
  return asset(readFileSync(url), TYPES[extname(name)] ?? 'application/octet-stream', statSync(url).mtime);
}

const logos = new WeakMap<HubConfig, Asset>();

/** The logo the hub serves; throws a ConfigError naming JupyterHub.logo_file when that file is unusable. */
export function hubLogo(config: HubConfig): Asset {
  const known = logos.get(config);
  if (known) return known;
  const file = config.hub.logo_file;
  let logo: Asset;
  if (!file) {
    logo = bundled('jupyterhub-80.png');
  } else {
    const type = TYPES[extname(file).toLowerCase()];
    if (!type) throw new ConfigError(`JupyterHub.logo_file ${file}: not an image file name (${Object.keys(TYPES).join(', ')})`, 'JupyterHub.logo_file');
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > LOGO_MAX_BYTES) throw new Error(`larger than ${LOGO_MAX_BYTES} bytes`);
      logo = asset(readFileSync(file), type, st.mtime);
    } catch (err) {
      throw new ConfigError(`JupyterHub.logo_file ${file} cannot be read: ${(err as Error).message}`, 'JupyterHub.logo_file');
    }
  }
  logos.set(config, logo);
  return logo;
}

function send(req: FastifyRequest, reply: FastifyReply, a: Asset) {
  reply.header('cache-control', 'public, max-age=3600').header('etag', a.etag).header('last-modified', a.modified);
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim() === a.etag)) return reply.code(304).send();
  return reply.type(a.type).send(a.body);
}

export function registerAssets(app: FastifyInstance, config: HubConfig, hubPrefix: string): void {
  const logo = hubLogo(config);
  const favicon = bundled('favicon.ico');
  app.get(`${hubPrefix}logo`, async (req, reply) => send(req, reply, logo));
  // JupyterHub's templates link static/favicon.ico; /hub/favicon.ico is where a stray /favicon.ico is redirected.
  for (const p of [`${hubPrefix}favicon.ico`, `${hubPrefix}static/favicon.ico`]) app.get(p, async (req, reply) => send(req, reply, favicon));
}
