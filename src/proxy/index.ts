// The proxy's public surface: the route table the hub writes, the forwarder the front-door server calls, and the
// request-path normalisation both agree on.
export { RouteTable, normalisePrefix } from './route-table.ts';
export { createForwarder, defaultOnError } from './forwarder.ts';
export { normalisePath } from './paths.ts';
export type { NormalisedPath } from './paths.ts';
export type { Forwarder, ForwarderOptions, LocalTarget, Route } from './types.ts';
