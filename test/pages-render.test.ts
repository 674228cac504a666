import { describe, expect, it } from 'vitest';
import {
  errorPage, homePage, layout, oauthConfirmPage, loginPage, logoutPage, notRunningPage, passwordPage, queuePage, spawnPage,
  spawnPendingPage, styleCss, tokenPage, SERVER_DOWN_MESSAGE,
} from '../src/hub/pages/index.ts';
import { decode, EVIL, oneTag, renderAll, startTags, tagsWhere, textOf } from './pages-helpers.ts';

describe('every page', () => {
  for (const base of ['/', '/jhub/']) {
    for (const [name, page] of Object.entries(renderAll(base, 'alice'))) {
      it(`${name} (base ${base}) is a complete, self-contained document`, () => {
        expect(page.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
        expect(oneTag(page, 'meta', { name: 'viewport' })).toBeTruthy();
        oneTag(page, 'link', { rel: 'stylesheet', href: `${base}hub/static/style.css` });
        oneTag(page, 'main', { id: 'main' });
        expect(textOf(page.split('<main')[0]!)).toContain('nodehub');
        // No external assets: nothing is loaded from another origin.
        for (const tag of startTags(page)) {
          expect(tag.attrs.src ?? '', `<${tag.name} src>`).not.toMatch(/^(https?:)?\/\//);
          if (tag.name === 'link') expect(tag.attrs.href).not.toMatch(/^(https?:)?\/\//);
        }
      });

      it(`${name} (base ${base}) builds every link from the base`, () => {
        for (const tag of startTags(page)) {
          for (const key of ['href', 'action', 'data-progress-url', 'data-next-url', 'data-stop-url', 'data-revoke-url']) {
            const url = tag.attrs[key];
            if (url === undefined || url.startsWith('#')) continue;
            expect(url.startsWith(base), `${key}=${url}`).toBe(true);
          }
        }
      });

      it(`${name} (base ${base}) labels every form control`, () => {
        const labelled = new Set(tagsWhere(page, 'label').map((l) => l.attrs.for));
        for (const control of startTags(page).filter((t) => t.name === 'input' || t.name === 'select')) {
          expect(control.attrs.id, `<${control.name} name=${control.attrs.name}> id`).toBeTruthy();
          expect(labelled.has(control.attrs.id), `label for ${control.attrs.id}`).toBe(true);
        }
      });
    }
  }

  for (const [name, page] of Object.entries(renderAll('/jhub/', EVIL))) {
    it(`${name} never lets a hostile value out raw`, () => {
      expect(page).not.toContain('<script>window.__pwned');
      expect(page).not.toContain('<img src=x');
      expect(page).not.toContain(`"'>`);
      expect(page).not.toMatch(/onerror="window/);
      // Only our own script tags exist, each free of interpolated data.
      for (const script of page.match(/<script>[\s\S]*?<\/script>/g) ?? []) expect(script).not.toContain('Mallory');
      // And the value was not just dropped: it is shown, escaped (queue has no free text).
      if (name !== 'queue') expect(page.includes('Mallory&quot;&#39;&gt;&lt;script&gt;') || page.includes('Mallory%22%27%3E%3Cscript%3E')).toBe(true);
    });
  }
});

describe('layout', () => {
  it('shows the user and a logout link when logged in', () => {
    const page = layout({ title: 'T', base: '/jhub/', body: '<p>x</p>', user: 'alice' });
    oneTag(page, 'a', { href: '/jhub/hub/logout' });
    expect(textOf(page)).toContain('Signed in as alice');
    expect(textOf(page)).toContain('T · nodehub');
  });
  it('has no logout link when logged out', () => {
    const page = layout({ title: 'T', base: '/', body: '', user: null });
    expect(tagsWhere(page, 'a', { href: '/hub/logout' })).toHaveLength(0);
    expect(textOf(page)).not.toContain('Signed in');
  });
});

describe('loginPage', () => {
  const next = '/jhub/hub/user-redirect/git-pull?repo=https://x/y&branch=main';
  it('posts username and password to <base>hub/login?next=', () => {
    const page = loginPage({ base: '/jhub/', next, showPassword: true, loginService: '', error: 'Invalid username or password', username: 'bob' });
    const form = oneTag(page, 'form', { method: 'post' });
    expect(form.attrs.action).toBe(`/jhub/hub/login?next=${encodeURIComponent(next)}`);
    expect(oneTag(page, 'input', { name: 'username' }).attrs.value).toBe('bob');
    expect(oneTag(page, 'input', { name: 'password' }).attrs.type).toBe('password');
    expect(oneTag(page, 'div', { role: 'alert' })).toBeTruthy();
    expect(textOf(page)).toContain('Invalid username or password');
  });
  it('leaves out the password field and an empty next', () => {
    const page = loginPage({ base: '/', next: '', showPassword: false, loginService: '' });
    expect(oneTag(page, 'form').attrs.action).toBe('/hub/login');
    expect(tagsWhere(page, 'input', { name: 'password' })).toHaveLength(0);
    expect(tagsWhere(page, 'div', { role: 'alert' })).toHaveLength(0);
  });
  it('offers a single sign-in button for an external login service', () => {
    const page = loginPage({ base: '/', next: '/hub/', showPassword: false, loginService: 'GitHub', loginUrl: '/hub/oauth_login?next=%2Fhub%2F' });
    expect(tagsWhere(page, 'form')).toHaveLength(0);
    oneTag(page, 'a', { href: '/hub/oauth_login?next=%2Fhub%2F' });
    expect(textOf(page)).toContain('Sign in with GitHub');
  });
  it('never links to a javascript: login url', () => {
    const page = loginPage({ base: '/', next: '', showPassword: false, loginService: 'X', loginUrl: 'javascript:alert(1)' });
    expect(page).not.toContain('javascript:');
  });
});

describe('spawnPendingPage', () => {
  const opts = {
    base: '/jhub/', user: 'alice', serverName: 'my lab',
    progressUrl: '/jhub/hub/api/users/alice/servers/my%20lab/progress', nextUrl: '/jhub/user/alice/my%20lab/?a=1&b=2',
  };
  it('wires the progress stream, next url, retry link and no-JS refresh', () => {
    const page = spawnPendingPage(opts);
    const root = oneTag(page, 'section', { id: 'spawn-progress' });
    expect(root.attrs['data-progress-url']).toBe(opts.progressUrl);
    expect(root.attrs['data-next-url']).toBe(opts.nextUrl);
    const bar = oneTag(page, 'div', { role: 'progressbar' });
    expect([bar.attrs['aria-valuenow'], bar.attrs['aria-valuemin'], bar.attrs['aria-valuemax']]).toEqual(['0', '0', '100']);
    oneTag(page, 'a', { href: '/jhub/hub/spawn/alice/my%20lab' });
    expect(oneTag(page, 'div', { id: 'progress-failed' }).attrs.hidden).toBe('');
    expect(page).toMatch(/<noscript><meta http-equiv="refresh" content="5"><\/noscript>/);
    expect(page).toContain('new EventSource(');
    expect(page).toContain('window.location.replace(');
    expect(textOf(page)).toContain('Starting server “my lab”');
  });
  it('retries the default server at <base>hub/spawn/<user> and drops unsafe next urls', () => {
    const page = spawnPendingPage({ ...opts, serverName: '', nextUrl: 'javascript:alert(1)', refreshSeconds: 2 });
    oneTag(page, 'a', { href: '/jhub/hub/spawn/alice' });
    expect(oneTag(page, 'section', { id: 'spawn-progress' }).attrs['data-next-url']).toBe('');
    expect(page).toContain('content="2"');
    expect(page).not.toContain('javascript:alert');
  });
});

describe('notRunningPage', () => {
  it('offers a start link to the spawn url and a way home', () => {
    const spawnUrl = '/jhub/hub/spawn/alice?next=%2Fjhub%2Fhub%2Fuser%2Falice%2Flab';
    const page = notRunningPage({ base: '/jhub/', user: 'alice', spawnUrl });
    expect(oneTag(page, 'a', { id: 'start' }).attrs.href).toBe(spawnUrl);
    expect(page).toContain('href="/jhub/hub/spawn/alice?next=%2Fjhub');
    expect(tagsWhere(page, 'a', { href: '/jhub/hub/home', class: 'button secondary' })).toHaveLength(1);
    expect(textOf(page)).toContain('Server not running');
    expect(textOf(page)).toContain('Your server is not running');
  });
  it("says whose server it is when an admin looks at someone else's", () => {
    const page = notRunningPage({ base: '/', user: 'alice', serverName: 'gpu', spawnUrl: '/hub/spawn/alice/gpu', currentUser: 'admin' });
    expect(textOf(page)).toContain('The server of alice “gpu” is not running');
    expect(textOf(page)).toContain('Signed in as admin');
  });
});

describe('spawnPage', () => {
  it('posts a profile radio group to <base>hub/spawn/<user>', () => {
    const page = spawnPage({
      base: '/jhub/', user: 'al ice', next: '/jhub/user/al%20ice/',
      profiles: [
        { slug: 'small', display_name: 'Small', description: '1 CPU' },
        { slug: 'large', display_name: 'Large', description: '4 CPUs', default: true },
      ],
    });
    expect(oneTag(page, 'form', { method: 'post' }).attrs.action).toBe('/jhub/hub/spawn/al%20ice?next=%2Fjhub%2Fuser%2Fal%2520ice%2F');
    const radios = tagsWhere(page, 'input', { type: 'radio', name: 'profile' });
    expect(radios.map((r) => r.attrs.value)).toEqual(['small', 'large']);
    expect(radios.map((r) => 'checked' in r.attrs)).toEqual([false, true]);
    expect(textOf(page)).toContain('4 CPUs');
  });
  it('checks the first profile when none is default, and shows errors', () => {
    const page = spawnPage({ base: '/', user: 'a', error: 'No such profile', profiles: [{ slug: 'x', display_name: 'X' }, { slug: 'y', display_name: 'Y' }] });
    expect(tagsWhere(page, 'input', { name: 'profile' }).map((r) => 'checked' in r.attrs)).toEqual([true, false]);
    expect(textOf(page)).toContain('No such profile');
  });
});

describe('errorPage', () => {
  it('has a readable title for each status the hub uses', () => {
    const titles = [400, 403, 404, 405, 424, 429, 500, 503].map((status) => {
      const page = errorPage({ base: '/', status, message: '' });
      expect(textOf(page)).toContain(`Error ${status}`);
      return page.match(/<h1 id="error-title">([^<]+)<\/h1>/)![1];
    });
    expect(new Set(titles).size).toBe(8);
  });
  it('explains a down server (503) and links to <base>hub/home', () => {
    const page = errorPage({ base: '/jhub/', status: 503 });
    expect(textOf(page)).toContain(SERVER_DOWN_MESSAGE);
    expect(SERVER_DOWN_MESSAGE).toBe('Your server appears to be down. Try restarting it from the hub.');
    oneTag(page, 'a', { href: '/jhub/hub/home' });
  });
  it('shows the given message and detail, and survives a nonsense status', () => {
    const page = errorPage({ base: '/', status: 42.5, message: 'Redirect loop detected.', detail: 'spawner said no' });
    expect(textOf(page)).toContain('Error 500');
    expect(textOf(page)).toContain('Redirect loop detected.');
    expect(textOf(page)).toContain('spawner said no');
  });
});

describe('homePage', () => {
  it('offers to start a stopped server', () => {
    const page = homePage({ base: '/jhub/', user: 'alice', server: null });
    oneTag(page, 'a', { href: '/jhub/hub/spawn/alice' });
    expect(tagsWhere(page, 'button')).toHaveLength(0);
    expect(textOf(page)).toContain('Your server is not running');
    oneTag(page, 'a', { href: '/jhub/hub/token' });
  });
  it('offers open and stop for a running server', () => {
    const page = homePage({ base: '/jhub/', user: 'alice', server: { url: '/jhub/user/alice/', ready: true, pending: null } });
    oneTag(page, 'a', { href: '/jhub/user/alice/' });
    expect(oneTag(page, 'button').attrs['data-stop-url']).toBe('/jhub/hub/api/users/alice/server');
    expect(page).not.toContain('http-equiv="refresh"');
  });
  it('links to progress and refreshes while starting', () => {
    const page = homePage({ base: '/', user: 'alice', server: { url: '/user/alice/', ready: false, pending: 'spawn' } });
    oneTag(page, 'a', { href: '/hub/spawn-pending/alice' });
    expect(page).toContain('<meta http-equiv="refresh" content="3">');
  });
  it('lists named servers with their own start and stop urls', () => {
    const page = homePage({
      base: '/', user: 'alice', server: null,
      namedServers: [
        { name: 'gpu one', url: '/user/alice/gpu%20one/', ready: true, pending: null },
        { name: 'cpu', url: '/user/alice/cpu/', ready: false, pending: null },
      ],
    });
    expect(oneTag(page, 'button').attrs['data-stop-url']).toBe('/hub/api/users/alice/servers/gpu%20one');
    oneTag(page, 'a', { href: '/hub/spawn/alice/cpu' });
    oneTag(page, 'a', { href: '/user/alice/gpu%20one/' });
  });
});

describe('tokenPage', () => {
  const tokens = [
    { id: 'a1', note: 'for ci', created: '2026-11-23T15:00:37.659914Z', last_activity: null, expires_at: null },
  ];
  it('requests tokens by POST to <base>hub/token with note and expires_in', () => {
    const page = tokenPage({ base: '/jhub/', user: 'alice', tokens });
    expect(oneTag(page, 'form', { method: 'post' }).attrs.action).toBe('/jhub/hub/token');
    oneTag(page, 'input', { name: 'note' });
    oneTag(page, 'select', { name: 'expires_in' });
    expect(tagsWhere(page, 'option').map((o) => o.attrs.value)).toContain('3600');
    expect(tagsWhere(page, 'input', { id: 'new-token' })).toHaveLength(0);
  });
  it('lists tokens with times and a revoke url', () => {
    const page = tokenPage({ base: '/jhub/', user: 'alice', tokens });
    expect(oneTag(page, 'button', { class: 'danger' }).attrs['data-revoke-url']).toBe('/jhub/hub/api/users/alice/tokens/a1');
    const text = textOf(page);
    expect(text).toContain('for ci');
    expect(text).toContain('2026-11-23 15:00 UTC');
    expect(text).toMatch(/Never.*Never/);
  });
  it('shows a new token once, and says so when there are none', () => {
    const page = tokenPage({ base: '/', user: 'alice', tokens: [], newToken: '0123abcd' });
    expect(oneTag(page, 'input', { id: 'new-token' }).attrs.value).toBe('0123abcd');
    expect(textOf(page)).toContain('You have no API tokens yet');
  });
});

describe('logoutPage', () => {
  it('says goodbye and links to login', () => {
    const page = logoutPage({ base: '/jhub/', loginUrl: '/jhub/hub/login' });
    expect(textOf(page)).toContain('You have been logged out');
    oneTag(page, 'a', { href: '/jhub/hub/login' });
  });
});

describe('queuePage', () => {
  it('shows the place in line and refreshes itself', () => {
    const page = queuePage({ base: '/', position: 3, total: 10, retryAfterSeconds: 15 });
    expect(textOf(page)).toContain("You're in line: number 3");
    expect(textOf(page)).toContain('number 3 of 10');
    expect(page).toContain('<noscript><meta http-equiv="refresh" content="15"></noscript>');
    expect(oneTag(page, 'section', { id: 'queue' }).attrs['data-retry-after']).toBe('15');
  });
  it('clamps nonsense numbers', () => {
    const page = queuePage({ base: '/', position: Number.NaN, total: 0, retryAfterSeconds: -4 });
    expect(textOf(page)).toContain('number 1 of 1');
    expect(page).toContain('content="1"');
  });
});

describe('passwordPage', () => {
  it('posts one password field to <base>hub/password?next=', () => {
    const page = passwordPage({ base: '/jhub/', next: '/jhub/hub/spawn', eventName: 'Data Camp', message: 'Welcome all', error: 'Wrong password' });
    expect(oneTag(page, 'form', { method: 'post' }).attrs.action).toBe('/jhub/hub/password?next=%2Fjhub%2Fhub%2Fspawn');
    expect(tagsWhere(page, 'input').map((i) => [i.attrs.name, i.attrs.type])).toEqual([['password', 'password']]);
    const text = textOf(page);
    expect(text).toContain('Data Camp');
    expect(text).toContain('Welcome all');
    expect(text).toContain('Wrong password');
  });
  it('asks to wait after too many tries', () => {
    expect(textOf(passwordPage({ base: '/', next: '', retryAfter: 29.2 }))).toContain('wait 30 seconds');
    expect(textOf(passwordPage({ base: '/', next: '' }))).not.toContain('wait');
  });
});

describe('oauthConfirmPage', () => {
  it('posts back to the authorize url it was given', () => {
    const action = '/jhub/hub/api/oauth2/authorize?client_id=service-x&redirect_uri=%2Fservices%2Fx%2F&state=s';
    const page = oauthConfirmPage({ base: '/jhub/', user: 'alice', clientDescription: 'Service x', action });
    expect(oneTag(page, 'form', { method: 'post' }).attrs.action).toBe(action);
    expect(page).toContain('action="/jhub/hub/api/oauth2/authorize?client_id=service-x&amp;redirect_uri=');
    expect(textOf(page)).toContain('Service x would like to know who you are');
    oneTag(page, 'a', { href: '/jhub/hub/home', class: 'button secondary' });
  });
});

describe('styleCss', () => {
  it('is small, self-contained and styles focus and the progress bar', () => {
    expect(styleCss.length).toBeLessThan(12_000);
    expect(styleCss).not.toMatch(/url\(|@import|https?:/);
    expect(styleCss).toContain(':focus-visible');
    expect(styleCss).toContain('.progress-bar');
  });
  it('is not escaped text', () => {
    expect(decode(styleCss)).toBe(styleCss);
  });
});
