// How a configurable class declares its settings: once, with name, type, default, help and any deprecated names, as
// traitlets does for JupyterHub. The loader, `--generate-config`, docs/config.md and the TypeScript types of the
// resolved configuration all read these declarations, so none of them can drift from the others.
import type { TraitType } from './traits.ts';

export interface Setting<T = unknown> {
  readonly type: TraitType<T>;
  readonly default: T;
  readonly help: string;
  /** Older names still read (with a warning at start-up), as traitlets keeps renamed traits working. */
  readonly deprecated: readonly string[];
}

export function setting<T>(type: TraitType<T>, defaultValue: NoInfer<T>, help: string, opts: { deprecated?: string[] } = {}): Setting<T> {
  return { type, default: defaultValue, help, deprecated: opts.deprecated ?? [] };
}

export type Settings = Record<string, Setting<any>>;

/** A configurable class: its JupyterHub name (the config section), the class it inherits settings from, its settings. */
export interface Configurable<S extends Settings = Settings, P extends Configurable<any, any> | null = any> {
  readonly name: string;
  readonly parent: P;
  readonly help: string;
  readonly settings: S;
}

export function configurable<S extends Settings, P extends Configurable<any, any> | null>(
  name: string, parent: P, help: string, settings: S,
): Configurable<S, P> {
  return { name, parent, help, settings };
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Own<S> = { -readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** The resolved values an instance of a class sees: its own settings over its parents' (a re-declared default wins). */
export type ValuesOf<C> = C extends Configurable<infer S, infer P>
  ? Simplify<P extends Configurable<any, any> ? Omit<ValuesOf<P>, keyof S> & Own<S> : Own<S>>
  : never;

/** One field of a list-of-objects setting (a service, a role, a profile). */
export interface FieldSpec<T = unknown> {
  readonly type: TraitType<T>;
  /** Filled in when the field is missing; a field with neither default nor `required` stays absent. */
  readonly default?: T;
  readonly required?: true;
  readonly help: string;
}

export const field = {
  required: <T>(type: TraitType<T>, help: string) => ({ type, required: true as const, help }),
  optional: <T>(type: TraitType<T>, help: string) => ({ type, help }),
  withDefault: <T>(type: TraitType<T>, defaultValue: NoInfer<T>, help: string) => ({ type, default: defaultValue, help }),
};

type FieldType<F> = F extends { type: TraitType<infer T> } ? T : never;
type Present<F> = { [K in keyof F as F[K] extends { required: true } | { default: unknown } ? K : never]: FieldType<F[K]> };
type Absent<F> = { [K in keyof F as F[K] extends { required: true } | { default: unknown } ? never : K]?: FieldType<F[K]> };

/** The checked object for declared fields: required and defaulted fields always present, the others optional. */
export type FieldValues<F> = Simplify<Present<F> & Absent<F>>;
