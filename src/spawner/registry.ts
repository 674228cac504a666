// Spawner classes by name: `JupyterHub.spawner_class` may be an entry-point name ('localprocess'), a class name or a
// full Python class path, matched case-insensitively.
import { localProcessSpawnerClass } from './local/index.ts';
import { kubeSpawnerClass } from './kubernetes/index.ts';
import type { SpawnerClass } from './types.ts';

const classes: SpawnerClass[] = [];

/** Adds a spawner class; a later registration with the same name replaces the earlier one. */
export function registerSpawner(cls: SpawnerClass): void {
  const existing = classes.findIndex((c) => c.name.toLowerCase() === cls.name.toLowerCase());
  if (existing >= 0) classes.splice(existing, 1, cls);
  else classes.push(cls);
}

export function resolveSpawnerClass(name: string): SpawnerClass {
  const wanted = String(name ?? '').trim().toLowerCase();
  const found = classes.find(
    (c) => c.name.toLowerCase() === wanted || c.aliases.some((a) => a.toLowerCase() === wanted),
  );
  if (found) return found;
  const known = classes.map((c) => [c.name, ...c.aliases.filter((a) => a !== c.name)].join(' / ')).join('; ');
  throw new Error(`Unknown JupyterHub.spawner_class ${JSON.stringify(name)}; known spawners: ${known}`);
}

/** Every registered class (for help text and config validation). */
export function spawnerClasses(): readonly SpawnerClass[] {
  return [...classes];
}

registerSpawner(localProcessSpawnerClass);
registerSpawner(kubeSpawnerClass);
