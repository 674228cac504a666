// Acceptance of nbgitpuller links (spec 5) in real Chromium: a brand-new browser opens a
// /hub/user-redirect/git-pull link to a local git repository on a password-protected tmp hub, passes the password page
// with the link kept as `next`, becomes a new temporary user, waits for the real singleuser (classic notebook with
// Debian's nbgitpuller 1.0.2) to start, lets nbgitpuller clone, and ends on the repository's notebook. The same browser
// opening the link again after a new commit gets the update in the same server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHub } from './support/hub.ts';
import { PASSWORD, canRunE2e, launchChromium, recordDocuments, startVisitorHub, userInPath } from './support/e2e.ts';

const REPO = 'workshop-material';

function notebook(marker: string): string {
  return JSON.stringify({
    cells: [
      { cell_type: 'markdown', metadata: {}, source: [`# Lesson one\n`, `Welcome, the marker is ${marker}.`] },
      { cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: ['print("hello")'] },
    ],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** git with a fixed identity and no system or user configuration, so the machine's settings cannot change a run. */
function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=Workshop', '-c', 'user.email=workshop@example.invalid', ...args], {
    cwd, stdio: 'pipe', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' },
  });
}

describe.skipIf(!canRunE2e)('an nbgitpuller link opened by a brand-new browser', () => {
  let hub: TestHub;
  let browser: Browser;
  let work: string;
  let repo: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'nodehub-e2e-git-'));
    repo = join(work, REPO);
    git(work, 'init', '-q', '-b', 'main', repo);
    writeFileSync(join(repo, 'lesson.ipynb'), notebook('first-b7c41'));
    git(repo, 'add', 'lesson.ipynb');
    git(repo, 'commit', '-q', '-m', 'lesson one');
    [hub, browser] = await Promise.all([startVisitorHub(), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('passes the password page with the link kept, spawns, clones and shows the notebook; a second visit pulls', { timeout: 90_000 }, async () => {
    const query = new URLSearchParams({ repo: `file://${repo}`, branch: 'main', urlpath: `tree/${REPO}/lesson.ipynb` });
    const link = `/hub/user-redirect/git-pull?${query}`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const documents = recordDocuments(page);

    await page.goto(`${hub.origin}${link}`);
    const atPassword = new URL(page.url());
    expect(atPassword.pathname).toBe('/hub/password');
    // The whole link survives as `next`, whatever hops the hub made before the password page.
    expect(atPassword.searchParams.get('next')).toBe(link);

    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([
      page.waitForURL(new RegExp(`/user/[^/]+/notebooks/${REPO}/lesson\\.ipynb`), { timeout: 60_000 }),
      page.click('button[type=submit]'),
    ]);
    const user = userInPath(new URL(page.url()).pathname)!;
    expect(user).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => page.locator('.text_cell_render').first().innerText(), { timeout: 30_000 })
      .toContain('the marker is first-b7c41');
    expect(await page.locator('.text_cell_render h1').first().innerText()).toContain('Lesson one');

    // On the way: a new temporary user, the spawn with the git-pull page as its destination, nbgitpuller's page.
    const trail = documents.map((d) => d.split('?')[0]);
    for (const step of ['/hub/tmplogin', `/hub/spawn/${user}`, `/hub/spawn-pending/${user}`, `/user/${user}/git-pull`]) {
      expect(trail, `no ${step} in ${trail.join(' -> ')}`).toContain(step);
    }
    const gitPull = new URL(documents.find((d) => d.startsWith(`/user/${user}/git-pull`))!, hub.origin);
    expect(gitPull.searchParams.get('repo')).toBe(`file://${repo}`);
    expect(gitPull.searchParams.get('urlpath')).toBe(`tree/${REPO}/lesson.ipynb`);
    // nbgitpuller cloned into the user's directory, which is the server's root.
    const cloned = join(hub.dir, 'home', user, REPO, 'lesson.ipynb');
    expect(readFileSync(cloned, 'utf8')).toContain('first-b7c41');

    // The organiser pushes a change; the same browser opens the same link: same user and server, the notebook updated.
    const started = (await (await hub.api(`/users/${user}`)).json()).servers[''].started;
    writeFileSync(join(repo, 'lesson.ipynb'), notebook('second-e92d0'));
    git(repo, 'commit', '-q', '-am', 'lesson one, revised');
    const again = await context.newPage();
    const againDocs = recordDocuments(again);
    await again.goto(`${hub.origin}${link}`);
    await again.waitForURL(new RegExp(`/user/${user}/notebooks/${REPO}/lesson\\.ipynb`), { timeout: 60_000 });
    await expect.poll(() => again.locator('.text_cell_render').first().innerText(), { timeout: 30_000 })
      .toContain('the marker is second-e92d0');
    expect(againDocs.some((d) => /^\/hub\/(password|tmplogin|spawn-pending)/.test(d)), againDocs.join(' -> ')).toBe(false);
    expect((await (await hub.api(`/users/${user}`)).json()).servers[''].started).toBe(started);
    await context.close();
  });
});
