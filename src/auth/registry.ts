// Authenticator implementations by class. Which names select a class (`dummy`, `jupyterhub.auth.DummyAuthenticator`,
// `tmp`, …) is the one table in src/config/classes.ts; this only maps a class to the code that makes it.
import { knownClassNames, registerClassNames, resolveClass } from '../config/index.ts';
import type { AuthenticatorConfig } from '../config/types.ts';
import { DummyAuthenticator } from './dummy.ts';
import { LDAPAuthenticator } from './ldap.ts';
import { GenericOAuthenticator } from './generic-oauth.ts';
import { NullAuthenticator } from './null.ts';
import { PAMAuthenticator } from './pam.ts';
import { SharedPasswordAuthenticator } from './shared-password-authenticator.ts';
import { TmpAuthenticator } from './tmp.ts';
import type { Authenticator, AuthenticatorFactory } from './types.ts';

const factories = new Map<string, AuthenticatorFactory>([
  ['DummyAuthenticator', (c) => new DummyAuthenticator(c)],
  ['LDAPAuthenticator', (c) => new LDAPAuthenticator(c)],
  ['GenericOAuthenticator', (c) => new GenericOAuthenticator(c)],
  ['NullAuthenticator', (c) => new NullAuthenticator(c)],
  ['PAMAuthenticator', (c) => new PAMAuthenticator(c)],
  ['SharedPasswordAuthenticator', (c) => new SharedPasswordAuthenticator(c)],
  ['TmpAuthenticator', (c) => new TmpAuthenticator(c)],
]);

/** Adds an authenticator class (a plug-in's) under the given names, short one first; a name already taken is an Error. */
export function registerAuthenticator(section: string, names: readonly string[], create: AuthenticatorFactory): void {
  if (names.length === 0) throw new Error('registerAuthenticator needs at least one name');
  registerClassNames({ kind: 'authenticator', section, names });
  factories.set(section, create);
}

/** "dummy (jupyterhub.auth.DummyAuthenticator, DummyAuthenticator)", … for messages and --help. */
export function knownAuthenticators(): string[] {
  return knownClassNames('authenticator');
}

/** The authenticator `JupyterHub.authenticator_class` names; an unknown name lists every known one. */
export function resolveAuthenticator(className: string, config: AuthenticatorConfig): Authenticator {
  const { section } = resolveClass('authenticator', className);
  const create = factories.get(section);
  if (!create) throw new Error(`JupyterHub.authenticator_class ${JSON.stringify(className)} names ${section}, which has no implementation registered`);
  return create(config);
}
