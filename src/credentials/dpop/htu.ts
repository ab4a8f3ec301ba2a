import { invalidProof } from './reject.js';

// Part of check 5 of the DPoP table: the proof names the URL it was made for (`htu`), and that is the URL of this
// request (RFC 9449 §4.3 step 9), compared after normalisation so that equivalent spellings match.
//
// Rules (normaliseHtu):
// - Only absolute http and https URLs; no userinfo (a proof never names credentials).
// - Query and fragment are dropped (RFC 9449 §4.2: htu is the target URI "without query and fragment parts").
// - Syntax-based normalisation (RFC 3986 §6.2.2): scheme and host lower-cased; percent-encodings upper-cased and
//   decoded where they encode an unreserved character (A-Z a-z 0-9 - . _ ~); dot segments removed.
// - Scheme-based normalisation (RFC 3986 §6.2.3): the default port (80 for http, 443 for https) removed, an empty
//   path is `/`.
// - The WHATWG URL parser (Node's URL) does the parsing, case, port, IDNA and dot segments; only the
//   percent-encoding step is ours.
//
// Rules (requestUrlFor): the URL the client addressed is the configured public base URL (what clients reach,
// behind any proxy; never the Host header, which the client controls) followed by the request's path, without
// its query.

const UNRESERVED = /[A-Za-z0-9\-._~]/;

function normalisePercentEncoding(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** The comparable form of an http(s) URL: `scheme://host[:port]/path`; throws TypeError for anything else. */
export function normaliseHtu(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('not an absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TypeError('not an http(s) URL');
  if (parsed.username !== '' || parsed.password !== '') throw new TypeError('URL carries userinfo');
  return `${parsed.protocol}//${parsed.host}${normalisePercentEncoding(parsed.pathname)}`;
}

/** The URL a request was addressed to (platform/http: the management pipeline builds it the same way). */
export { requestUrlFor } from '../../platform/http/request-url.js';

/** Refuses a proof whose `htu` is not a string naming this request's URL. */
export function checkHtu(htu: unknown, requestUrl: string): void {
  if (typeof htu !== 'string') throw invalidProof('DPoP proof htu is missing');
  let claimed: string;
  try {
    claimed = normaliseHtu(htu);
  } catch {
    throw invalidProof('DPoP proof htu is not an http(s) URL');
  }
  if (claimed !== normaliseHtu(requestUrl)) throw invalidProof('DPoP proof htu does not match the request URL');
}
