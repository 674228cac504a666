// Debian's Chromium and the flags every test and bench starts it with (no hub support here, so a file importing
// this is not taken for a hub-level test by the PostgreSQL pass).
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium's flags for tests and benches. Chromium 15x's headless mode is the whole browser, and each window
 * (each browser context Playwright opens) preloads the omnibox popup's WebUI in a renderer of its own: 20 contexts
 * cost 25 CPU-seconds to open and 60 % of a core while idle, 6 s and nothing without it. Nobody sees an omnibox here.
 */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,AiModeOmniboxEntryPoint'];

