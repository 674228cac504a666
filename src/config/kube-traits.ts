// Trait types for KubeSpawner's Kubernetes-shaped settings (volumes, tolerations, init containers, pull secrets).
// The values are Kubernetes objects passed into the pod as they are, so only their outer shape is checked here; the
// API server (or the simulator) judges the fields. KubeSpawner accepts several of them as a list or as a mapping whose
// values are used in key order (Zero-to-JupyterHub writes mappings so that profiles can merge into them by key); the
// shape given is kept, because a profile's kubespawner_override merges mappings key by key, and `asList` flattens it
// when the pod is built.
import { isPlainObject, json, mismatch } from './traits.ts';
import type { TraitType } from './traits.ts';

function checkObject(item: unknown, path: string, where: string, what: string): Record<string, unknown> {
  if (!isPlainObject(item)) throw mismatch(path, `a mapping (a Kubernetes ${what})`, item, where);
  return json.check(item, path, where) as Record<string, unknown>;
}

/** A list of Kubernetes objects, or a mapping of them whose values are taken in key order (null values dropped). */
export function objectsListOrDict(what: string): TraitType<Record<string, unknown>[] | Record<string, Record<string, unknown> | null>> {
  const expected = `a list of mappings (Kubernetes ${what}s) or a mapping of them`;
  return {
    doc: `list or dict of ${what} objects`,
    expected,
    check(value, path, where) {
      if (Array.isArray(value)) return value.map((item, i) => checkObject(item, `${path}[${i}]`, where, what));
      if (!isPlainObject(value)) throw mismatch(path, expected, value, where);
      const out: Record<string, Record<string, unknown> | null> = {};
      for (const [key, item] of Object.entries(value)) {
        // null is how a profile's override removes an entry of a mapping.
        out[key] = item === null ? null : checkObject(item, `${path}.${key}`, where, what);
      }
      return out;
    },
  };
}

/** KubeSpawner's order for a list-or-dict trait: a list as given, a mapping's values sorted by key, nulls dropped. */
export function asList<T = Record<string, unknown>>(value: unknown): T[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value as T[];
  if (!isPlainObject(value)) return [];
  return Object.keys(value)
    .sort()
    .map((key) => value[key])
    .filter((item) => item !== null && item !== undefined) as T[];
}

const pullSecretsExpected = 'a list of secret names or of {name: <secret>} mappings';

/** `image_pull_secrets`: names or `{name}` objects, always kept as `{name}` objects (the pod field's shape). */
export const imagePullSecrets: TraitType<{ name: string }[]> = {
  doc: 'list of secret names or {name} objects',
  expected: pullSecretsExpected,
  check(value, path, where) {
    // KubeSpawner still accepts one name as a plain string (deprecated there); so do we.
    const items = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(items)) throw mismatch(path, pullSecretsExpected, value, where);
    return items.map((item, i) => {
      if (typeof item === 'string' && item !== '') return { name: item };
      if (isPlainObject(item) && typeof item.name === 'string' && item.name !== '') return { name: item.name };
      throw mismatch(`${path}[${i}]`, 'a secret name or a {name: <secret>} mapping', item, where);
    });
  },
};

/** Kubernetes quantities by resource name (`nvidia.com/gpu: 1`), kept as strings as the pod spec wants them. */
export const quantities: TraitType<Record<string, string>> = {
  doc: 'dict of quantities (strings or numbers)',
  expected: 'a mapping of resource names to quantities',
  check(value, path, where) {
    if (!isPlainObject(value)) throw mismatch(path, 'a mapping of resource names to quantities', value, where);
    const out: Record<string, string> = {};
    for (const [name, q] of Object.entries(value)) {
      if (typeof q === 'number' && Number.isFinite(q) && q >= 0) out[name] = String(q);
      else if (typeof q === 'string' && /^\d+(\.\d+)?([munkMGTPE]|[KMGTPE]i|e\d+)?$/.test(q)) out[name] = q;
      else throw mismatch(`${path}.${name}`, 'a Kubernetes quantity such as 1, "500m" or "2Gi"', q, where);
    }
    return out;
  },
};

/** A list of integers, e.g. `supplemental_gids`. */
export const ints: TraitType<number[]> = {
  doc: 'list of ints',
  expected: 'a list of integers',
  check(value, path, where) {
    if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v))) throw mismatch(path, 'a list of integers', value, where);
    return [...value] as number[];
  },
};

/** CPUs as KubeSpawner takes them: a number (0.5) or a Kubernetes quantity ("500m"). */
export const cpu: TraitType<number | string> = {
  doc: 'number of CPUs or a quantity such as "500m"',
  expected: 'a number of CPUs such as 0.5 or "500m"',
  check(value, path, where) {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    if (typeof value === 'string' && /^\d+(\.\d+)?m?$/.test(value)) return value;
    throw mismatch(path, this.expected, value, where);
  },
};

/** Memory as KubeSpawner takes it: bytes, JupyterHub's ByteSpecification ("1G" = 1024³) or a quantity ("512Mi"). */
export const memory: TraitType<number | string> = {
  doc: 'bytes, or a string such as "1G" or "512Mi"',
  expected: 'a byte size such as 1073741824, "1G" or "512Mi"',
  check(value, path, where) {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    if (typeof value === 'string' && /^\d+(\.\d+)?([KMGT]|[EPTGMk]i?|Ki|m)?$/.test(value)) return value;
    throw mismatch(path, this.expected, value, where);
  },
};


/** A raw Kubernetes object written in the API's camelCase: a snake_case key would be silently ignored by Kubernetes,
 *  so KubeSpawner refuses it, and so do we. */
export const camelObject: TraitType<Record<string, unknown>> = {
  doc: 'dict (Kubernetes camelCase keys)',
  expected: 'a mapping with Kubernetes camelCase keys',
  check(value, path, where) {
    if (!isPlainObject(value)) throw mismatch(path, 'a mapping', value, where);
    const snake = Object.keys(value).find((key) => key.includes('_'));
    if (snake) throw mismatch(`${path}.${snake}`, 'a Kubernetes camelCase key', snake, where);
    return json.check(value, path, where) as Record<string, unknown>;
  },
};

/** KubeSpawner's `environment`: values are strings (numbers and booleans become strings) or EnvVar objects. */
export const environment: TraitType<Record<string, string | Record<string, unknown>>> = {
  doc: 'dict of strings or EnvVar objects',
  expected: 'a mapping of names to strings or EnvVar mappings',
  check(value, path, where) {
    if (!isPlainObject(value)) throw mismatch(path, this.expected, value, where);
    const out: Record<string, string | Record<string, unknown>> = {};
    for (const [name, v] of Object.entries(value)) {
      if (typeof v === 'string') out[name] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') out[name] = String(v);
      else if (isPlainObject(v)) out[name] = json.check(v, `${path}.${name}`, where) as Record<string, unknown>;
      else throw mismatch(`${path}.${name}`, 'a string or an EnvVar mapping', v, where);
    }
    return out;
  },
};
