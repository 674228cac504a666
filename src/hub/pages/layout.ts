// The page shell shared by every hub page: document head, header with product name and login state, main area.
import { html, raw, type SafeHtml } from './escape.ts';
import { hubUrl } from './urls.ts';

/**
 * Values from JupyterHub.template_vars that nodehub's pages show. Only the announcement is supported: the page-specific
 * one (announcement_login, _home, _spawn, _logout) when it is a string, else `announcement` (as JupyterHub's templates
 * pick). It is shown as text: markup in it is escaped, not rendered (JupyterHub renders it as HTML).
 */
export interface PageVars {
  announcement?: string | null;
}

export interface LayoutOptions extends PageVars {
  title: string;
  base: string;
  /** Trusted page markup (build it with `html`). */
  body: SafeHtml | string;
  /** Logged-in user's name; shows the name and a logout link. */
  user?: string | null;
  /** Extra trusted markup for <head> (meta refresh, inline script). */
  head?: SafeHtml | string;
  /** The caller holds admin-ui: the header links to the admin page. */
  adminLink?: boolean;
}

const trusted = (fragment: SafeHtml | string | undefined): SafeHtml | undefined =>
  fragment === undefined ? undefined : typeof fragment === 'string' ? raw(fragment) : fragment;

export function layout({ title, base, body, user, head, announcement, adminLink }: LayoutOptions): string {
  const account = user
    ? html`<nav class="account" aria-label="Account">
        <span class="user-name">Signed in as <strong>${user}</strong></span>
        ${adminLink ? html`<a href="${hubUrl(base, 'admin')}">Admin</a>` : ''}
        <a href="${hubUrl(base, 'logout')}">Log out</a>
      </nav>`
    : '';
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · nodehub</title>
<link rel="icon" href="${hubUrl(base, 'favicon.ico')}">
<link rel="stylesheet" href="${hubUrl(base, 'static/style.css')}">
${trusted(head)}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <a class="brand" href="${hubUrl(base, user ? 'home' : '')}">nodehub</a>
  ${account}
</header>
<main id="main" tabindex="-1">
${announcement ? html`<div class="alert info announcement" role="note">${announcement}</div>` : ''}
${trusted(body)}
</main>
</body>
</html>
`.value;
}
