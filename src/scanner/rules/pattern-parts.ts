// Building blocks the provider rules' patterns share. Each is bounded, like every quantifier in a rule.

/** Start boundary: not preceded by a token character. */
export const B = '(?<![A-Za-z0-9_])';
/** End boundary: not followed by a token character. */
export const E = '(?![A-Za-z0-9_])';
/** `name ... = value` glue for contextual rules: optional quote, separator, optional quote. */
export const ASSIGN = `[A-Za-z0-9_.-]{0,30}["']?\\s{0,5}(?:=|:=|:|=>|,)\\s{0,5}["'\`]?`;
