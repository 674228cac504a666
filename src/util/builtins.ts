// node:http, node:https and node:child_process for the hub's own modules. Not `import … from 'node:http'`: to make an
// ES module of a built-in, Node reads every one of its exports once, and node:http's WebSocket, CloseEvent and
// MessageEvent getters then load undici, web streams, http2 and zlib (node:child_process's pull in
// dgram). getBuiltinModule hands over the CommonJS exports, whose getters stay lazy. Measured on an idle hub: one ES
// import of node:http anywhere costs ~12 MiB of resident memory. Type-only imports from 'node:http' are erased and
// cost nothing, so modules keep using those.
export const http = process.getBuiltinModule('node:http');
export const https = process.getBuiltinModule('node:https');
export const childProcess = process.getBuiltinModule('node:child_process');
export const { STATUS_CODES } = http;
