// JupyterHub.template_vars as nodehub's pages use them (pages/layout.ts PageVars): the announcement of each page.
import type { Hub } from '../context.ts';
import type { PageVars } from '../pages/index.ts';

export type AnnouncedPage = 'login' | 'home' | 'spawn' | 'logout';

/** The page's own announcement_<page> when it is a string (even empty, which hides the general one), else `announcement`. */
export function pageVars(hub: Hub, page?: AnnouncedPage): PageVars {
  const vars = hub.config.hub.template_vars as Record<string, unknown>;
  const own = page ? vars[`announcement_${page}`] : undefined;
  const chosen = typeof own === 'string' ? own : vars.announcement;
  return { announcement: typeof chosen === 'string' && chosen.trim() ? chosen : null };
}
