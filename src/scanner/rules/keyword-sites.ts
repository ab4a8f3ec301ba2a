// Cheap keyword-site checks for the generic rules. Their keywords (token, secret, password…) are
// common words in code, so most sites are identifiers, not assignments of a literal; a few
// character tests here decide that before V8's regex engine is entered at all.
// Each check is a necessary condition of its rule's pattern (see site.test.ts): it may let a
// site through that the regex then rejects, never the reverse.

/** `[A-Za-z0-9_.-]`: characters of a name after the keyword. */
const NAME = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-') NAME[c.charCodeAt(0)] = 1;

/** The patterns allow 30 name characters after the alternation, which is at most 1 longer than a keyword. */
const MAX_NAME = 40;

function isQuote(c: number): boolean {
  return c === 34 || c === 39 || c === 96;
}

/** `\s`, or any non-ASCII character (the regex decides those). */
function maybeSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c > 127;
}

function skipName(text: string, i: number): number {
  const stop = Math.min(text.length, i + MAX_NAME + 1);
  while (i < stop) {
    const c = text.charCodeAt(i);
    if (c >= 128 || NAME[c] === 0) break;
    i++;
  }
  return i;
}

/**
 * Generic quoted rule: `name["'`]?\s{0,5}(?:=|:=|:|=>)\s{0,5}["'`]` must follow the keyword.
 */
export function quotedAssignmentSite(text: string, end: number): boolean {
  const len = text.length;
  let i = skipName(text, end);
  if (i - end > MAX_NAME) return false;
  if (i < len && isQuote(text.charCodeAt(i))) i++;
  for (let n = 0; n < 5 && i < len && maybeSpace(text.charCodeAt(i)); n++) i++;
  if (i >= len) return false;
  const op = text.charCodeAt(i++);
  if (op !== 61 && op !== 58) return false; // = :
  if (i < len) {
    const c = text.charCodeAt(i);
    if (c === 61 || c === 62) i++; // := =>
  }
  for (let n = 0; n < 5 && i < len && maybeSpace(text.charCodeAt(i)); n++) i++;
  return i < len && isQuote(text.charCodeAt(i));
}

/**
 * Generic unquoted rule: `name[ \t]{0,5}[=:][ \t]{0,5}` then a value character must follow the keyword.
 */
export function unquotedAssignmentSite(text: string, end: number): boolean {
  const len = text.length;
  let i = skipName(text, end);
  if (i - end > MAX_NAME) return false;
  for (let n = 0; n < 5 && i < len; n++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  if (i >= len) return false;
  const op = text.charCodeAt(i++);
  if (op !== 61 && op !== 58) return false;
  for (let n = 0; n < 5 && i < len; n++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  if (i >= len) return false;
  const v = text.charCodeAt(i);
  // Value characters are printable ASCII other than quotes and space.
  return v > 32 && v < 127 && !isQuote(v);
}
