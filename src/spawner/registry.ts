// Spawner implementations by class. Which names select a class (`localprocess`, `simple`,
// `jupyterhub.spawner.LocalProcessSpawner`, …) is the one table in src/config/classes.ts; this only maps a class to
// the code that runs it.
import { registerClassNames, resolveClass } from '../config/index.ts';
import { localProcessSpawnerClass } from './local/index.ts';
import { kubeSpawnerClass } from './kubernetes/index.ts';
import { slurmSpawnerClass } from './slurm/index.ts';
import type { SpawnerClass } from './types.ts';

const classes = new Map<string, SpawnerClass>();

/** Adds a spawner class (a plug-in's) under the given names; a later registration of the same class replaces it. */
export function registerSpawner(cls: SpawnerClass, names: readonly string[] = [cls.name, cls.classPath]): void {
  registerClassNames({ kind: 'spawner', section: cls.name, names });
  classes.set(cls.name, cls);
}

/** The class `JupyterHub.spawner_class` names; an unknown name lists every known one. */
export function resolveSpawnerClass(name: string): SpawnerClass {
  const { section } = resolveClass('spawner', name);
  const cls = classes.get(section);
  if (!cls) throw new Error(`JupyterHub.spawner_class ${JSON.stringify(name)} names ${section}, which has no implementation registered`);
  return cls;
}

/** Every registered class (for help text and config validation). */
export function spawnerClasses(): readonly SpawnerClass[] {
  return [...classes.values()];
}

classes.set(localProcessSpawnerClass.name, localProcessSpawnerClass);
classes.set(kubeSpawnerClass.name, kubeSpawnerClass);
classes.set(slurmSpawnerClass.name, slurmSpawnerClass);
