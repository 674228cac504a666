// The warm pool with profile_options: a pooled server runs the profile's default choices, so it goes only to a visitor
// whose options come to exactly those; any other choice or free text gets a fresh spawn with what was asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { userOf, Visitor } from './support/scripted-visitor.ts';

const profiles = [
  {
    display_name: 'Demo', slug: 'demo', default: true,
    profile_options: {
      image: {
        choices: {
          base: { kubespawner_override: { environment: { IMAGE: 'base' } } },
          scipy: { default: true, kubespawner_override: { environment: { IMAGE: 'scipy' } } },
        },
        unlisted_choice: { enabled: true, kubespawner_override: { environment: { IMAGE: '{value}' } } },
      },
    },
  },
  // nothing to start a pooled server with: its only option is free text
  { display_name: 'Free', slug: 'free', pool_size: 1, profile_options: { repo: { unlisted_choice: { enabled: true } } } },
];

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ JupyterHub: { authenticator_class: 'tmp' }, Spawner: { pool_size: 1, profile_list: profiles } });
});
afterAll(() => hub?.close());

const pool = () => hub.running.hub.pool!;
const readyPool = () => eventually(() => pool().readyCounts().demo === 1, 20_000);

async function visit(spawnQuery: string): Promise<{ user: string; image: string }> {
  const v = new Visitor(hub.origin);
  const page = await v.arrive(`/hub/tmplogin?next=${encodeURIComponent(`/hub/spawn?${spawnQuery}`)}`);
  expect(page.status, page.hops.map((h) => `${h.status} ${h.url}`).join(' -> ')).toBe(200);
  const user = userOf(page.url)!;
  const env = JSON.parse((await v.go(`/user/${user}/env`)).body);
  return { user, image: env.IMAGE };
}

describe('warm pool and profile_options', () => {
  it('pools only profiles whose options all have a default', async () => {
    await readyPool();
    expect(pool().readyCounts()).toEqual({ demo: 1 });
    expect(pool().users()).toHaveLength(1);
  });

  it('another choice, or free text, is a fresh spawn; the pooled server waits for a visitor who wants the defaults', async () => {
    await readyPool();
    const [pooled] = pool().users();
    const other = await visit('profile=demo&image=base');
    expect(other.user).not.toBe(pooled);
    expect(other.image).toBe('base');
    const typed = await visit('profile=demo&image--unlisted-choice=jupyter%2Fr-notebook%3A1');
    expect(typed.user).not.toBe(pooled);
    expect(typed.image).toBe('jupyter/r-notebook:1');
    expect(pool().users()).toEqual([pooled]);

    // the default choice spelled out is the same server the pool started
    const same = await visit('profile=demo&image=scipy');
    expect(same.user).toBe(pooled);
    expect(same.image).toBe('scipy');
  });
});
