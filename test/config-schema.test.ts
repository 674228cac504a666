import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateConfig, generateConfigDocs, loadConfig, sections, traitsOf } from '../src/config/index.ts';
import { readFileSync } from 'node:fs';
import { configurables } from '../src/config/schema.ts';

describe('schema', () => {
  it('gathers each class from its own declaration, and no trait is declared twice in one class', () => {
    expect([...sections.keys()]).toEqual(configurables.map((c) => c.name));
    for (const c of configurables) {
      expect(sections.get(c.name)!.parent).toBe(c.parent?.name ?? null);
      const names = Object.entries(c.settings).flatMap(([name, s]) => [name, ...s.deprecated]);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  // Any value of the wrong type for any LocalProcessSpawner or KubeSpawner setting stops start-up naming the key.
  const wrongValues: unknown[] = [{ nested: { deep: [1] } }, 12.5, 'not-this', [1, 'x'], true, -3];
  it.each(['LocalProcessSpawner', 'KubeSpawner', 'Spawner', 'JupyterHub'])('refuses a wrong type for every %s setting, with its path', async (section) => {
    const dir = mkdtempSync(join(tmpdir(), 'nodehub-types-'));
    try {
      let tried = 0;
      for (const [name, spec] of traitsOf(section)) {
        const bad = wrongValues.find((v) => { try { spec.type.check(v, name, ''); return false; } catch { return true; } });
        if (bad === undefined) continue; // a trait that takes any JSON value
        const file = join(dir, `${name}.json`);
        const spawner = section.endsWith('Spawner') && section !== 'Spawner' ? { JupyterHub: { spawner_class: section } } : {};
        writeFileSync(file, JSON.stringify({ ...spawner, [section]: { ...(spawner as Record<string, object>)[section], [name]: bad } }));
        await expect(loadConfig({ file, env: {} }), `${section}.${name} = ${JSON.stringify(bad)}`).rejects.toMatchObject({ key: expect.stringMatching(new RegExp(`^${section}\\.${name}\\b`)) });
        tried++;
      }
      expect(tried).toBeGreaterThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks profile overrides against the selected spawner class, with the full path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodehub-ovr-'));
    try {
      const file = join(dir, 'c.json');
      const profile = (override: object) => ({ JupyterHub: { spawner_class: 'kubernetes' }, KubeSpawner: { profile_list: [{ display_name: 'A' }, { display_name: 'B', kubespawner_override: override }] } });
      writeFileSync(file, JSON.stringify(profile({ cpu_limit: 'lots' })));
      await expect(loadConfig({ file, env: {} })).rejects.toMatchObject({ key: 'KubeSpawner.profile_list[1].kubespawner_override.cpu_limit' });
      writeFileSync(file, JSON.stringify(profile({ cpu_limitt: 2 })));
      await expect(loadConfig({ file, env: {} })).rejects.toThrow(/KubeSpawner\.profile_list\[1\]\.kubespawner_override\.cpu_limitt.*cpu_limit/);
      writeFileSync(file, JSON.stringify(profile({ container_security_context: { run_as_user: 0 } })));
      await expect(loadConfig({ file, env: {} })).rejects.toThrow(/camelCase/);
      writeFileSync(file, JSON.stringify(profile({ cmd: 'start.sh', mem_limit: '2G' })));
      const ok = await loadConfig({ file, env: {} });
      expect(ok.spawnerSection).toBe('KubeSpawner');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a deprecated name as the setting it became, with a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodehub-dep-'));
    try {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ Authenticator: { whitelist: ['ada'] } }));
      const config = await loadConfig({ file, env: {} });
      expect(config.authenticator.allowed_users).toEqual(['ada']);
      expect(config.warnings.join('\n')).toMatch(/Authenticator\.whitelist is deprecated; use Authenticator\.allowed_users/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

  // nodehub differs from JupyterHub 3.0 on purpose here (hub_port: 0, no second listener unless asked, as the hub is in
  // the proxy's process); every other shared default must match Debian's JupyterHub.
  const nodehubOwn = new Set(['JupyterHub.authenticator_class', 'JupyterHub.spawner_class', 'JupyterHub.db_url', 'JupyterHub.cookie_secret_file', 'JupyterHub.bind_url', 'JupyterHub.log_level', 'JupyterHub.cookie_secret', 'JupyterHub.ip', 'JupyterHub.hub_port']);
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

describe('docs/config.md', () => {
  it('is the reference generated from the declarations, listing every setting (run `npm run docs:config` after a change)', () => {
    const docs = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
    expect(docs).toBe(generateConfigDocs());
    for (const [section, spec] of sections) {
      for (const name of spec.own.keys()) expect(docs, `${section}.${name}`).toMatch(new RegExp(`## ${section}\\n[\\s\\S]*?\\| \`${name}\``));
    }
  });
});
