import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateConfig, loadConfig, sections, traitsOf } from '../src/config/index.ts';
import type { AuthenticatorConfig, JupyterHubConfig, SpawnerConfig } from '../src/config/index.ts';

// Typed lists: tsc fails here when types.ts gains a trait, and the tests below fail when the schema lacks one.
const hubKeys: Record<keyof JupyterHubConfig, true> = {
  ip: true, port: true, bind_url: true, base_url: true, hub_connect_url: true, db_url: true, cookie_secret: true,
  cookie_secret_file: true, cookie_max_age_days: true, services: true, load_roles: true, api_tokens: true,
  authenticator_class: true, spawner_class: true, default_url: true, concurrent_spawn_limit: true,
  active_server_limit: true, allow_named_servers: true, named_server_limit_per_user: true, shutdown_on_logout: true,
  cleanup_servers: true, last_activity_interval: true, ssl_key: true, ssl_cert: true, authenticate_prometheus: true,
  admin_access: true, redirect_to_server: true, api_page_default_limit: true, api_page_max_limit: true,
  user_redirect_limit: true, slow_spawn_timeout: true, template_vars: true, log_level: true, log_style: true,
};
type Declared<T> = { [K in keyof T as string extends K ? never : K]: true };
const spawnerKeys: Declared<SpawnerConfig> = {
  cmd: true, args: true, environment: true, env_keep: true, notebook_dir: true, default_url: true, start_timeout: true,
  http_timeout: true, poll_interval: true, debug: true, disable_user_config: true, oauth_client_allowed_scopes: true,
  ip: true, port: true, mem_limit: true, cpu_limit: true, mem_guarantee: true, cpu_guarantee: true, pre_spawn_hook: true, post_stop_hook: true,
  profile_list: true, pool_size: true, pool_max_age: true,
};
const authenticatorKeys: Declared<AuthenticatorConfig> = { allowed_users: true, admin_users: true, blocked_users: true, auto_login: true };

describe('schema', () => {
  it.each([
    ['JupyterHub', hubKeys],
    ['Spawner', spawnerKeys],
    ['Authenticator', authenticatorKeys],
  ] as const)('declares every %s trait of types.ts, and nothing more', (section, keys) => {
    expect([...sections.get(section)!.own.keys()].sort()).toEqual(Object.keys(keys).sort());
  });

  it('subclasses inherit their parent traits', () => {
    expect(traitsOf('LocalProcessSpawner').has('cmd')).toBe(true);
    expect(traitsOf('DummyAuthenticator').has('admin_users')).toBe(true);
    expect(traitsOf('Spawner').has('kill_timeout')).toBe(false);
  });

  it('every default passes its own type check', () => {
    for (const section of sections.keys()) {
      for (const [name, spec] of traitsOf(section)) {
        expect(() => spec.type.check(spec.default, `${section}.${name}`, '')).not.toThrow();
      }
    }
  });

  // nodehub differs from JupyterHub 3.0 on purpose here; every other shared default must match Debian's JupyterHub.
  const nodehubOwn = new Set(['JupyterHub.authenticator_class', 'JupyterHub.spawner_class', 'JupyterHub.db_url', 'JupyterHub.cookie_secret_file', 'JupyterHub.bind_url', 'JupyterHub.log_level', 'JupyterHub.cookie_secret', 'JupyterHub.ip']);
  const python = '/usr/bin/python3';
  it.skipIf(!existsSync(python) || !existsSync('/usr/lib/python3/dist-packages/jupyterhub'))(
    "matches JupyterHub 3.0's defaults",
    () => {
      const script = `
import json, sys
from jupyterhub import app, spawner, auth
classes = {'JupyterHub': app.JupyterHub, 'Spawner': spawner.Spawner, 'LocalProcessSpawner': spawner.LocalProcessSpawner,
           'Authenticator': auth.Authenticator, 'DummyAuthenticator': auth.DummyAuthenticator}
out = {}
for name, cls in classes.items():
    for trait, t in cls.class_traits(config=True).items():
        try:
            d = t.default()
        except Exception:
            continue
        if isinstance(d, set): d = sorted(d)
        try: json.dumps(d)
        except TypeError: continue
        out[name + '.' + trait] = d
print(json.dumps(out))
`;
      const theirs = JSON.parse(execFileSync(python, ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Record<string, unknown>;
      let compared = 0;
      for (const section of ['JupyterHub', 'Spawner', 'LocalProcessSpawner', 'Authenticator', 'DummyAuthenticator']) {
        for (const [name, spec] of sections.get(section)!.own) {
          const key = `${section}.${name}`;
          if (nodehubOwn.has(key) || !(key in theirs)) continue;
          expect({ key, value: spec.default }).toEqual({ key, value: theirs[key] });
          compared++;
        }
      }
      expect(compared).toBeGreaterThanOrEqual(45);
    },
  );
});

describe('generateConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nodehub-gen-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every trait with its help and default', () => {
    const text = generateConfig();
    for (const [section, spec] of sections) {
      expect(text).toContain(`\n${section}:\n`);
      for (const [name, trait] of spec.own) {
        expect(text).toContain(`  ## ${trait.help}\n`);
        expect(text).toContain(`  # ${name}: ${JSON.stringify(trait.default)}\n`);
      }
    }
    expect(text).toMatch(/\n  ##   command \(list of strings, default \[\]\): /); // service fields are documented too
  });

  it('loads as is (all commented out) and, uncommented, gives exactly the defaults', async () => {
    const text = generateConfig();
    const defaults = await loadConfig({ file: null, env: {} });
    const asIs = join(dir, 'as-is.yaml');
    writeFileSync(asIs, text);
    expect((await loadConfig({ file: asIs, env: {} })).sections).toEqual(defaults.sections);

    const uncommented = join(dir, 'all.yaml');
    writeFileSync(uncommented, text.replace(/^( +)# /gm, '$1'));
    const loaded = await loadConfig({ file: uncommented, env: {} });
    expect(loaded.sections).toEqual(defaults.sections);
  });
});
