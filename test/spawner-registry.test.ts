import { describe, expect, it } from 'vitest';
import { registerSpawner, resolveSpawnerClass, spawnerClasses } from '../src/spawner/registry.ts';
import { loadConfig } from '../src/config/index.ts';
import type { SpawnerClass } from '../src/spawner/types.ts';

describe('spawner registry', () => {
  it("resolves the local process spawner by JupyterHub's entry points, class name and class path, in any case", () => {
    for (const name of ['localprocess', 'default', 'simple', 'LocalProcessSpawner', 'jupyterhub.spawner.LocalProcessSpawner',
      'jupyterhub.spawner.SimpleLocalProcessSpawner', 'SIMPLELOCALPROCESSSPAWNER', ' localprocess ', 'jupyterhub.spawner:LocalProcessSpawner']) {
      const cls = resolveSpawnerClass(name);
      expect(cls.name).toBe('LocalProcessSpawner');
      expect(cls.sections).toEqual(['Spawner', 'LocalProcessSpawner']);
    }
  });

  it('names JupyterHub.spawner_class and the known spawners for an unknown name, at load', async () => {
    expect(() => resolveSpawnerClass('dockerspawner.DockerSpawner')).toThrow(
      /Unknown JupyterHub.spawner_class "dockerspawner.DockerSpawner"; known spawners: localprocess \(default, simple, jupyterhub\.spawner\.LocalProcessSpawner.*; kubernetes \(/,
    );
    await expect(loadConfig({ file: null, env: {}, overrides: { 'JupyterHub.spawner_class': 'batchspawner.Nope' } }))
      .rejects.toMatchObject({ key: 'JupyterHub.spawner_class' });
  });

  it('resolves the Kubernetes spawner by its entry point and KubeSpawner class names', () => {
    for (const name of ['kubernetes', 'kubespawner', 'KubeSpawner', 'kubespawner.KubeSpawner', 'kubespawner.spawner.KubeSpawner']) {
      const cls = resolveSpawnerClass(name);
      expect(cls.name).toBe('KubeSpawner');
      expect(cls.sections).toEqual(['Spawner', 'KubeSpawner']);
    }
  });

  it('registers further classes, replacing one of the same name, never taking another class\'s name', () => {
    const make = (tag: string): SpawnerClass => ({
      name: 'TestSpawner', classPath: 'my.TestSpawner', sections: ['Spawner', tag],
      create: () => { throw new Error('not used'); },
    });
    registerSpawner(make('A'));
    registerSpawner(make('B'));
    expect(resolveSpawnerClass('My.TestSpawner').sections).toEqual(['Spawner', 'B']);
    expect(spawnerClasses().filter((c) => c.name === 'TestSpawner')).toHaveLength(1);
    expect(() => registerSpawner(make('C'), ['simple'])).toThrow(/already taken by LocalProcessSpawner/);
  });
});
