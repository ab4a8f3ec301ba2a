// Words in messages people read: "an agent", "a service account".

/** "a" or "an" before a word ("an agent", "a dataset"). */
export function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** A kind named in words with its article: 'service_account' → "a service account". */
export function kindPhrase(kind: string): string {
  return `${article(kind)} ${kind.replace(/_/g, ' ')}`;
}
