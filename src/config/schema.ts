// Every configurable class nodehub knows, gathered from where each is declared (src/*/settings.ts), in the order
// `--generate-config` prints them. This file declares no setting itself: it only indexes the declarations for the
// loader, which validates against them, and for the generated config and docs.
import type { Configurable } from './declare.ts';
import type { TraitType } from './traits.ts';
import { JupyterHub, IdleCuller } from '../hub/settings.ts';
import { Spawner } from '../spawner/settings.ts';
import { LocalProcessSpawner } from '../spawner/local/settings.ts';
import { KubeSpawner } from '../spawner/kubernetes/settings.ts';
import { BatchSpawnerBase, SlurmSpawner } from '../spawner/slurm/settings.ts';
import {
  Authenticator, DummyAuthenticator, LDAPAuthenticator, LocalAuthenticator, NullAuthenticator, PAMAuthenticator, SharedPassword,
  SharedPasswordAuthenticator, TmpAuthenticator, GenericOAuthenticator,
} from '../auth/settings.ts';
import { ConfigurableHTTPProxy } from '../proxy/settings.ts';

export const configurables = [
  JupyterHub, Spawner, LocalProcessSpawner, KubeSpawner, BatchSpawnerBase, SlurmSpawner, Authenticator, DummyAuthenticator, SharedPasswordAuthenticator,
  TmpAuthenticator, NullAuthenticator, LocalAuthenticator, PAMAuthenticator, LDAPAuthenticator, GenericOAuthenticator, IdleCuller, SharedPassword, ConfigurableHTTPProxy,
] as const;

export interface TraitSpec {
  section: string;
  name: string;
  type: TraitType;
  default: unknown;
  help: string;
  deprecated: readonly string[];
}

export interface SectionSpec {
  name: string;
  /** Traits of the parent class apply here too, as with traitlets' class inheritance. */
  parent: string | null;
  help: string;
  /** Traits declared (or re-declared with another default) by this class itself. */
  own: Map<string, TraitSpec>;
}

export const sections = new Map<string, SectionSpec>(
  (configurables as readonly Configurable[]).map((c) => [c.name, {
    name: c.name,
    parent: c.parent?.name ?? null,
    help: c.help,
    own: new Map(Object.entries(c.settings).map(([name, s]) => [name, { section: c.name, name, ...s }])),
  }]),
);

/** All traits a section accepts: inherited ones first, then its own (which may re-declare a default). */
export function traitsOf(name: string): Map<string, TraitSpec> {
  const spec = sections.get(name);
  if (!spec) throw new Error(`no configuration section ${name}`);
  const inherited = spec.parent ? traitsOf(spec.parent) : new Map<string, TraitSpec>();
  for (const [trait, decl] of spec.own) inherited.set(trait, decl);
  return inherited;
}

/** The chain of classes from the root down to `name`, the order in which their values apply. */
export function lineage(name: string): string[] {
  const spec = sections.get(name);
  if (!spec) return [];
  return [...(spec.parent ? lineage(spec.parent) : []), name];
}
