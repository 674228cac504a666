// The spawn options form: pick a profile (and its profile_options), then POST to start the server.
import type { ProfileOptionConfig } from '../../config/types.ts';
import { xsrfField } from './xsrf-field.ts';
import { html } from './escape.ts';
import { layout, type PageVars } from './layout.ts';
import { profileOptionsBlock, profileOptionsStyle, type Submitted } from './spawn-options.ts';
import { hubUrl, userServerPath, withQuery } from './urls.ts';

export interface SpawnProfile {
  slug: string;
  display_name: string;
  description?: string | null;
  default?: boolean;
  profile_options?: Record<string, ProfileOptionConfig>;
}

export interface SpawnPageOptions extends PageVars {
  /** The `_xsrf` token for the form (web/xsrf.ts). */
  xsrf?: string;
  base: string;
  user: string;
  profiles: readonly SpawnProfile[];
  error?: string | null;
  serverName?: string | null;
  /** Carried through the form action so the user lands where they were going. */
  next?: string | null;
  currentUser?: string | null;
  /** The options sent last (user_options or form fields), selected again when the form comes back with an error. */
  submitted?: Submitted | null;
}

function submittedProfile(o: SpawnPageOptions): string | undefined {
  const v = o.submitted?.profile;
  const slug = Array.isArray(v) ? v[0] : v;
  return typeof slug === 'string' && o.profiles.some((p) => p.slug === slug) ? slug : undefined;
}

export function spawnPage(o: SpawnPageOptions): string {
  const action = withQuery(hubUrl(o.base, `spawn/${userServerPath(o.user, o.serverName)}`), { next: o.next });
  const checkedSlug = submittedProfile(o) ?? o.profiles.find((p) => p.default)?.slug ?? o.profiles[0]?.slug;
  const choices = o.profiles.map(
    (p, i) => html`<div class="profile">
    <label class="choice" for="profile-${i}">
      <input type="radio" id="profile-${i}" name="profile" value="${p.slug}"${p.slug === checkedSlug ? html` checked` : ''}>
      <span><strong>${p.display_name}</strong>${p.description ? html`<span class="description">${p.description}</span>` : ''}</span>
    </label>
    ${profileOptionsBlock(p.slug, p.profile_options, p.slug === checkedSlug ? o.submitted ?? null : null)}
    </div>`,
  );
  const body = html`<section class="card" aria-labelledby="spawn-title">
  <h1 id="spawn-title">Start your server</h1>
  ${o.error ? html`<div class="alert error" role="alert">${o.error}</div>` : ''}
  <form method="post" action="${action}">
    ${xsrfField(o.xsrf)}
    ${o.profiles.length
      ? html`<fieldset><legend>Choose an environment</legend>${choices}</fieldset>`
      : html`<p>Your server will start with the default settings.</p>`}
    <div class="actions"><button type="submit">Start</button></div>
  </form>
</section>`;
  const withOptions = o.profiles.some((p) => Object.keys(p.profile_options ?? {}).length > 0);
  return layout({ title: 'Start your server', base: o.base, announcement: o.announcement, body, user: o.currentUser ?? o.user, head: withOptions ? profileOptionsStyle : undefined });
}
