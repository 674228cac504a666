// traitlets' lazy container edits: `c.Spawner.env_keep.append('X')` in a .py config, for a trait the file never
// assigned, extends that trait's default rather than replacing it. The runner sends them as {__nodehub_lazy__: ops}.
import { ConfigError, describe } from '../errors.ts';
import { isPlainObject } from '../traits.ts';

interface LazyOps {
  extend?: unknown[];
  prepend?: unknown[];
  inserts?: [number, unknown][];
  update?: unknown;
  updateKind?: 'dict' | 'set';
}

export function isLazy(value: unknown): value is { __nodehub_lazy__: LazyOps } {
  return isPlainObject(value) && Object.keys(value).length === 1 && isPlainObject(value.__nodehub_lazy__);
}

/** The default with the edits applied, as traitlets applies them when the class reads its config. */
export function applyLazy(base: unknown, value: { __nodehub_lazy__: LazyOps }, key: string, where: string): unknown {
  const ops = value.__nodehub_lazy__;
  const bad = (how: string) =>
    new ConfigError(`${key} cannot take ${how}: its default ${describe(base)} is not a list${where}`, key);
  if (ops.update !== undefined && ops.updateKind === 'dict') {
    if (!isPlainObject(base)) throw new ConfigError(`${key} cannot take update({...}): its default ${describe(base)} is not a mapping${where}`, key);
    return { ...base, ...(ops.update as Record<string, unknown>) };
  }
  if (!Array.isArray(base)) throw bad('list edits (append, extend, insert, add)');
  const out = [...(ops.prepend ?? []), ...base, ...(ops.extend ?? [])];
  for (const [index, item] of ops.inserts ?? []) out.splice(index, 0, item);
  for (const item of (ops.update as unknown[] | undefined) ?? []) if (!out.includes(item)) out.push(item);
  return out;
}
