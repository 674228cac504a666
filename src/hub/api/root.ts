// /hub/api itself, /info, /user (who am I: what every single-user server asks per new token), shutdown, and the
// deprecated authorization endpoints old clients still call.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import { JUPYTERHUB_VERSION } from '../../util/version.ts';
import { HubError } from '../../util/errors.ts';
import { apiPrincipal, principalForToken, requireScopes, type Principal } from '../identity.ts';
import { serviceModel, userModel } from '../models.ts';
import { bodyObject } from './body.ts';
import { versionForProbe } from '../../spawner/local/singleuser-version.ts';

/** The /user model: the caller's own model, whatever its read scopes, plus token_id (5.0), session_id and its scopes
 * (spec 1.5 step 5); token_id and session_id are null for a cookie. */
async function whoami(hub: Hub, p: Principal): Promise<Record<string, unknown>> {
  const scopes = [...p.scopes].sort();
  if (p.kind === 'service' && p.service) {
    return { ...(await serviceModel(hub, p.service)), token_id: tokenId(p), session_id: p.token?.session_id ?? null, scopes };
  }
  const user = p.user!;
  const self = { ...p, scopes: new Set([...p.scopes, `read:users:name!user=${user.name}`, `read:users:groups!user=${user.name}`]) };
  return { ...(await userModel(hub, self, user)), token_id: tokenId(p), session_id: p.token?.session_id ?? null, scopes };
}

const tokenId = (p: Principal): string | null => (p.token ? `a${p.token.id}` : null);

export function registerRootApi(app: FastifyInstance, hub: Hub): void {
  const api = `${hub.hubPrefix}api`;
  // A starting jupyterhub-singleuser asks here, with neither token nor cookie, and warns unless the version matches its
  // own closely enough: that request gets the server's own version (a pod's, by its IP: kubernetes/versions.ts; a
  // local server's, by its socket: singleuser-version.ts); any other, 5.4.6.
  const version = async (req: FastifyRequest, reply: FastifyReply) => {
    const credentials = req.headers.authorization || req.headers.cookie || (req.query as Record<string, unknown>).token;
    const v = credentials ? JUPYTERHUB_VERSION
      : (hub.servers.deps.spawnerClass.probeVersion?.(hub.config, req.socket.remoteAddress) ?? await versionForProbe(req.socket));
    if (v !== JUPYTERHUB_VERSION) reply.header('X-JupyterHub-Version', v);
    return { version: v };
  };
  app.get(api, version);
  app.get(`${api}/`, version);

  app.get(`${api}/info`, async (req) => {
    requireScopes(await apiPrincipal(hub, req), ['read:hub']);
    return {
      version: JUPYTERHUB_VERSION,
      nodehub: process.env.npm_package_version ?? null,
      python: null,
      node: process.version,
      sys_executable: process.execPath,
      spawner: { class: hub.servers.deps.spawnerClass.classPath, version: JUPYTERHUB_VERSION },
      authenticator: { class: hub.config.hub.authenticator_class, version: JUPYTERHUB_VERSION },
      // nodehub: spawner-specific state, e.g. the Kubernetes image pre-puller's readiness under `prepuller`
      ...hub.servers.deps.spawnerClass.info?.({ hubConfig: hub.config, log: hub.log }),
    };
  });

  app.get(`${api}/user`, async (req) => {
    // 403, not 401: jupyterhub-singleuser treats only 403 as "no user" (spec 1.4).
    const p = await apiPrincipal(hub, req);
    if (!p) throw new HubError(403, 'Forbidden');
    return whoami(hub, p);
  });

  app.post(`${api}/shutdown`, async (req, reply) => {
    requireScopes(await apiPrincipal(hub, req), ['shutdown']);
    const body = bodyObject(req.body);
    for (const k of ['servers', 'proxy'] as const) {
      if (body[k] !== undefined && typeof body[k] !== 'boolean') throw new HubError(400, `${k} must be true or false`);
    }
    const servers = typeof body.servers === 'boolean' ? body.servers : hub.config.hub.cleanup_servers;
    reply.code(202);
    setImmediate(() => hub.requestShutdown({ servers }));
    return { message: 'Shutting down Hub' };
  });

  app.get(`${api}/authorizations/token/:token`, async (req) => {
    if (!(await apiPrincipal(hub, req))) throw new HubError(403, 'Forbidden');
    const owner = await principalForToken(hub, (req.params as { token: string }).token);
    if (!owner) throw new HubError(404, 'No such token');
    return whoami(hub, owner);
  });
  app.post(`${api}/authorizations/token`, async () => {
    throw new HubError(404, 'Deprecated endpoint /hub/api/authorizations/token is removed in JupyterHub 2.0. Use /hub/api/users/:user/tokens instead.');
  });
  const cookieGone = async () => {
    throw new HubError(404, 'Cookie authorization is removed; use OAuth (JupyterHub 2.0).');
  };
  app.get(`${api}/authorizations/cookie/:name`, cookieGone);
  app.get(`${api}/authorizations/cookie/:name/:value`, cookieGone);

  app.post(`${api}/users/:name/admin-access`, async () => {
    throw new HubError(403, 'admin-access is deprecated and disabled');
  });
}
