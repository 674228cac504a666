// The hub's HTML pages: pure functions from data to a full HTML document.
export { escapeHtml, escapeAttr, html, raw, SafeHtml, type Interpolation } from './escape.ts';
export { hubUrl, userServerPath, withQuery, safeUrl } from './urls.ts';
export { layout, type LayoutOptions, type PageVars } from './layout.ts';
export { styleCss } from './style.ts';
export { loginPage, type LoginPageOptions } from './login.ts';
export { spawnPendingPage, type SpawnPendingPageOptions } from './spawn-pending.ts';
export { notRunningPage, type NotRunningPageOptions } from './not-running.ts';
export { spawnPage, type SpawnPageOptions, type SpawnProfile } from './spawn.ts';
export { errorPage, statusTitle, SERVER_DOWN_MESSAGE, type ErrorPageOptions } from './error.ts';
export { homePage, type HomePageOptions, type HomeServer, type HomeNamedServer } from './home.ts';
export { tokenPage, formatTime, type TokenPageOptions, type TokenRow } from './token.ts';
export { logoutPage, type LogoutPageOptions } from './logout.ts';
export { queuePage, type QueuePageOptions } from './queue.ts';
export { passwordPage, type PasswordPageOptions } from './password.ts';
export { oauthConfirmPage, type OAuthConfirmPageOptions } from './oauth-confirm.ts';
export { adminPage, adminConfirmPage, type AdminPageOptions, type AdminConfirmOptions } from './admin.ts';
