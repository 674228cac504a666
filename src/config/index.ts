// The configuration part's public surface.
export { loadConfig } from './load.ts';
export type { LoadOptions } from './load.ts';
export { ConfigError } from './errors.ts';
export { generateConfig, generateConfigDocs } from './generate.ts';
export { findClass, knownClassNames, registerClassNames, resolveClass, type ClassKind, type ClassNames } from './classes.ts';
export { normaliseBaseUrl } from '../util/url.ts';
export { sections, traitsOf } from './schema.ts';
export type { SectionSpec, TraitSpec } from './schema.ts';
export type * from './types.ts';
export { applyOverrides } from './overrides.ts';
export { configurable, field, setting } from './declare.ts';
export type { Configurable, FieldValues, Setting, ValuesOf } from './declare.ts';
