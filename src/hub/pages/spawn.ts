// The spawn options form: pick a profile, then POST to start the server.
import { html } from './escape.ts';
import { layout } from './layout.ts';
import { hubUrl, userServerPath, withQuery } from './urls.ts';

export interface SpawnProfile {
  slug: string;
  display_name: string;
  description?: string | null;
  default?: boolean;
}

export interface SpawnPageOptions {
  base: string;
  user: string;
  profiles: readonly SpawnProfile[];
  error?: string | null;
  serverName?: string | null;
  /** Carried through the form action so the user lands where they were going. */
  next?: string | null;
  currentUser?: string | null;
}

export function spawnPage(o: SpawnPageOptions): string {
  const action = withQuery(hubUrl(o.base, `spawn/${userServerPath(o.user, o.serverName)}`), { next: o.next });
  const defaultSlug = o.profiles.find((p) => p.default)?.slug ?? o.profiles[0]?.slug;
  const choices = o.profiles.map(
    (p, i) => html`<label class="choice" for="profile-${i}">
      <input type="radio" id="profile-${i}" name="profile" value="${p.slug}"${p.slug === defaultSlug ? html` checked` : ''}>
      <span><strong>${p.display_name}</strong>${p.description ? html`<span class="description">${p.description}</span>` : ''}</span>
    </label>`,
  );
  const body = html`<section class="card" aria-labelledby="spawn-title">
  <h1 id="spawn-title">Start your server</h1>
  ${o.error ? html`<div class="alert error" role="alert">${o.error}</div>` : ''}
  <form method="post" action="${action}">
    ${o.profiles.length
      ? html`<fieldset><legend>Choose an environment</legend>${choices}</fieldset>`
      : html`<p>Your server will start with the default settings.</p>`}
    <div class="actions"><button type="submit">Start</button></div>
  </form>
</section>`;
  return layout({ title: 'Start your server', base: o.base, body, user: o.currentUser ?? o.user });
}
