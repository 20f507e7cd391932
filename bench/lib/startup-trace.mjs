// Preloaded with `node --import ./bench/lib/startup-trace.mjs dist/cli/main.js probe …`: counts the
// modules a command loads before its first TCP connection (ES modules through a resolve hook, the
// CommonJS ones — yargs — through Module._load) and when that connection starts, then prints one
// JSON line on stderr at exit: { firstConnectMs, esm, cjs, esmBeforeConnect, cjsBeforeConnect }.
// Times are from the process's start (performance.timeOrigin), so Node's own start is included.
import { register, createRequire } from 'node:module';
import net from 'node:net';
import { MessageChannel } from 'node:worker_threads';

// Module counting runs hooks on a thread of their own, which slows loading: asked for separately
// (TLSPROBE_TRACE_MODULES=1), so that the first-connect time is measured without it.
const counting = process.env.TLSPROBE_TRACE_MODULES === '1';
let esm = 0;
if (counting) {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', () => esm++);
  port1.unref();
  register(
    `data:text/javascript,${encodeURIComponent(`
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { if (url.startsWith('file:')) port.postMessage(1); return next(url, context); }
`)}`,
    import.meta.url,
    { data: { port: port2 }, transferList: [port2] },
  );
}

const Module = createRequire(import.meta.url)('node:module');
let cjs = 0;
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (!request.startsWith('node:') && !Module.builtinModules.includes(request)) cjs++;
  return load.call(this, request, parent, isMain);
};

let first = null;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = /** @type {typeof connect} */ function (/** @type {any[]} */ ...args) {
  first ??= { firstConnectMs: performance.now(), esmBeforeConnect: esm, cjsBeforeConnect: cjs };
  return connect.apply(this, /** @type {any} */ (args));
};
process.on('exit', () => process.stderr.write(`${JSON.stringify({ ...first, ...(counting ? { esm } : {}), cjs })}\n`));
