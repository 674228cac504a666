// Trait types: what a configuration value may be, and how a bad one is reported. Each type checks a value and returns
// it normalised (e.g. a Set of users becomes a list), so the loader never special-cases a key.
import { isIP } from 'node:net';
import { ConfigError, describe, nearest, unknownKey } from './errors.ts';
import type { FieldSpec, FieldValues } from './declare.ts';

export interface TraitType<T = unknown> {
  /** The kind in words, for generated docs: "int", "list of strings". */
  readonly doc: string;
  /** The kind as it reads after "must be", for error messages. */
  readonly expected: string;
  /** Whether a command-line value is taken verbatim (strings) rather than read as JSON first. */
  readonly raw?: boolean;
  /** How a command-line word becomes a value when JSON does not fit this type (e.g. Python's `True`). */
  fromString?(text: string): unknown;
  check(value: unknown, path: string, where: string): T;
}

export function mismatch(path: string, expected: string, value: unknown, where: string): ConfigError {
  return new ConfigError(`${path} must be ${expected}, got ${describe(value)}${where}`, path);
}

function simple<T>(doc: string, expected: string, ok: (v: unknown) => boolean, extra: Partial<TraitType<T>> = {}): TraitType<T> {
  return {
    doc,
    expected,
    ...extra,
    check(value, path, where) {
      if (!ok(value)) throw mismatch(path, expected, value, where);
      return value as T;
    },
  };
}

export const string = simple<string>('string', 'a string', (v) => typeof v === 'string', { raw: true });
export const int = simple<number>('int', 'an integer', (v) => Number.isSafeInteger(v));
export const float = simple<number>('float', 'a number', (v) => typeof v === 'number' && Number.isFinite(v));
export const positiveInt = simple<number>('int', 'a positive integer', (v) => Number.isSafeInteger(v) && (v as number) >= 1);
export const positiveFloat = simple<number>('float', 'a positive number', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0);

const truthWords: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };
export const bool = simple<boolean>('bool', 'true or false', (v) => typeof v === 'boolean', {
  fromString: (text) => truthWords[text.toLowerCase()] ?? text,
});

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function listOf<T>(doc: string, expected: string, item: (v: unknown) => boolean, unique = false): TraitType<T[]> {
  return {
    doc,
    expected,
    check(value, path, where) {
      // A .mjs config may well say `new Set([...])` for a traitlets Set, as Python configs do.
      const items = value instanceof Set ? [...value] : value;
      if (!Array.isArray(items) || !items.every(item)) throw mismatch(path, expected, value, where);
      return (unique ? [...new Set(items)] : [...items]) as T[];
    },
  };
}

export const strings = listOf<string>('list of strings', 'a list of strings', (v) => typeof v === 'string');
/** A traitlets Set of names: duplicates dropped, order kept. */
export const names = listOf<string>('list of strings', 'a list of strings', (v) => typeof v === 'string', true);

/** An IPv4/IPv6 address or a CIDR network (10.0.0.0/8, fd00::/8). */
export function isIpOrCidr(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const [addr, prefix, ...rest] = v.trim().split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}
export const ipNetworks = listOf<string>('list of IPs or CIDRs', 'a list of IP addresses or CIDR networks (e.g. 10.0.0.0/8)', isIpOrCidr);

/** JupyterHub's Command: a list of words, or a single string meaning a one-word command. */
export const command: TraitType<string[]> = {
  doc: 'list of strings',
  expected: 'a list of strings',
  check(value, path, where) {
    if (typeof value === 'string') return [value];
    return strings.check(value, path, where);
  },
};

/** Environment-like dicts. Numbers become strings because YAML reads `OMP_NUM_THREADS: 1` as a number. */
export const stringMap: TraitType<Record<string, string>> = {
  doc: 'dict of strings',
  expected: 'a mapping of names to strings',
  check(value, path, where) {
    if (!isPlainObject(value)) throw mismatch(path, 'a mapping of names to strings', value, where);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') out[k] = v;
      else if (typeof v === 'number' && Number.isFinite(v)) out[k] = String(v);
      else throw mismatch(`${path}.${k}`, 'a string', v, where);
    }
    return out;
  },
};

function checkJson(value: unknown, path: string, where: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  if (Array.isArray(value)) return value.forEach((v, i) => checkJson(v, `${path}[${i}]`, where));
  if (isPlainObject(value)) return Object.entries(value).forEach(([k, v]) => checkJson(v, `${path}.${k}`, where));
  throw mismatch(path, 'plain data (JSON)', value, where);
}

export const json: TraitType<unknown> = {
  doc: 'any JSON value',
  expected: 'plain data (JSON)',
  check(value, path, where) {
    checkJson(value, path, where);
    return structuredClone(value);
  },
};

export const jsonObject: TraitType<Record<string, unknown>> = {
  doc: 'dict',
  expected: 'a mapping',
  check(value, path, where) {
    if (!isPlainObject(value)) throw mismatch(path, 'a mapping', value, where);
    return json.check(value, path, where) as Record<string, unknown>;
  },
};

/** Hooks are code, so only a .mjs/.js config file can set them. */
const hookExpected = 'a function (set it from a .mjs or .js config file)';
export const hook: TraitType<((...args: any[]) => unknown) | null> = {
  doc: 'function (only in a .mjs/.js config file) or null',
  expected: hookExpected,
  check(value, path, where) {
    if (value === null || typeof value === 'function') return value as ((...args: any[]) => unknown) | null;
    throw mismatch(path, hookExpected, value, where);
  },
};

export function nullable<T>(type: TraitType<T>): TraitType<T | null> {
  const expected = `${type.expected} or null`;
  return {
    doc: `${type.doc} or null`,
    expected,
    raw: type.raw,
    fromString: (text) => (text === 'None' ? null : type.fromString ? type.fromString(text) : text),
    check(value, path, where) {
      if (value === null) return null;
      try {
        return type.check(value, path, where);
      } catch (err) {
        // Say "or null" when the value itself is wrong; a problem deeper inside keeps its own message.
        if (err instanceof ConfigError && err.key === path) throw mismatch(path, expected, value, where);
        throw err;
      }
    },
  };
}

/** traitlets' ByteSpecification: bytes as a number, or a string such as `512M` or `1.5G`. */
export const bytes = simple<string | number>(
  'bytes (int, or string with K/M/G/T suffix)',
  'a byte count such as 1073741824 or "1G"',
  (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && /^\d+(\.\d+)?[KMGT]$/.test(v)),
  { fromString: (text) => (/^\d+$/.test(text) ? Number(text) : text) },
);

export const hex = simple<string>('hex string', 'a hex string', (v) => typeof v === 'string' && /^([0-9a-fA-F]{2})*$/.test(v), {
  raw: true,
});

export function intPair(what: string): TraitType<[number, number]> {
  const expected = `a list of two integers (${what})`;
  return simple('list of 2 ints', expected, (v) => Array.isArray(v) && v.length === 2 && v.every((n) => Number.isSafeInteger(n)));
}

/** Python logging level names or numbers, kept as the names our logger knows. */
const levels: Record<string, string> = {
  DEBUG: 'DEBUG', INFO: 'INFO', WARN: 'WARN', WARNING: 'WARN', ERROR: 'ERROR', CRITICAL: 'ERROR',
  '10': 'DEBUG', '20': 'INFO', '30': 'WARN', '40': 'ERROR', '50': 'ERROR',
};
const levelExpected = 'one of DEBUG, INFO, WARN, ERROR, CRITICAL';
export const logLevel: TraitType<string> = {
  doc: 'DEBUG, INFO, WARN, ERROR or CRITICAL',
  expected: levelExpected,
  raw: true,
  check(value, path, where) {
    const level = (typeof value === 'string' || typeof value === 'number') && levels[String(value).toUpperCase()];
    if (!level) throw mismatch(path, levelExpected, value, where);
    return level;
  },
};

/** One of a few fixed words, e.g. JupyterHub.log_style's 'text' or 'json'. */
export function oneOf<const W extends string>(words: readonly W[]): TraitType<W> {
  const expected = `one of ${words.map((w) => `'${w}'`).join(', ')}`;
  return {
    doc: words.join(' or '),
    expected,
    raw: true,
    check(value, path, where) {
      if (typeof value !== 'string' || !(words as readonly string[]).includes(value)) throw mismatch(path, expected, value, where);
      return value as W;
    },
  };
}

/** One mapping checked against declared fields, each under its own path: unknown keys are errors with a suggestion,
 *  missing required ones too, and defaults are filled in. */
export function checkFields(value: unknown, fields: Record<string, FieldSpec<any>>, at: string, where: string, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw mismatch(at, what, value, where);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = fields[key];
    if (!field) {
      const near = nearest(key, Object.keys(fields));
      throw unknownKey(`${at}.${key}`, where, near && `${at}.${near}`);
    }
    out[key] = field.type.check(v, `${at}.${key}`, where);
  }
  for (const [key, field] of Object.entries(fields)) {
    if (key in out) continue;
    if (field.required) throw new ConfigError(`${at}.${key} is required${where}`, `${at}.${key}`);
    if (field.default !== undefined) out[key] = structuredClone(field.default);
  }
  return out;
}

/** A list of objects with declared fields (services, roles, profiles), each field checked under its own path. */
export function objects<F extends Record<string, FieldSpec<any>>, T = FieldValues<F>>(
  what: string,
  fields: F,
  finish: (items: Record<string, unknown>[], path: string, where: string) => void = () => {},
): TraitType<T[]> & { fields: F } {
  const expected = `a list of ${what} objects`;
  return {
    doc: `list of ${what} objects`,
    expected,
    fields,
    check(value, path, where) {
      if (!Array.isArray(value)) throw mismatch(path, expected, value, where);
      const items = value.map((entry, i) => checkFields(entry, fields, `${path}[${i}]`, where, `a ${what} object`));
      finish(items, path, where);
      return items as T[];
    },
  };
}

/** A `finish` for objects(): the given field must differ between entries (service names, role names, slugs). */
export function uniqueBy(field: string, what: string) {
  return (items: Record<string, unknown>[], path: string, where: string) => {
    const seen = new Set<unknown>();
    items.forEach((item, i) => {
      if (seen.has(item[field])) {
        throw new ConfigError(`${path}[${i}].${field}: ${what} ${JSON.stringify(item[field])} is defined twice${where}`, `${path}[${i}].${field}`);
      }
      seen.add(item[field]);
    });
  };
}
