// The hub's fastify app loads fastify's JSON-schema compilers only when a route first needs one (src/hub/app.ts). No
// hub route has a schema today, so this is the one place that proves a route with one is still validated and its
// response still serialized by the schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createHubApp } from '../src/hub/app.ts';
import { startTestHub, type TestHub } from './support/hub.ts';

describe('hub app: routes with JSON schemas', () => {
  let hub: TestHub;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    hub = await startTestHub();
    // A second app on the running hub's state, built the way start-up builds the hub's own.
    app = createHubApp(hub.running.hub);
    // Under the API prefix, so errors come back as the API's JSON.
    url = `${hub.running.hub.hubPrefix}api/schema-check`;
    app.post(url, {
      schema: {
        body: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 2 } } },
        response: { 200: { type: 'object', properties: { name: { type: 'string' } } } },
      },
    }, async (req) => ({ ...(req.body as object), secret: 'not in the response schema' }));
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await hub?.close();
  });

  it('rejects a body that breaks the schema with a 400 naming the field', async () => {
    const res = await app.inject({ method: 'POST', url, payload: { name: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/body\/name must NOT have fewer than 2 characters/);
  });

  it('answers a valid body with only what the response schema names', async () => {
    const res = await app.inject({ method: 'POST', url, payload: { name: 'ann', extra: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'ann' });
  });
});
