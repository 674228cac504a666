// Small helpers for asserting on the hub's rendered pages. Our templates always double-quote attributes, which is
// what makes this tiny start-tag reader sufficient.
import {
  errorPage, homePage, layout, oauthConfirmPage, loginPage, logoutPage, notRunningPage, passwordPage, queuePage, spawnPage,
  spawnPendingPage, tokenPage,
} from '../src/hub/pages/index.ts';

export interface StartTag {
  name: string;
  attrs: Record<string, string>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

export function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#(\d+));/g, (_m, name: string, code?: string) =>
    code ? String.fromCodePoint(Number(code)) : ENTITIES[name]!,
  );
}

/** All start tags in document order, with decoded attribute values. Script bodies are skipped. */
export function startTags(html: string): StartTag[] {
  const withoutScripts = html.replace(/<script>[\s\S]*?<\/script>/g, '<script></script>');
  const tags: StartTag[] = [];
  for (const m of withoutScripts.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"]*")?)*)\s*\/?>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?/g)) attrs[a[1]!] = decode(a[2] ?? '');
    tags.push({ name: m[1]!.toLowerCase(), attrs });
  }
  return tags;
}

export function tagsWhere(html: string, name: string, attrs: Record<string, string> = {}): StartTag[] {
  return startTags(html).filter((t) => t.name === name && Object.entries(attrs).every(([k, v]) => t.attrs[k] === v));
}

export function oneTag(html: string, name: string, attrs: Record<string, string> = {}): StartTag {
  const found = tagsWhere(html, name, attrs);
  if (found.length !== 1) throw new Error(`expected one <${name} ${JSON.stringify(attrs)}>, found ${found.length}`);
  return found[0]!;
}

/** Visible text with tags removed and entities decoded (scripts and styles dropped). */
export function textOf(html: string): string {
  return decode(
    html
      .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' '),
  ).trim();
}

/** Every page, rendered with `v` in every free-text field and URLs built under `base`. */
export function renderAll(base: string, v: string): Record<string, string> {
  const hub = `${base}hub/`;
  return {
    layout: layout({ title: v, base, body: '<p>body</p>', user: v }),
    login: loginPage({ base, next: `${hub}${v}`, error: v, username: v, showPassword: true, loginService: v, message: v }),
    loginService: loginPage({ base, next: v, showPassword: false, loginService: v, loginUrl: `${hub}oauth_login?x=${v}` }),
    spawnPending: spawnPendingPage({
      base, user: v, serverName: v, progressUrl: `${hub}api/users/${v}/server/progress`, nextUrl: `${hub}user/${v}/`,
    }),
    notRunning: notRunningPage({ base, user: v, serverName: v, spawnUrl: `${hub}spawn/${v}?next=${v}`, message: v, currentUser: 'admin' }),
    spawn: spawnPage({
      base, user: v, error: v, next: v, serverName: v,
      profiles: [{ slug: v, display_name: v, description: v, default: true }, { slug: 'b', display_name: 'B' }],
    }),
    error: errorPage({ base, status: 404, message: v, detail: v, user: v }),
    home: homePage({
      base, user: v, server: { url: `${base}user/${v}/`, ready: true, pending: null },
      namedServers: [{ name: v, url: `${base}user/x/${v}/`, ready: false, pending: null }],
    }),
    token: tokenPage({
      base, user: v, newToken: v, error: v,
      tokens: [{ id: v, note: v, created: v, last_activity: null, expires_at: '2026-11-23T15:00:37.659914Z' }],
    }),
    logout: logoutPage({ base, loginUrl: `${hub}login?x=${v}` }),
    queue: queuePage({ base, position: 2, total: 5, retryAfterSeconds: 7 }),
    password: passwordPage({ base, next: v, eventName: v, message: v, error: v, retryAfter: 30 }),
    oauthConfirm: oauthConfirmPage({ base, user: v, clientDescription: v, action: `${hub}api/oauth2/authorize?client_id=${v}` }),
  };
}

/** A hostile name/message: breaks out of attributes and text, and flags window.__pwned if any of it runs. */
export const EVIL = `Mallory"'><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

