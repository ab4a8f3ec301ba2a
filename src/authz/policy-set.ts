// The policy set a decision evaluates, composed (pure) from three sources in a fixed order:
//   1. the built-in guardrails (forbids only: nothing later can undo them, since forbid wins);
//   2. the active user policy version (or a candidate being tested or replayed);
//   3. one template-linked policy per live grant.
// A grant is a template whose slots are its principal and its resource (`resource in ?resource`, so a grant on a
// parent covers what is below it) and whose condition carries the grant's expiry and purpose: an expired grant
// never allows, whether or not anything has cleaned it up. Templates are built as Cedar JSON, never as text, so a
// purpose can never inject policy syntax.
import type { PolicyJson, PolicySet } from './cedar.js';
import { ACTION_TYPE } from './entities.js';
import type { EntityUid } from './contracts.js';

export interface GrantForPolicy {
  id: string;
  principal: EntityUid;
  resource: EntityUid;
  actions: string[];
  purpose: string | null;
  /** Seconds since the epoch; the grant allows only strictly before it. */
  expiresAtEpoch: number;
}

const ctx = (...path: string[]) => path.reduce<PolicyJson['conditions'][number]['body']>((left, attr) => ({ '.': { left, attr } }), { Var: 'context' });

export function grantTemplate(grant: GrantForPolicy): PolicyJson {
  const notExpired = { '<': { left: ctx('time', 'epoch_seconds'), right: { Value: grant.expiresAtEpoch } } };
  const body = grant.purpose === null ? notExpired : { '&&': { left: notExpired, right: { '==': { left: ctx('purpose'), right: { Value: grant.purpose } } } } };
  return {
    effect: 'permit',
    principal: { op: '==', slot: '?principal' },
    action: { op: 'in', entities: grant.actions.map((id) => ({ type: ACTION_TYPE, id })) },
    resource: { op: 'in', slot: '?resource' },
    conditions: [{ kind: 'when', body }],
    annotations: { id: grantPolicyId(grant.id) },
  };
}

export function grantPolicyId(grantId: string): string {
  return `grant:${grantId}`;
}

const LINK_SUFFIX = ':link';

/** The id a reason shows for a policy: a grant's link is named after its grant. */
export function displayPolicyId(id: string): string {
  return id.endsWith(LINK_SUFFIX) && id.startsWith('grant:') ? id.slice(0, -LINK_SUFFIX.length) : id;
}

export function composePolicySet(input: {
  guardrails: Record<string, string>;
  user: Record<string, string>;
  grants: GrantForPolicy[];
}): PolicySet {
  const templates: Record<string, PolicyJson> = {};
  const templateLinks: NonNullable<PolicySet['templateLinks']> = [];
  for (const grant of input.grants) {
    const id = grantPolicyId(grant.id);
    templates[id] = grantTemplate(grant);
    templateLinks.push({ templateId: id, newId: `${id}${LINK_SUFFIX}`, values: { '?principal': grant.principal, '?resource': grant.resource } });
  }
  return { staticPolicies: { ...input.guardrails, ...input.user }, templates, templateLinks };
}
