// /hub/api/services…: the configured services, read-only (spec 2.2).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { ServiceRecord } from '../../store/types.ts';
import { filterFor, serviceModelFields } from '../../auth/index.ts';
import { HubError } from '../../util/errors.ts';
import { apiPrincipal, requireScopes, type Principal } from '../identity.ts';
import { serviceModel } from '../models.ts';

/** The service model cut to the fields the caller's scopes reveal (read:services, read:services:name, read:roles:services). */
async function visibleServiceModel(hub: Hub, p: Principal, s: ServiceRecord): Promise<Record<string, unknown>> {
  const fields = serviceModelFields(p.scopes, s.name);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(await serviceModel(hub, s))) if (fields.has(k)) out[k] = v;
  return out;
}

export function registerServiceApi(app: FastifyInstance, hub: Hub): void {
  const api = `${hub.hubPrefix}api`;

  app.get(`${api}/services`, async (req) => {
    const p = requireScopes(await apiPrincipal(hub, req), ['list:services']);
    const f = filterFor(p.scopes, 'list:services');
    const out: Record<string, unknown> = {};
    for (const s of await hub.store.services.list()) {
      if (f.all || f.services.has(s.name)) out[s.name] = await visibleServiceModel(hub, p, s);
    }
    return out;
  });

  app.get(`${api}/services/:name`, async (req: FastifyRequest) => {
    const name = (req.params as { name: string }).name;
    const p = requireScopes(await apiPrincipal(hub, req), ['read:services', 'read:services:name', 'read:roles:services'], { service: name });
    const service = await hub.store.services.get(name);
    if (!service) throw new HubError(404, `No such service: ${name}`);
    return visibleServiceModel(hub, p, service);
  });
}
