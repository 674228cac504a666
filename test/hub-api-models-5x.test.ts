// The REST models against JupyterHub 5.4.6's OpenAPI (../shared/spec/jupyterhub-rest-api-5.4.6.yml, parsed with
// `yaml`): every field nodehub returns is in the schema with the schema's type, and every schema field is there.
// The YAML is looser than 5.4.6 itself in two ways, both seen on a live 5.4.6 (run-jupyterhub-5.4.sh): some fields it
// omits are always sent (EXTRA), and some it types as plain strings are null when unset (NULLABLE).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestHub, eventually, type TestHub } from './support/hub.ts';
import { JUPYTERHUB_VERSION } from '../src/util/version.ts';

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; additionalProperties?: Schema;
  items?: Schema; enum?: unknown[]; format?: string; $ref?: string; required?: string[] };

const spec = parse(readFileSync(new URL('../../shared/spec/jupyterhub-rest-api-5.4.6.yml', import.meta.url), 'utf8')) as {
  info: { version: string }; components: { schemas: Record<string, Schema> };
};
const schemas = spec.components.schemas;
const resolve = (s: Schema): Schema => (s.$ref ? schemas[s.$ref.split('/').pop()!] : s);

/** Fields live 5.4.6 sends that its YAML does not list, per model. */
const EXTRA: Record<string, Record<string, string>> = {
  User: { created: 'string' },
  Server: { full_name: 'string' },
  Token: { kind: 'string', oauth_client: 'string' },
  NewToken: { kind: 'string', oauth_client: 'string' },
  Service: { display: 'boolean' },
};
/** Fields live 5.4.6 sends as null when there is nothing to say. */
const NULLABLE: Record<string, string[]> = {
  User: ['server', 'pending', 'last_activity', 'auth_state'],
  Server: ['pending', 'started', 'last_activity'],
  Token: ['last_activity', 'expires_at', 'note'],
  NewToken: ['last_activity', 'expires_at', 'note'],
};
/** Fields a model carries only in some cases: a token has a user or a service owner, never both. */
const EITHER: Record<string, string[]> = { Token: ['user', 'service'], NewToken: ['user', 'service'] };

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'number' ? 'number' : typeof v;
}

/** Problems with `value` as an instance of schema `name` (nested servers are checked as Server). */
function check(name: string, value: Record<string, unknown>, where = name): string[] {
  const schema = schemas[name];
  const problems: string[] = [];
  const props = schema.properties ?? {};
  for (const [k, v] of Object.entries(value)) {
    const extra = EXTRA[name]?.[k];
    const prop = props[k] ? resolve(props[k]) : undefined;
    if (!prop && !extra) { problems.push(`${where}.${k} is not in the 5.4.6 schema`); continue; }
    const types = prop ? [prop.type ?? 'object'].flat() : [extra!];
    if (NULLABLE[name]?.includes(k)) types.push('null');
    if (!types.includes(typeOf(v))) { problems.push(`${where}.${k} is ${typeOf(v)}, schema says ${types.join('|')}`); continue; }
    if (v === null) continue;
    if (prop?.enum && !prop.enum.includes(v)) problems.push(`${where}.${k} = ${JSON.stringify(v)} is not one of ${JSON.stringify(prop.enum)}`);
    if (prop?.format === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v as string)) problems.push(`${where}.${k} is not a date-time`);
    if (prop?.items?.type && !(v as unknown[]).every((x) => typeOf(x) === prop.items!.type)) problems.push(`${where}.${k} has items that are not ${prop.items.type}`);
    if (prop?.additionalProperties) {
      const inner = resolve(prop.additionalProperties);
      const innerName = Object.keys(schemas).find((n) => schemas[n] === inner)!;
      for (const [ik, iv] of Object.entries(v as Record<string, Record<string, unknown>>)) problems.push(...check(innerName, iv, `${where}.${k}[${JSON.stringify(ik)}]`));
    }
  }
  for (const k of [...Object.keys(props), ...(schema.required ?? [])]) {
    if (k in value) continue;
    if (EITHER[name]?.includes(k) && EITHER[name].some((o) => o in value)) continue;
    problems.push(`${where}.${k} is missing`);
  }
  return problems;
}

let hub: TestHub;
let userToken: string;
beforeAll(async () => {
  hub = await startTestHub({ JupyterHub: { allow_named_servers: true } });
  for (const name of ['alice', 'bob']) expect((await hub.api(`/users/${name}`, { method: 'POST' })).status).toBe(201);
  expect((await hub.api('/users/alice/server', { method: 'POST' })).status).toBe(201);
  expect((await hub.api('/users/alice/servers/nb1', { method: 'POST', body: JSON.stringify({ x: 1 }) })).status).toBe(201);
  expect((await hub.api('/users/alice/servers/nb1', { method: 'DELETE' })).status).toBe(204);
  await eventually(async () => (await (await hub.api('/users/alice')).json()).servers.nb1 === undefined);
  expect((await hub.api('/groups/g1', { method: 'POST', body: JSON.stringify({ users: ['alice'] }) })).status).toBe(201);
  const made = await hub.api('/users/alice/tokens', { method: 'POST', body: JSON.stringify({ note: 't', expires_in: 3600 }) });
  userToken = (await made.json()).token;
}, 30_000);
afterAll(async () => hub?.close());

describe('REST models against the JupyterHub 5.4.6 OpenAPI', () => {
  it('reads the 5.4.6 schema, and reports that version', async () => {
    expect(spec.info.version).toBe('5.4.6');
    expect(JUPYTERHUB_VERSION).toBe(spec.info.version);
    expect(await (await hub.api('', { token: null })).json()).toEqual({ version: spec.info.version });
  });

  it('user models (running, stopped and no servers, in a listing and alone) are 5.4.6 User models', async () => {
    const alice = await (await hub.api('/users/alice?include_stopped_servers=1')).json();
    expect(Object.keys(alice.servers).sort()).toEqual(['', 'nb1']);
    expect(alice.servers.nb1).toMatchObject({ full_name: 'alice/nb1', stopped: true, ready: false, started: null, full_url: null, full_progress_url: null });
    expect(alice.servers['']).toMatchObject({ full_name: 'alice/', stopped: false, ready: true });
    expect(check('User', alice)).toEqual([]);
    const page = await (await hub.api('/users', { headers: { accept: 'application/jupyterhub-pagination+json' } })).json();
    expect(check('PaginatedList', page)).toEqual([]);
    expect(check('Pagination', page._pagination)).toEqual([]);
    for (const u of page.items) expect(check('User', u)).toEqual([]);
  });

  it('the /user model of a user token adds token_id, session_id and scopes (5.0) to the User model', async () => {
    const me = await (await hub.api('/user', { token: userToken })).json();
    const { token_id: tokenId, session_id: sessionId, scopes, ...model } = me;
    expect(tokenId).toMatch(/^a\d+$/);
    expect(sessionId).toBeNull();
    expect(scopes).toContain('read:users!user=alice');
    // auth_state needs admin:auth_state and a server's state admin:server_state, which alice does not hold: absent,
    // as in 5.4.6.
    expect(check('User', model)).toEqual(['User.servers[""].state is missing', 'User.auth_state is missing']);
    const tokens = (await (await hub.api('/users/alice/tokens')).json()).api_tokens as { id: string }[];
    expect(tokens.map((t) => t.id)).toContain(tokenId);
  });

  it('token models, new and listed, are 5.4.6 Token/NewToken models', async () => {
    const made = await (await hub.api('/users/bob/tokens', { method: 'POST', body: JSON.stringify({ note: 'n' }) })).json();
    expect(check('NewToken', made)).toEqual([]);
    const listed = (await (await hub.api('/users/alice/tokens')).json()).api_tokens as Record<string, unknown>[];
    expect(listed.length).toBeGreaterThan(1);
    for (const t of listed) expect(check('Token', t)).toEqual([]);
    const one = await (await hub.api(`/users/alice/tokens/${listed[0].id as string}`)).json();
    expect(check('Token', one)).toEqual([]);
  });

  it('group models carry properties, set whole by PUT /groups/:name/properties', async () => {
    const put = await hub.api('/groups/g1/properties', { method: 'PUT', body: JSON.stringify({ k: 'v', n: [1] }) });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ kind: 'group', name: 'g1', users: ['alice'], roles: [], properties: { k: 'v', n: [1] } });
    const g = await (await hub.api('/groups/g1')).json();
    expect(g.properties).toEqual({ k: 'v', n: [1] });
    expect(check('Group', g)).toEqual([]);
    const list = await (await hub.api('/groups')).json();
    for (const x of list) expect(check('Group', x)).toEqual([]);
  });

  it('PUT /groups/:name/properties refuses what 5.4.6 refuses', async () => {
    expect((await hub.api('/groups/g1/properties', { method: 'PUT', body: '[1]' })).status).toBe(400);
    expect((await hub.api('/groups/g1/properties', { method: 'PUT', body: '{' })).status).toBe(400);
    expect((await hub.api('/groups/nope/properties', { method: 'PUT', body: '{}' })).status).toBe(404);
    // alice may read her own user, not change groups
    expect((await hub.api('/groups/g1/properties', { method: 'PUT', body: '{}', token: userToken })).status).toBe(403);
    expect((await (await hub.api('/groups/g1')).json()).properties).toEqual({ k: 'v', n: [1] });
  });

  it('service models are 5.4.6 Service models', async () => {
    const one = await (await hub.api('/services/admin-svc')).json();
    expect(check('Service', one)).toEqual([]);
    const all = await (await hub.api('/services')).json();
    for (const s of Object.values(all)) expect(check('Service', s as Record<string, unknown>)).toEqual([]);
  });
});
