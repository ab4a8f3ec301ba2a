// Preloaded into the Portkey gateway's process by bench/gateway (node --import): works around Portkey issue #1389 /
// #1550, where streaming answers fail with "TypeError: immutable" because @hono/node-server ≥ 1.14.3 (1.19 is what npm
// resolves next to this repo's other packages) hands the upstream fetch Response's immutable headers to Portkey,
// which then appends its x-portkey-* headers. The shim gives every fetch Response a mutable copy of its headers
// (a new Response over the same body stream, as the fix proposed in Portkey PR #1551 does); nothing else changes.
const nativeFetch = globalThis.fetch;
const NativeResponse = globalThis.Response;
globalThis.fetch = async function fetchWithMutableHeaders(...args) {
  const res = await nativeFetch.apply(this, args);
  return new NativeResponse(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
};
