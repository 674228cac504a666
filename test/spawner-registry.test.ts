import { describe, expect, it } from 'vitest';
import { registerSpawner, resolveSpawnerClass, spawnerClasses } from '../src/spawner/registry.ts';
import type { SpawnerClass } from '../src/spawner/types.ts';

describe('spawner registry', () => {
  it('resolves the local process spawner by entry point, class name and class path, in any case', () => {
    for (const name of ['localprocess', 'LocalProcessSpawner', 'jupyterhub.spawner.LocalProcessSpawner',
      'jupyterhub.spawner.SimpleLocalProcessSpawner', 'SIMPLELOCALPROCESSSPAWNER', ' localprocess ']) {
      const cls = resolveSpawnerClass(name);
      expect(cls.name).toBe('localprocess');
      expect(cls.sections).toEqual(['Spawner', 'LocalProcessSpawner']);
    }
  });

  it('names JupyterHub.spawner_class and the known spawners for an unknown name', () => {
    expect(() => resolveSpawnerClass('simple')).toThrow(
      /Unknown JupyterHub.spawner_class "simple"; known spawners: localprocess \/ LocalProcessSpawner/,
    );
    expect(() => resolveSpawnerClass('dockerspawner.DockerSpawner')).toThrow(/jupyterhub\.spawner\.LocalProcessSpawner.*kubernetes/);
  });

  it('resolves the Kubernetes spawner by its entry point and KubeSpawner class names', () => {
    for (const name of ['kubernetes', 'kubespawner', 'KubeSpawner', 'kubespawner.KubeSpawner', 'kubespawner.spawner.KubeSpawner']) {
      const cls = resolveSpawnerClass(name);
      expect(cls.name).toBe('kubernetes');
      expect(cls.sections).toEqual(['Spawner', 'KubeSpawner']);
    }
  });

  it('registers further classes, replacing one of the same name', () => {
    const make = (tag: string): SpawnerClass => ({
      name: 'testspawner', aliases: ['my.TestSpawner'], sections: ['Spawner', tag],
      create: () => { throw new Error('not used'); },
    });
    registerSpawner(make('A'));
    registerSpawner(make('B'));
    expect(resolveSpawnerClass('My.TestSpawner').sections).toEqual(['Spawner', 'B']);
    expect(spawnerClasses().filter((c) => c.name === 'testspawner')).toHaveLength(1);
  });
});
