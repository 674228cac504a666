// The fastify app that answers everything the route table sends to the hub: the REST API, the OAuth provider and the
// pages. Cross-cutting concerns hook in once here: JupyterHub's headers, body parsing, errors, metrics.
import { pageVars } from './web/page-vars.ts';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Server } from 'node:http';
import { http } from '../util/builtins.ts';
import { registerXsrfCheck } from './web/xsrf.ts';
import { createRequire } from 'node:module';
import type { Hub } from './context.ts';
import { JUPYTERHUB_VERSION } from '../util/version.ts';
import { HubError, isHubError } from '../util/errors.ts';
import { toHttpError } from './http-errors.ts';
import { InvalidJsonBody } from './api/body.ts';
import { errorPage } from './pages/index.ts';
import { cookieUser } from './identity.ts';
import { prefersJson } from './http.ts';
import { registerRootApi } from './api/root.ts';
import { registerUserApi } from './api/users.ts';
import { registerServerApi } from './api/servers.ts';
import { registerTokenApi } from './api/tokens.ts';
import { registerGroupApi } from './api/groups.ts';
import { registerServiceApi } from './api/services.ts';
import { registerProxyApi } from './api/proxy.ts';
import { registerBatchSpawnerApi } from './api/batchspawner.ts';
import { registerMetricsRoutes } from './metrics.ts';
import { registerOAuth } from './oauth.ts';
import { registerLoginPages } from './web/login.ts';
import { registerSpawnPages } from './web/spawn.ts';
import { registerMiscPages, strayPath } from './web/misc.ts';
import { registerPasswordGate } from './web/password.ts';
import { registerAdminPages } from './web/admin.ts';
import { logRequest } from './access-log.ts';
import { createLogger, pinoLogger } from '../util/log.ts';

const BODY_LIMIT = 1024 * 1024;

// Fastify loads its JSON-schema compilers (ajv, fast-json-stringify: ~140 modules, ~2.5 MiB of heap) when an instance
// is made, though no hub route has a schema. These factories load the same compilers, from fastify's own dependencies,
// the first time a schema needs one. (Fastify then treats the validator as custom, which only means it leaves a
// headers schema's key case alone.)
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
type CompilerFactory = (schemas: unknown, options: unknown) => unknown;
const onFirstUse = (pkg: string): CompilerFactory => {
  let build: CompilerFactory | undefined;
  return (schemas, options) => (build ??= (fromFastify(pkg) as () => CompilerFactory)())(schemas, options);
};
const lazyCompilers = {
  buildValidator: onFirstUse('@fastify/ajv-compiler'),
  buildSerializer: onFirstUse('@fastify/fast-json-stringify-compiler'),
} as NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'];

export type ServerFactory = (handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) => Server;

/** The health and version probes: answered while start-up re-adopts servers, when every other request waits. */
export function isStartupProbe(hubPrefix: string, url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0];
  return path === `${hubPrefix}health` || path === `${hubPrefix}api/health` || path === `${hubPrefix}api` || path === `${hubPrefix}api/`;
}

export function createHubApp(hub: Hub, serverFactory?: ServerFactory): FastifyInstance {
  const app = Fastify({
    // Fastify's own messages go through the hub's logger; its per-request lines are replaced by the access log below.
    loggerInstance: pinoLogger('nodehub.app'),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // User names may be long (UUIDs, e-mail addresses), and so may nbgitpuller paths.
    routerOptions: { maxParamLength: 1000 },
    schemaController: { compilersFactory: lazyCompilers },
    ...(serverFactory ? { serverFactory } : {}),
  }) as unknown as FastifyInstance;
  const api = `${hub.hubPrefix}api`;
  const isApi = (url: string) => url === api || url.startsWith(`${api}/`) || url.startsWith(`${api}?`);
  // Pages that live under /hub/api in JupyterHub (BaseHandler there, not APIHandler): their errors are HTML pages.
  const apiPages = [`${api}/metrics`, `${api}/oauth2/authorize`];
  const isApiPage = (url: string) => apiPages.some((p) => url === p || url.startsWith(`${p}?`));

  app.removeAllContentTypeParsers();
  // The REST API reads every body as JSON whatever its content type, as JupyterHub's get_json_body does: admin scripts
  // often POST JSON as curl's -d sends it (a form content type) and must get the same server, or the same 400. Only the
  // OAuth endpoints under /hub/api take forms.
  const formApi = [`${api}/oauth2/token`, `${api}/oauth2/authorize`];
  const jsonOnly = (url: string) => isApi(url) && !formApi.some((p) => url === p || url.startsWith(`${p}?`));
  // An empty body is no body (clients POST with a JSON content type and nothing else); bad JSON is a 400 once a handler
  // reads it (api/body.ts).
  const parseJson = (text: string, done: (err: Error | null, body?: unknown) => void) => {
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(null, new InvalidJsonBody());
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => parseJson(String(body), done));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (req, body, done) => {
    if (jsonOnly(req.url)) return parseJson(String(body), done);
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  // Anything else is read (up to the limit): JSON on the API, ignored on pages as tornado does, so odd clients get a
  // proper answer, not a 415.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    if (jsonOnly(req.url)) return parseJson((body as Buffer).toString('utf8'), done);
    done(null, undefined);
  });

  // Until start-up has re-adopted servers, only the probes answer; everything else waits (a few seconds at most).
  app.addHook('onRequest', async (req) => {
    if (!isStartupProbe(hub.hubPrefix, req.url)) await hub.ready;
  });
  const securityHeaders = (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('X-JupyterHub-Version', JUPYTERHUB_VERSION);
    reply.header('Access-Control-Allow-Headers', 'accept, content-type, authorization');
    const csp = `frame-ancestors 'self'; report-uri ${hub.hubPrefix}security/csp-report`;
    reply.header('Content-Security-Policy', isApi(req.url) ? `${csp}; default-src 'none'` : csp);
  };
  app.addHook('onRequest', async (req, reply) => securityHeaders(req, reply));
  const access = createLogger('nodehub.access');
  app.addHook('onResponse', async (req, reply) => {
    hub.metrics.observeRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    logRequest(access, req, reply, (url) => isStartupProbe(hub.hubPrefix, url));
  });

  app.setErrorHandler((err: FastifyError | HubError, req, reply) => {
    // The failure may have been a header node refuses to write; the error page would fail the same way and fastify
    // would fall back to its bare 500 without the hub's headers. Such headers go, the hub's own are set again.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      try {
        for (const v of Array.isArray(value) ? value : [value]) http.validateHeaderValue(name, String(v));
      } catch {
        reply.removeHeader(name);
      }
    }
    securityHeaders(req, reply);
    return renderError(hub, err, req, reply, isApi(req.url) && !isApiPage(req.url));
  });
  app.setNotFoundHandler(async (req, reply) => {
    if (isApi(req.url)) return renderError(hub, new HubError(404, 'Not found'), req, reply, true);
    if (req.url.startsWith(hub.hubPrefix) || req.url === hub.hubPrefix.slice(0, -1)) {
      return renderError(hub, new HubError(404, 'Page not found'), req, reply, false);
    }
    const target = strayPath(hub, req);
    if (!target) return renderError(hub, new HubError(405, 'Method not allowed'), req, reply, false);
    return reply.redirect(target, target.endsWith('/') && !target.startsWith(hub.hubPrefix) ? 301 : 302);
  });

  registerPasswordGate(app, hub);
  registerXsrfCheck(app, hub);
  app.options(`${api}/*`, async (_req, reply) => reply.code(200).send(''));

  registerRootApi(app, hub);
  registerUserApi(app, hub);
  registerServerApi(app, hub);
  registerTokenApi(app, hub);
  registerGroupApi(app, hub);
  registerServiceApi(app, hub);
  registerProxyApi(app, hub);
  registerBatchSpawnerApi(app, hub);
  registerMetricsRoutes(app, hub);
  registerOAuth(app, hub);
  registerLoginPages(app, hub);
  registerSpawnPages(app, hub);
  registerMiscPages(app, hub);
  registerAdminPages(app, hub);
  return app;
}

async function renderError(hub: Hub, thrown: FastifyError | HubError | Error, req: FastifyRequest, reply: FastifyReply, api: boolean) {
  const err = toHttpError(thrown) as FastifyError | HubError | Error;
  let status = 500;
  let message = 'Internal server error';
  if (isHubError(err)) {
    status = err.status;
    message = err.message;
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    status = err.statusCode;
    message = err.statusCode === 413 ? `Request body is too large (limit ${BODY_LIMIT} bytes)` : err.message;
  } else {
    hub.log.error(`Unhandled error in ${req.method} ${req.url.split('?')[0]}`, err);
  }
  reply.code(status);
  if (api || prefersJson(req)) return reply.type('application/json').send({ status, message });
  let user: string | undefined;
  try {
    user = (await cookieUser(hub, req))?.name;
  } catch {
    user = undefined;
  }
  return reply.type('text/html').send(errorPage({ ...pageVars(hub), base: hub.base, status, message, user }));
}
