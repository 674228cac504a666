// Names JupyterHub derives for a server: URL prefix, OAuth client id and the scopes its token and OAuth round carry.
import { urlEscapePath } from '../util/url.ts';

export function serverPrefix(baseUrl: string, userName: string, serverName: string): string {
  return `${baseUrl}user/${urlEscapePath(userName)}/${serverName ? urlEscapePath(serverName) + '/' : ''}`;
}

/** jupyterhub-user-<name>[-<server>], name and server URL-quoted (so '@' becomes %40, spec 1.2). */
export function serverClientId(userName: string, serverName: string): string {
  const q = (s: string) => encodeURIComponent(s);
  return `jupyterhub-user-${q(userName)}${serverName ? '-' + q(serverName) : ''}`;
}

/** JUPYTERHUB_OAUTH_ACCESS_SCOPES: holding any of these grants access to the server. */
export function serverAccessScopes(userName: string, serverName: string): string[] {
  return [`access:servers!server=${userName}/${serverName}`, `access:servers!user=${userName}`];
}

/** The `server` role: what a server's own token may do. */
export function serverTokenScopes(userName: string): string[] {
  return [`users:activity!user=${userName}`, `access:servers!user=${userName}`];
}

/** A server as log lines name it: "alice's server" or "alice's server lab". */
export function describeServer(user: string, server: string): string {
  return server ? `${user}'s server ${server}` : `${user}'s server`;
}
