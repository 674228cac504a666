// `spawner_class: slurm` (also batchspawner.SlurmSpawner): each server a Slurm batch job, as batchspawner runs it.
import type { SpawnerClass } from '../types.ts';
import { SlurmSpawner } from './spawner.ts';

export { SlurmSpawner };

export const slurmSpawnerClass: SpawnerClass = {
  name: 'SlurmSpawner',
  classPath: 'batchspawner.SlurmSpawner',
  sections: ['Spawner', 'BatchSpawnerBase', 'SlurmSpawner'],
  create: (init) => new SlurmSpawner(init),
};
