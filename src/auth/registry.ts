// Picks the Authenticator named by `JupyterHub.authenticator_class`, accepting the names JupyterHub accepts: the
// entry-point alias ('dummy') or the import path ('jupyterhub.auth.DummyAuthenticator'), plus the bare class name.
import type { AuthenticatorConfig } from '../config/types.ts';
import { DummyAuthenticator } from './dummy.ts';
import { NullAuthenticator } from './null.ts';
import { TmpAuthenticator } from './tmp.ts';
import type { Authenticator, AuthenticatorFactory } from './types.ts';

interface Entry {
  /** First name is the short alias shown in messages, second the import path. */
  names: readonly string[];
  create: AuthenticatorFactory;
}

const entries: Entry[] = [
  { names: ['dummy', 'jupyterhub.auth.DummyAuthenticator', 'DummyAuthenticator'], create: (c) => new DummyAuthenticator(c) },
  { names: ['null', 'jupyterhub.auth.NullAuthenticator', 'NullAuthenticator'], create: (c) => new NullAuthenticator(c) },
  { names: ['tmp', 'tmpauthenticator.TmpAuthenticator', 'TmpAuthenticator'], create: (c) => new TmpAuthenticator(c) },
];

/** Adds an authenticator under the given names (short alias first); a name already taken is an Error. */
export function registerAuthenticator(names: readonly string[], create: AuthenticatorFactory): void {
  if (names.length === 0) throw new Error('registerAuthenticator needs at least one name');
  for (const n of names) {
    if (entries.some((e) => e.names.includes(n))) throw new Error(`Authenticator name '${n}' is already registered`);
  }
  entries.push({ names: [...names], create });
}

/** "dummy (jupyterhub.auth.DummyAuthenticator)", … for messages and --help. */
export function knownAuthenticators(): string[] {
  return entries.map((e) => (e.names.length > 1 ? `${e.names[0]} (${e.names[1]})` : e.names[0]));
}

export function resolveAuthenticator(className: string, config: AuthenticatorConfig): Authenticator {
  const entry = entries.find((e) => e.names.includes(className));
  if (!entry) {
    throw new Error(
      `Unknown authenticator class ${JSON.stringify(className)} in JupyterHub.authenticator_class; ` +
        `known: ${knownAuthenticators().join(', ')}`,
    );
  }
  return entry.create(config);
}
