// JupyterHub.template_vars reaching the pages (issue #11): the announcement, page-specific ones first, shown as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { login } from './hub-protocol-support.ts';
import { ask } from './support/raw-http.ts';
import { logoutPage, spawnPage } from '../src/hub/pages/index.ts';
import { EVIL } from './pages-helpers.ts';

let hub: TestHub;
const GENERAL = `Maintenance tonight ${EVIL}`;

beforeAll(async () => {
  hub = await startTestHub({
    JupyterHub: { template_vars: { announcement: GENERAL, announcement_login: 'Welcome to the workshop', announcement_home: '', other: 1 } },
  });
});
afterAll(async () => hub?.close());

const shown = (html: string) => /<div class="alert info announcement" role="note">([^]*?)<\/div>/.exec(html)?.[1] ?? null;

describe('template_vars announcements', () => {
  it('shows announcement_login on the login page instead of the general one', async () => {
    const r = await ask(hub.origin, '/hub/login');
    expect(shown(r.body)).toBe('Welcome to the workshop');
  });

  it('shows the general announcement escaped where the page has none of its own, and none where its own is empty', async () => {
    const cookie = await login(hub, 'alice');
    const token = await ask(hub.origin, '/hub/token', { headers: { cookie } });
    const text = shown(token.body)!;
    expect(text).toContain('Maintenance tonight');
    expect(text).not.toContain('<script>');
    expect(text).toContain('&lt;script&gt;');
    const notRunning = await ask(hub.origin, '/hub/user/alice/tree/', { headers: { cookie } });
    expect(notRunning.status).toBe(424);
    expect(shown(notRunning.body)).toBe(text);
    const error = await ask(hub.origin, '/hub/nope', { headers: { cookie } });
    expect(error.status).toBe(404);
    expect(shown(error.body)).toBe(text);
    // announcement_home: '' hides the general one on the home page, as JupyterHub's `is string` test does.
    const home = await ask(hub.origin, '/hub/home', { headers: { cookie } });
    expect(home.status).toBe(200);
    expect(shown(home.body)).toBeNull();
  });

  it('renders no announcement block when none is given', () => {
    const html = spawnPage({ base: '/', user: 'a', profiles: [], next: '/hub/', xsrf: 'x' });
    expect(shown(html)).toBeNull();
    expect(shown(spawnPage({ base: '/', user: 'a', profiles: [], next: '/hub/', xsrf: 'x', announcement: 'Spawn news' }))).toBe('Spawn news');
    expect(shown(logoutPage({ base: '/', loginUrl: '/hub/login', announcement: 'Bye' }))).toBe('Bye');
  });
});
