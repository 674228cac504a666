// The standalone, configurable-http-proxy-compatible proxy (`nodehub proxy`): its command, its listeners in-process,
// and its command-line reader.
export { runProxyCommand } from './command.ts';
export { startChpProxy } from './server.ts';
export type { ChpProxy, ChpProxyOptions } from './server.ts';
export { parseProxyArgs, ProxyUsageError, proxyUsage } from './options.ts';
export type { ChpCommandLine, ChpOptions } from './options.ts';
