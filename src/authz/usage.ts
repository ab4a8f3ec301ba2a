// What a policy set can read (pure): every attribute name it accesses (`x.attr`, `x has attr`, on any entity or the
// context) and the tag keys it reads. Most of the cost of a Cedar call is moving entities and context into the
// engine, so the decision point hands it only what the active set can read. The rule is conservative: an attribute
// is kept if ANY policy names it on ANY variable, nested record members are never trimmed, and a tag read with a key
// that is not a literal keeps every tag. What is dropped is therefore never read: dropping it cannot change a
// decision (an attribute read that is missing errors, and an error denies — it never allows).
import type { EntityJson, PolicyJson } from './cedar.js';

export interface AttributeUsage {
  attributes: ReadonlySet<string>;
  /** Tag keys read; 'all' when some read's key is computed. */
  tags: ReadonlySet<string> | 'all';
}

export function usageOf(policies: PolicyJson[]): AttributeUsage {
  const attributes = new Set<string>();
  const tags = new Set<string>();
  let allTags = false;
  const stack: unknown[] = [...policies.map((p) => p.conditions)];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    if (Array.isArray(node)) { stack.push(...node); continue; }
    const n = node as Record<string, unknown>;
    for (const op of ['.', 'has'] as const) {
      const access = n[op] as { attr?: unknown } | undefined;
      if (access && typeof access === 'object') {
        const attr = access.attr;
        if (typeof attr === 'string') attributes.add(attr);
        else if (Array.isArray(attr)) for (const a of attr) if (typeof a === 'string') attributes.add(a);
      }
    }
    for (const op of ['getTag', 'hasTag'] as const) {
      const read = n[op] as { right?: { Value?: unknown } } | undefined;
      if (read && typeof read === 'object') {
        if (typeof read.right?.Value === 'string') tags.add(read.right.Value);
        else allTags = true;
      }
    }
    for (const value of Object.values(n)) if (value && typeof value === 'object') stack.push(value);
  }
  return { attributes, tags: allTags ? 'all' : tags };
}

/** The entity with only what `usage` can read (parents and uid always kept). */
export function pruneEntity(entity: EntityJson, usage: AttributeUsage): EntityJson {
  const attrs: EntityJson['attrs'] = {};
  for (const key of Object.keys(entity.attrs)) if (usage.attributes.has(key)) attrs[key] = entity.attrs[key]!;
  const out: EntityJson = { uid: entity.uid, attrs, parents: entity.parents };
  if (entity.tags) {
    if (usage.tags === 'all') out.tags = entity.tags;
    else if (usage.tags.size) {
      const tags: NonNullable<EntityJson['tags']> = {};
      for (const key of Object.keys(entity.tags)) if (usage.tags.has(key)) tags[key] = entity.tags[key]!;
      out.tags = tags;
    }
  }
  return out;
}

/** The context's top-level members the set can read (a member is kept whole). */
export function pruneContext(context: Record<string, unknown>, usage: AttributeUsage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(context)) if (usage.attributes.has(key)) out[key] = context[key];
  return out;
}
