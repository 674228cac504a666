// From checked values to the resolved HubConfig: defaults filled, class sections merged the way traitlets merges a
// subclass over its parent, and the listener URL made consistent.
import { resolveClass } from './classes.ts';
import { ConfigError } from './errors.ts';
import { lineage, sections, traitsOf } from './schema.ts';
import { normaliseBaseUrl } from '../util/url.ts';
import { checkProfileOverrides, foreignOverrideKeys } from './overrides.ts';
import type { AuthenticatorConfig, HubConfig, JupyterHubConfig, SectionsConfig, SpawnerConfig } from './types.ts';

/** Checked values as given, by the class name they were given under. */
export type Given = Map<string, Record<string, unknown>>;

/** Deep copy of plain data that keeps functions (hooks) as they are; structuredClone would refuse them. */
function copy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copy) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)])) as T;
  }
  return value;
}

/** What an instance of `section` sees: every default, then values given for each class from the root down. */
function view(section: string, given: Given): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of traitsOf(section)) out[name] = copy(spec.default);
  for (const cls of lineage(section)) Object.assign(out, copy(given.get(cls) ?? {}));
  return out;
}


/** Splits `http://ip:port/prefix/`; Node's URL class rejects JupyterHub's usual `http://:8000` (empty host). */
function parseBindUrl(url: string): { https: boolean; ip: string; port: number; path: string } {
  const m = /^(https?):\/\/(\[[0-9a-fA-F:.]*\]|[^/:[\]]*)(?::(\d{1,5}))?(\/.*)?$/.exec(url);
  const port = m?.[3] === undefined ? (m?.[1] === 'https' ? 443 : 80) : Number(m[3]);
  if (!m || port > 65535) {
    throw new ConfigError(`JupyterHub.bind_url must look like http://ip:port/prefix/, got ${JSON.stringify(url)}`, 'JupyterHub.bind_url');
  }
  return { https: m[1] === 'https', ip: m[2].replace(/^\[|\]$/g, ''), port, path: m[4] ?? '/' };
}

function checkPort(value: number, key: string): void {
  if (value < 0 || value > 65535) throw new ConfigError(`${key} must be a port number (0-65535), got ${value}`, key);
}

export function resolveConfig(given: Given, source: string | null, warnings: string[] = []): HubConfig {
  const all: Record<string, Record<string, unknown>> = {};
  for (const name of sections.keys()) all[name] = view(name, given);
  const hub = all.JupyterHub as unknown as JupyterHubConfig;

  if (hub.bind_url) {
    const bind = parseBindUrl(hub.bind_url);
    hub.ip = bind.ip;
    hub.port = bind.port;
    hub.base_url = bind.path;
  }
  checkPort(hub.port, 'JupyterHub.port');
  hub.base_url = normaliseBaseUrl(hub.base_url);
  // Always filled, so consumers print or compare one canonical URL whichever way the listener was configured.
  const host = hub.ip.includes(':') ? `[${hub.ip}]` : hub.ip;
  hub.bind_url = `${hub.ssl_cert ? 'https' : 'http'}://${host}:${hub.port}${hub.base_url}`;

  // A plug-in class without settings of its own reads the base class's.
  const declared = (name: string, base: string) => (sections.has(name) ? name : base);
  const section = declared(resolveClass('spawner', hub.spawner_class).section, 'Spawner');
  const spawner = all[section] as SpawnerConfig;
  checkPort(spawner.port, 'Spawner.port');
  // Errors name the class the profile list was written under, as every other config error does.
  const listedUnder = [...lineage(section)].reverse().find((c) => given.get(c)?.profile_list !== undefined) ?? section;
  checkProfileOverrides(spawner, section, `${listedUnder}.profile_list`, source ? ` (in ${source})` : '');
  for (const key of foreignOverrideKeys(spawner, section)) {
    warnings.push(`${listedUnder}.profile_list: ${key} is not a ${section} setting; profiles may set it, and this spawner ignores it`);
  }
  const authenticatorSection = declared(resolveClass('authenticator', hub.authenticator_class).section, 'Authenticator');
  const authenticator = all[authenticatorSection] as AuthenticatorConfig;
  return { hub, spawner, spawnerSection: section, authenticator, authenticatorSection, sections: all as unknown as SectionsConfig, source, warnings };
}
