// Shared parts of the end-to-end visitor tests: a headless Chromium, a password-protected tmp hub running the real
// jupyterhub-singleuser (classic notebook UI, which nbgitpuller 1.0.2 needs), and a record of every document a page
// loaded, so a test can assert which pages a visitor saw on the way even when redirects and scripts move on by themselves.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.ts';
import { startTestHub, type TestHub } from './hub.ts';

export { CHROMIUM, CHROMIUM_ARGS };

export const PASSWORD = 'workshop-2024';

/** Everything the e2e tests need is on this machine (Debian packages); without it they are skipped, not failed. */
export const canRunE2e = [CHROMIUM, '/usr/bin/jupyterhub-singleuser', '/usr/bin/git'].every((f) => existsSync(f));

// The spawn page waits up to a second for the server before showing the pending page; a warm machine can start the
// singleuser in about that, so the wrapper sleeps first to make the progress page certain.
export const SLOW_SINGLEUSER = ['/bin/sh', '-c', 'sleep 1.5 && exec jupyterhub-singleuser "$@"', 'jupyterhub-singleuser'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A tmp hub behind the shared password whose servers are the real singleuser on the classic notebook app. */
export function startVisitorHub(extra: Record<string, Record<string, unknown>> = {}): Promise<TestHub> {
  return startTestHub({
    ...extra,
    JupyterHub: { authenticator_class: 'tmp', ...extra.JupyterHub },
    Spawner: {
      cmd: SLOW_SINGLEUSER, default_url: '/tree', http_timeout: 60, start_timeout: 60,
      environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
      ...extra.Spawner,
    },
    // SIGINT lets the server shut its kernels down before it exits; give it the time it needs on a busy machine.
    LocalProcessSpawner: { interrupt_timeout: 15, ...extra.LocalProcessSpawner },
  }, { env: { NODEHUB_SHARED_PASSWORD: PASSWORD } });
}

/** Paths (with query) of every document the page's main frame loaded, redirect hops included, in order. */
export function recordDocuments(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
      const u = new URL(req.url());
      seen.push(u.pathname + u.search);
    }
  });
  return seen;
}

/** The user name in a /user/<name>/… path, or null. */
export function userInPath(path: string): string | null {
  const m = /^\/user\/([^/?#]+)\//.exec(path);
  return m ? decodeURIComponent(m[1]!) : null;
}
