// The few REST calls benchmarks make on a hub (JupyterHub 3.0 API, spec section 2), written once so both systems are
// driven by byte-identical requests. Every call carries the service token in the Authorization header.
import { setTimeout as sleep } from 'node:timers/promises';

export interface HubEndpoint {
  /** Label in reports, e.g. "JupyterHub 3.0 + CHP". */
  name: string;
  /** Public origin (the proxy's side), e.g. http://127.0.0.1:8000. */
  url: string;
  /** Admin service token. */
  token: string;
}

export interface ApiReply {
  status: number;
  body: unknown;
}

export async function hubApi(hub: HubEndpoint, method: string, path: string, body?: unknown): Promise<ApiReply> {
  const res = await fetch(`${hub.url}/hub/api${path}`, {
    method,
    redirect: 'manual',
    headers: {
      Authorization: `token ${hub.token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (e.g. an empty 204 with text/plain): keep the text for error messages.
  }
  return { status: res.status, body: parsed };
}

function expect(reply: ApiReply, ok: readonly number[], what: string): void {
  if (!ok.includes(reply.status)) {
    throw new Error(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
  }
}

const enc = encodeURIComponent;

export async function createUser(hub: HubEndpoint, name: string): Promise<void> {
  expect(await hubApi(hub, 'POST', `/users/${enc(name)}`), [201], `create user ${name} on ${hub.name}`);
}

/** Sends the spawn request; 201 (ready) and 202 (pending) are both fine, anything else throws. */
export async function requestServer(hub: HubEndpoint, name: string): Promise<number> {
  const reply = await hubApi(hub, 'POST', `/users/${enc(name)}/server`);
  expect(reply, [201, 202], `start server of ${name} on ${hub.name}`);
  return reply.status;
}

interface ServerModel {
  ready?: boolean;
  pending?: string | null;
}

async function defaultServer(hub: HubEndpoint, name: string): Promise<ServerModel | undefined> {
  const reply = await hubApi(hub, 'GET', `/users/${enc(name)}`);
  expect(reply, [200], `read user ${name} on ${hub.name}`);
  const servers = (reply.body as { servers?: Record<string, ServerModel> }).servers ?? {};
  return servers[''];
}

/** Polls the user model until `servers[""].ready`; the first look is immediate. */
export async function waitServerReady(hub: HubEndpoint, name: string, intervalMs = 10, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const server = await defaultServer(hub, name);
    if (server?.ready) return;
    if (server === undefined && performance.now() - t0 > 1_000) {
      throw new Error(`server of ${name} on ${hub.name} vanished while spawning (spawn failed?)`);
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`server of ${name} on ${hub.name} not ready in ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Asks for a stop and waits until the default server no longer shows up in the user model. */
export async function stopServer(hub: HubEndpoint, name: string, timeoutMs = 30_000): Promise<void> {
  expect(await hubApi(hub, 'DELETE', `/users/${enc(name)}/server`), [202, 204], `stop server of ${name} on ${hub.name}`);
  const t0 = performance.now();
  while ((await defaultServer(hub, name)) !== undefined) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`server of ${name} on ${hub.name} not stopped in ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** One request through the proxy to the user's server, redirects not followed; returns the status. */
export async function viaProxy(hub: HubEndpoint, name: string): Promise<number> {
  const res = await fetch(`${hub.url}/user/${enc(name)}/`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return res.status;
}
