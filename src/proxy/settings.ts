// configurable-http-proxy's settings in a JupyterHub config. nodehub proxies in process, so they are read and ignored:
// declared only so that Zero-to-JupyterHub configs load unchanged.
import { configurable, setting } from '../config/declare.ts';
import * as t from '../config/traits.ts';

const ignored = 'Ignored: nodehub has the proxy built in; accepted so Zero-to-JupyterHub configs load unchanged.';
export const ConfigurableHTTPProxy = configurable('ConfigurableHTTPProxy', null, 'The separate proxy of JupyterHub; nodehub proxies in process, so these are ignored.', {
  should_start: setting(t.bool, true, ignored),
  api_url: setting(t.string, '', ignored),
  auth_token: setting(t.string, '', ignored),
});
