// Reading configuration: a YAML/JSON file, a JS module or a jupyterhub_config.py, then command-line overrides, then
// the environment, each value checked against the schema with the key's full path and its origin in every error.
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, describe, nearest, unknownKey } from './errors.ts';
import { sections, traitsOf } from './schema.ts';
import type { TraitSpec } from './schema.ts';
import { isPlainObject, mismatch } from './traits.ts';
import { resolveConfig } from './resolve.ts';
import { applyLazy, isLazy } from './pyconfig/lazy.ts';
import { readPythonConfig } from './pyconfig/read.ts';
import { fromZ2jhValues, isZ2jhValues } from './z2jh.ts';
import type { Given } from './resolve.ts';
import type { HubConfig } from './types.ts';

export interface LoadOptions {
  /** Config file; undefined falls back to $NODEHUB_CONFIG, null means no file at all. */
  file?: string | null;
  /** `Class.trait` -> command-line text, e.g. `{ 'JupyterHub.port': '8001' }`. */
  overrides?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How long a .py config may run before start-up gives up on it. */
  pythonTimeoutMs?: number;
}

export async function loadConfig(opts: LoadOptions = {}): Promise<HubConfig> {
  const env = opts.env ?? process.env;
  const file = opts.file === undefined ? env.NODEHUB_CONFIG || null : opts.file;
  const given: Given = new Map();
  const warnings: string[] = [];
  const lookup = (section: string, trait: string, where: string) => lookupTrait(section, trait, where, warnings);
  if (file) {
    const path = resolvePath(opts.cwd ?? process.cwd(), file);
    let content: unknown;
    // A .py config says where each key was assigned, so its messages name the line.
    let whereOf = (_key: string) => ` (in ${file})`;
    if (extname(path).toLowerCase() === '.py') {
      await stat(path).catch(() => {
        throw new ConfigError(`Config file ${file} not found`);
      });
      const py = await readPythonConfig(path, file, { env, timeoutMs: opts.pythonTimeoutMs });
      content = py.content;
      whereOf = (key) => py.where.get(key) ?? ` (in ${file})`;
    } else {
      content = await readConfigFile(path, file);
      // A Zero-to-JupyterHub values file: read as the settings the chart would make of it, its keys in the messages.
      if (isZ2jhValues(content)) {
        const values = fromZ2jhValues(content, file);
        content = values.content;
        warnings.push(...values.warnings);
        whereOf = (key) => values.where.get(key) ?? ` (in ${file})`;
      }
    }
    if (!isPlainObject(content)) {
      throw new ConfigError(`${file} must hold a mapping of class names (JupyterHub, Spawner, ...), got ${describe(content)}`);
    }
    for (const [section, traits] of Object.entries(content)) {
      if (traits === null) continue; // `Spawner:` with nothing under it, as YAML writes an empty section
      const where = whereOf(isPlainObject(traits) ? `${section}.${Object.keys(traits)[0]}` : section);
      if (!sections.has(section)) throw unknownKey(section, where, nearest(section, sections.keys()));
      if (!isPlainObject(traits)) throw mismatch(section, 'a mapping of trait names to values', traits, where);
      for (const [trait, value] of Object.entries(traits)) {
        const at = whereOf(`${section}.${trait}`);
        const spec = lookup(section, trait, at);
        setTrait(given, section, spec, isLazy(value) ? applyLazy(spec.default, value, `${section}.${trait}`, at) : value, at);
      }
    }
  }
  for (const [key, text] of Object.entries(opts.overrides ?? {})) {
    const where = ' (on the command line)';
    const dot = key.indexOf('.');
    const section = dot < 0 ? key : key.slice(0, dot);
    if (!sections.has(section)) {
      const near = nearest(section, sections.keys());
      throw unknownKey(key, where, near && (dot < 0 ? near : `${near}${key.slice(dot)}`));
    }
    if (dot < 0) throw new ConfigError(`${key} names a class, not a trait; write --${key}.<trait>=<value>${where}`, key);
    const spec = lookup(section, key.slice(dot + 1), where);
    setTrait(given, section, spec, fromCommandLine(spec, text), where);
  }
  const config = resolveConfig(given, file, warnings);
  applyEnvironment(config, env);
  return config;
}

async function readConfigFile(path: string, asGiven: string): Promise<unknown> {
  let mtime: number;
  try {
    mtime = (await stat(path)).mtimeMs;
  } catch {
    throw new ConfigError(`Config file ${asGiven} not found`);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.mjs' || ext === '.js') {
    let mod: { default?: unknown };
    try {
      // The query makes a changed file load afresh instead of from the module cache.
      mod = await import(`${pathToFileURL(path).href}?mtime=${mtime}`);
    } catch (err) {
      throw new ConfigError(`Cannot load ${asGiven}: ${(err as Error).message}`);
    }
    if (mod.default === undefined) throw new ConfigError(`${asGiven} has no default export; export the configuration object`);
    return mod.default;
  }
  if (ext !== '.yaml' && ext !== '.yml' && ext !== '.json') {
    throw new ConfigError(`Config file ${asGiven} must end in .yaml, .yml, .json, .mjs, .js or .py`);
  }
  try {
    // YAML is a superset of JSON, so one parser serves both.
    return parseYaml(await readFile(path, 'utf8')) ?? {};
  } catch (err) {
    throw new ConfigError(`Cannot parse ${asGiven}: ${(err as Error).message}`);
  }
}

function lookupTrait(section: string, trait: string, where: string, warnings: string[]): TraitSpec {
  const traits = traitsOf(section);
  const spec = traits.get(trait);
  if (spec) return spec;
  const renamed = [...traits.values()].find((s) => s.deprecated.includes(trait));
  if (renamed) {
    warnings.push(`${section}.${trait} is deprecated; use ${section}.${renamed.name}${where}`);
    return renamed;
  }
  const near = nearest(trait, traits.keys());
  // A right trait in the wrong class (`JupyterHub.cmd`) is a common slip; point at the class that has it.
  const elsewhere = near ? null : [...sections.keys()].find((s) => sections.get(s)!.own.has(trait));
  throw unknownKey(`${section}.${trait}`, where, near ? `${section}.${near}` : elsewhere ? `${elsewhere}.${trait}` : null);
}

// Values are kept under the class the user wrote (not the class declaring the trait), so `LocalProcessSpawner.cmd`
// still wins over `Spawner.cmd` in the merge.
function setTrait(given: Given, section: string, spec: TraitSpec, value: unknown, where: string): void {
  const key = `${section}.${spec.name}`;
  const checked = spec.type.check(value, key, where);
  if (!given.has(section)) given.set(section, {});
  given.get(section)![spec.name] = checked;
}

/** traitlets' rule: text for string traits, JSON for the rest, with Python spellings (True, None) as a fallback. */
function fromCommandLine(spec: TraitSpec, text: string): unknown {
  if (spec.type.raw) return text;
  try {
    return JSON.parse(text);
  } catch {
    return spec.type.fromString ? spec.type.fromString(text) : text;
  }
}

function applyEnvironment(config: HubConfig, env: NodeJS.ProcessEnv): void {
  // As in JupyterHub, a configured secret wins over the environment, which wins over the secret file.
  const secret = env.JPY_COOKIE_SECRET;
  if (!config.hub.cookie_secret && secret) {
    if (!/^([0-9a-fA-F]{2})+$/.test(secret.trim())) {
      throw new ConfigError('JPY_COOKIE_SECRET must be a hex string (e.g. from `openssl rand -hex 32`)', 'JupyterHub.cookie_secret');
    }
    config.hub.cookie_secret = secret.trim();
  }
}
