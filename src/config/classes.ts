// Which configuration section a configured class name reads, so `spawner_class: kubernetes` picks up the KubeSpawner
// section just as `kubespawner.KubeSpawner` does. Whether the class exists is the hub's business, not the loader's.
import { sections } from './schema.ts';

// JupyterHub's entry-point names plus the short names nodehub documents.
const spawnerAliases: Record<string, string> = {
  default: 'LocalProcessSpawner',
  localprocess: 'LocalProcessSpawner',
  simple: 'LocalProcessSpawner',
  SimpleLocalProcessSpawner: 'LocalProcessSpawner',
  kubernetes: 'KubeSpawner',
  kubespawner: 'KubeSpawner',
};

const authenticatorAliases: Record<string, string> = {
  dummy: 'DummyAuthenticator',
  tmp: 'TmpAuthenticator',
  tmpauthenticator: 'TmpAuthenticator',
  null: 'NullAuthenticator',
};

function sectionFor(className: string, aliases: Record<string, string>, base: string): string | null {
  if (aliases[className]) return aliases[className];
  // Python spells a class `package.module.Class` or, as an entry point, `package.module:Class`.
  const last = className.split(/[.:]/).pop() ?? className;
  const name = aliases[last] ?? last;
  return name !== base && sections.get(name)?.parent === base ? name : null;
}

/** The section of a spawner class (e.g. `LocalProcessSpawner`), or null when nodehub declares none for it. */
export function spawnerSection(className: string): string | null {
  return sectionFor(className, spawnerAliases, 'Spawner');
}

/** The section of an authenticator class (e.g. `DummyAuthenticator`), or null when nodehub declares none for it. */
export function authenticatorSection(className: string): string | null {
  return sectionFor(className, authenticatorAliases, 'Authenticator');
}
