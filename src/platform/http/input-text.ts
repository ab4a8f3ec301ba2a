// Text in requests that must be refused, not absorbed, wherever it appears (body, query, params; keys and values):
// - a lone UTF-16 surrogate (JSON "\udfff") cannot be canonicalised (RFC 8785) and so could never be recorded in
//   the audit log; stored, it would silently become U+FFFD. Refused on every route.
// - C0/C1 control characters (other than tab, line feed and carriage return), DEL, and Unicode bidirectional
//   overrides/isolates and marks: names and display names printed by the CLI must not repaint a terminal or
//   reorder what a reviewer reads (Trojan Source). Refused on every route except those that carry foreign text
//   on purpose (a scan report names files as they are), which neutralise it when printing instead.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_BIDI = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

export interface TextProblem {
  /** JSON-pointer-like location, e.g. "body/display_name". */
  path: string;
  message: string;
}

/** The first string (key or value) in `value` that breaks the rules, or undefined. */
export function findBadText(value: unknown, location: string, allowControls: boolean, depth = 0): TextProblem | undefined {
  if (depth > 64) return undefined; // JSON nesting is already bounded by the body limit; this keeps the walk finite
  if (typeof value === 'string') return checkString(value, location, allowControls);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findBadText(value[i], `${location}/${i}`, allowControls, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const pk = checkString(k, `${location}/${k}`, allowControls);
      if (pk) return { path: `${location}/${sanitizeForMessage(k)}`, message: `key ${pk.message}` };
      const p = findBadText(v, `${location}/${k}`, allowControls, depth + 1);
      if (p) return p;
    }
  }
  return undefined;
}

function checkString(s: string, path: string, allowControls: boolean): TextProblem | undefined {
  if (LONE_SURROGATE.test(s)) return { path, message: 'contains a lone UTF-16 surrogate (not valid Unicode text)' };
  if (!allowControls && CONTROL_OR_BIDI.test(s)) return { path, message: 'contains a control character or a bidirectional override' };
  return undefined;
}

/** Makes any string safe to echo in an error message or a terminal. */
export function sanitizeForMessage(s: string): string {
  return s.replace(new RegExp(CONTROL_OR_BIDI.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(new RegExp(LONE_SURROGATE.source, 'g'), '\\ufffd');
}
