// The one table of class names: every name `JupyterHub.spawner_class` or `JupyterHub.authenticator_class` may give —
// JupyterHub's entry-point names, Python class paths, bare class names — mapped to the class (its config section).
// The registries in src/spawner and src/auth map a class to its implementation; neither keeps names of its own.
// `default` is JupyterHub's default authenticator entry point, PAMAuthenticator, as in JupyterHub.
// Matching ignores case and surrounding spaces, and reads an entry point's `module:Class` as `module.Class`.
import { ConfigError } from './errors.ts';

export type ClassKind = 'spawner' | 'authenticator';

export interface ClassNames {
  kind: ClassKind;
  /** The class's config section, e.g. `LocalProcessSpawner`. */
  section: string;
  /** Every accepted name; the first is the short one shown in messages. */
  names: readonly string[];
}

const table: ClassNames[] = [
  {
    kind: 'spawner', section: 'LocalProcessSpawner',
    names: ['localprocess', 'default', 'simple', 'jupyterhub.spawner.LocalProcessSpawner', 'jupyterhub.spawner.SimpleLocalProcessSpawner',
      'LocalProcessSpawner', 'SimpleLocalProcessSpawner'],
  },
  { kind: 'spawner', section: 'KubeSpawner', names: ['kubernetes', 'kubespawner', 'kubespawner.KubeSpawner', 'kubespawner.spawner.KubeSpawner', 'KubeSpawner'] },
  // batchspawner registers no entry points (only the batchspawner-singleuser script): configs name its classes by path.
  {
    kind: 'spawner', section: 'SlurmSpawner',
    names: ['slurm', 'batchspawner.SlurmSpawner', 'batchspawner.batchspawner.SlurmSpawner', 'SlurmSpawner'],
  },
  { kind: 'authenticator', section: 'TmpAuthenticator', names: ['tmp', 'tmpauthenticator', 'tmpauthenticator.TmpAuthenticator', 'TmpAuthenticator'] },
  { kind: 'authenticator', section: 'DummyAuthenticator', names: ['dummy', 'jupyterhub.auth.DummyAuthenticator', 'DummyAuthenticator'] },
  {
    kind: 'authenticator', section: 'SharedPasswordAuthenticator',
    names: ['shared-password', 'jupyterhub.authenticators.shared.SharedPasswordAuthenticator', 'SharedPasswordAuthenticator'],
  },
  { kind: 'authenticator', section: 'PAMAuthenticator', names: ['pam', 'default', 'jupyterhub.auth.PAMAuthenticator', 'PAMAuthenticator'] },
  {
    kind: 'authenticator', section: 'LDAPAuthenticator',
    names: ['ldap', 'ldapauthenticator.LDAPAuthenticator', 'ldapauthenticator.ldapauthenticator.LDAPAuthenticator', 'LDAPAuthenticator'],
  },
  {
    kind: 'authenticator', section: 'GenericOAuthenticator',
    names: ['generic-oauth', 'oauthenticator.generic.GenericOAuthenticator', 'oauthenticator.GenericOAuthenticator', 'GenericOAuthenticator'],
  },
  { kind: 'authenticator', section: 'NullAuthenticator', names: ['null', 'jupyterhub.auth.NullAuthenticator', 'NullAuthenticator'] },
];

const key = (name: string) => name.trim().replace(':', '.').toLowerCase();

/** Adds a class's names (a plug-in's); a name another class already has is an Error, so no name means two things. */
export function registerClassNames(entry: ClassNames): void {
  const own = table.find((e) => e.kind === entry.kind && e.section === entry.section);
  for (const name of entry.names) {
    const holder = findClass(entry.kind, name);
    if (holder && holder !== own) throw new Error(`The ${entry.kind} class name '${name}' is already taken by ${holder.section}`);
  }
  if (own) own.names = [...new Set([...own.names, ...entry.names])];
  else table.push({ ...entry, names: [...entry.names] });
}

export function findClass(kind: ClassKind, name: string): ClassNames | null {
  const wanted = key(String(name ?? ''));
  return table.find((e) => e.kind === kind && e.names.some((n) => key(n) === wanted)) ?? null;
}

/** "localprocess (default, simple, jupyterhub.spawner.LocalProcessSpawner, …)", one per class, for messages and --help. */
export function knownClassNames(kind: ClassKind): string[] {
  return table.filter((e) => e.kind === kind).map((e) => `${e.names[0]} (${e.names.slice(1).join(', ')})`);
}

/** The class a configured name selects; an unknown name is a ConfigError naming the key and every known class. */
export function resolveClass(kind: ClassKind, name: string): ClassNames {
  const found = findClass(kind, name);
  if (found) return found;
  const setting = `JupyterHub.${kind}_class`;
  throw new ConfigError(`Unknown ${setting} ${JSON.stringify(name)}; known ${kind}s: ${knownClassNames(kind).join('; ')}`, setting);
}
