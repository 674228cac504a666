// POST /hub/api/batchspawner: batchspawner's report from inside a batch job. `batchspawner-singleuser` picks a free
// port on the compute node and posts {"port": n} with the server's own API token; batchspawner's handler finds the
// spawner whose token that is and sets the posted attributes on it. Here the token's server is found by the token's
// server record, and its spawner takes the report only if it can (Spawner.acceptReport): a spawner that chooses its
// servers' ports itself has nothing to learn from one. JupyterHub answers 200 with this message (its handler sets 201
// only after finishing the response), so that is what is answered here.
import type { FastifyInstance } from 'fastify';
import type { Hub } from '../context.ts';
import { HubError } from '../../util/errors.ts';
import { apiPrincipal } from '../identity.ts';
import { bodyObject } from './body.ts';

export function registerBatchSpawnerApi(app: FastifyInstance, hub: Hub): void {
  app.post(`${hub.hubPrefix}api/batchspawner`, async (req, reply) => {
    const p = await apiPrincipal(hub, req);
    if (!p) throw new HubError(403, 'Missing or invalid credentials.');
    const serverId = p.token?.server_id ?? null;
    if (!p.user || serverId === null) throw new HubError(403, "Only a server's own API token may report for it");
    const active = hub.servers.ofUser(p.user.name).find((a) => a.recordId === serverId);
    if (!active?.spawner) throw new HubError(400, `${p.user.name} has no running or starting server with this token`);
    if (!active.spawner.acceptReport) throw new HubError(400, `This server's spawner (${hub.config.spawnerSection}) takes no batchspawner reports`);
    const body = bodyObject(req.body);
    try {
      active.spawner.acceptReport(body);
    } catch (err) {
      throw new HubError(400, (err as Error).message);
    }
    return reply.code(200).header('content-type', 'application/json').send(JSON.stringify({ message: 'BatchSpawner data configured' }));
  });
}
