// The AuthZEN use cases: evaluation, evaluations (batch) and the three searches, a thin shell on the decision point.
// Who may ask what (the route lets every authenticated caller through; the rules are here, where the subject is known):
// - operators whose role holds `authz.evaluate` (admin, security) ask about any subject;
// - a service account whose access token or API key holds the scope `authz:evaluate` (an application using Custos as
//   its PDP) asks about any subject;
// - any other principal holding an access token or API key asks only about itself: subject omitted or naming it
//   (then purpose, chain and binding come from its own verified credential), never a subject search;
// - anyone else is refused (403), and the refusal is recorded as `authz.denied` first, as the management pipeline does.
// Decisions:
// - every evaluation is one `pdp.decide` (audited before the answer); a request refused before the decision point
//   (a subject token that does not verify, a subject of the wrong type) is recorded as an `authz.decision` deny too;
// - without `subject.properties.token`, an operator's or evaluator's question carries no facts (no purpose, no
//   binding): everything in it is asserted by the caller;
// - searches evaluate every candidate with `pdp.evaluate` and record ONE `authz.search` event for the page.
import { z } from 'zod';
import { authorize } from '../../operators/index.js';
import type { Actor } from '../../platform/actor.js';
import { AppError, errors } from '../../platform/http/errors.js';
import {
  ASSET_ACTIONS, MANAGEMENT_ACTIONS, NO_FACTS, type Decision, type DecisionReason, type DecisionRequest, type RefusalCode,
  type RequestFacts, type ResourceTarget, type SnapshotPrincipal,
} from '../contracts.js';
import { factsFromActor } from '../facts.js';
import type { AuthzPartContext } from '../parts.js';
import { reasonText } from '../pdp.js';
import { aliasesOf, principalIdsByAlias } from './aliases.repo.js';
import {
  evaluationBody, type ActionSearchInput, type DecisionOut, type EvaluationInput, type EvaluationsInput, type ResourceSearchInput,
  type Semantic, type SubjectSearchInput,
} from './authzen.schemas.js';
import {
  actingOf, answerOf, assertedOf, invalidItem, isRegistryResourceType, principalKindOf, resourceTargetOf, subjectAssertions,
  tokenFacts, withDefaults,
} from './mapping.js';
import { encodePageToken, pagePosition, searchDigest } from './page-token.js';

type CallerKind = 'operator' | 'evaluator' | 'self';
interface Caller { kind: CallerKind; actor: Actor }

type SubjectIn = NonNullable<EvaluationInput['subject']>;
type ResolvedSubject =
  | { kind: 'ok'; principal: string; facts: RequestFacts; asserted?: Record<string, unknown> }
  | { kind: 'refused'; principal: string; code: RefusalCode; message: string }
  | { kind: 'invalid'; message: string };

/** Candidates a search evaluates per request at most (a page may come back short, with a next_token). */
const MAX_EVALUATED_PER_PAGE = 2000;
const CHUNK = 32;

export function createAuthzenService(ctx: AuthzPartContext) {
  async function denied(actor: Actor, route: string, why: string, code: 'forbidden' | 'insufficient_scope'): Promise<never> {
    await ctx.db.write((trx, batch) => ctx.audit.record(trx, batch, {
      type: 'authz.denied', action: 'authz.evaluate', actor, decision: 'deny', outcome: 'failure', reasons: [why],
      target: { type: 'route', id: null, name: route },
    })).catch(() => undefined);
    throw code === 'forbidden' ? errors.forbidden(why) : new AppError('insufficient_scope', why);
  }

  async function callerOf(actor: Actor, route: string): Promise<Caller> {
    if (actor.role !== null) {
      if (authorize(actor, 'authz.evaluate')) return { kind: 'operator', actor };
      return denied(actor, route, `role '${actor.role}' lacks permission 'authz.evaluate'`, 'forbidden');
    }
    const held = actor.credential?.kind;
    if (!actor.principal || (held !== 'access_token' && held !== 'api_key')) {
      return denied(actor, route, 'the AuthZEN API takes an operator token or a principal\'s access token or API key', 'forbidden');
    }
    if (actor.principal.kind === 'service_account' && authorize(actor, 'authz.evaluate')) return { kind: 'evaluator', actor };
    return { kind: 'self', actor };
  }

  const notAboutOthers = (caller: Caller, route: string) => denied(caller.actor, route,
    'without the scope authz:evaluate (service accounts) a principal asks only about itself', 'insufficient_scope');

  /**
   * The principal of `kind` a subject id names: its registry id or name, else its `authzen_id` label. Only principals
   * of the asked kind count, and an alias only on an ACTIVE one, held by exactly one (else ambiguous: nobody). A
   * registry id or name of the right kind wins over an alias; one of another kind never hides a person's alias
   * (an owner cannot make someone unaddressable by naming or labelling a principal it registers after them).
   */
  async function findPrincipal(ref: string, kind: string | null): Promise<SnapshotPrincipal | undefined> {
    const direct = await ctx.entities.principal(ref);
    if (kind === null) return direct;
    if (direct && direct.kind === kind && direct.status === 'active') return direct;
    const ids = await principalIdsByAlias(ctx.db.kysely, ref, kind);
    if (ids.length === 1) return (await ctx.entities.principal(ids[0]!)) ?? (direct?.kind === kind ? direct : undefined);
    // No (or an ambiguous) alias: the registry's own principal of that kind, if any (an inactive one is denied by the
    // guardrails); else the principal of another kind, which wrongKind refuses.
    return direct;
  }

  /** Why a subject names no principal, echoing what was asked. */
  const noSuchSubject = (subject: SubjectIn) => `no principal of type '${subject.type}' is named '${subject.id}'`;

  function wrongKind(subject: SubjectIn, p: SnapshotPrincipal | undefined): { code: RefusalCode; message: string } | null {
    const kind = principalKindOf(subject.type);
    if (kind === null) return { code: 'invalid_request', message: `subject type '${subject.type}' is not a principal kind` };
    if (!p || p.kind !== kind) return { code: 'unknown_principal', message: noSuchSubject(subject) };
    return null;
  }

  type TokenCache = Map<string, Promise<Awaited<ReturnType<AuthzPartContext['inspectToken']>>>>;

  async function resolveSubject(caller: Caller, subject: SubjectIn | undefined, route: string, tokens: TokenCache): Promise<ResolvedSubject> {
    const self = caller.actor.principal;
    if (subject === undefined) {
      if (caller.kind === 'operator' || !self) return { kind: 'invalid', message: 'subject: Required' };
      return { kind: 'ok', principal: self.id, facts: factsFromActor(caller.actor) };
    }
    const asserted = subjectAssertions(subject.properties);
    const token = subject.properties?.token;
    if (token !== undefined) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 16_384) return { kind: 'invalid', message: 'subject.properties.token: must be a Custos access token' };
      let claims;
      try {
        let pending = tokens.get(token);
        if (!pending) { pending = ctx.inspectToken(token); tokens.set(token, pending); }
        claims = await pending;
      } catch (error) {
        if (error instanceof Error && error.name === 'CredentialRejected') {
          return { kind: 'refused', principal: subject.id, code: 'invalid_request', message: `subject.properties.token was refused (${(error as Error & { reason?: string }).reason ?? 'invalid'})` };
        }
        throw error;
      }
      const acting = actingOf(claims);
      if (caller.kind === 'self' && acting.principal !== self!.id) return notAboutOthers(caller, route);
      const p = await findPrincipal(subject.id, principalKindOf(subject.type));
      if (!p || p.id !== acting.principal) {
        return { kind: 'refused', principal: subject.id, code: 'invalid_request', message: 'subject.id does not name the acting principal of subject.properties.token' };
      }
      const kind = wrongKind(subject, p);
      if (kind) return { kind: 'refused', principal: subject.id, ...kind };
      return { kind: 'ok', principal: p.id, facts: tokenFacts(claims), asserted };
    }
    const p = await findPrincipal(subject.id, principalKindOf(subject.type));
    if (caller.kind === 'self' && (!p || p.id !== self!.id)) return notAboutOthers(caller, route);
    const kind = wrongKind(subject, p);
    if (kind) return { kind: 'refused', principal: subject.id, ...kind };
    if (caller.kind === 'self') return { kind: 'ok', principal: p!.id, facts: factsFromActor(caller.actor), asserted };
    return { kind: 'ok', principal: p!.id, facts: NO_FACTS, asserted };
  }

  function auditTarget(resource: ResourceTarget): { type: string; id: string | null; name: string | null } {
    if (resource.kind === 'registry') return { type: resource.resourceKind ?? 'resource', id: null, name: resource.ref };
    if (resource.kind === 'app') return { type: resource.type, id: resource.id, name: null };
    return { type: 'api', id: 'custos', name: 'custos' };
  }

  /** A request refused before the decision point is still a deny decision, recorded before the answer. */
  async function recordRefusal(actor: Actor, principal: string, action: string, resource: ResourceTarget, code: RefusalCode, message: string, requestId: string | null): Promise<Decision> {
    const reasons: DecisionReason[] = [{ kind: 'refused', code, message }];
    const event = await ctx.db.write((trx, batch) => ctx.audit.record(trx, batch, {
      type: 'authz.decision', actor, action, target: auditTarget(resource), decision: 'deny', reasons: reasons.map(reasonText), outcome: 'failure',
      details: { request: { principal, action, resource }, refused: message, request_id: requestId ?? actor.provenance.requestId, via: 'authzen' },
    }));
    return { decision: 'deny', reasons, policyVersion: '', entityVersion: 0, verdicts: [], context: {}, auditEventId: event.id };
  }

  interface Prepared { input: EvaluationInput; subject: ResolvedSubject }

  async function decideOne(caller: Caller, p: Prepared, requestId: string | null): Promise<DecisionOut> {
    const { input, subject } = p;
    if (subject.kind === 'invalid') return invalidItem(subject.message);
    const resource = resourceTargetOf(input.resource);
    const admin = caller.kind !== 'self';
    if (subject.kind === 'refused') {
      return answerOf(await recordRefusal(caller.actor, subject.principal, input.action.name, resource, subject.code, subject.message, requestId), admin);
    }
    const request: DecisionRequest = {
      principal: subject.principal, action: input.action.name, resource, facts: subject.facts, requestId,
      asserted: assertedOf({ subject: subject.asserted, resource: input.resource.properties, context: input.context, actionProperties: input.action.properties }),
    };
    return answerOf(echoed(await ctx.pdp.decide(request, caller.actor), input.resource), admin);
  }

  /** A refusal of an unknown registry resource names what was asked (the PDP's message does not). */
  function echoed(d: Decision, asked: { type: string; id: string }): Decision {
    if (!d.reasons.some((r) => r.kind === 'refused' && r.code === 'unknown_resource')) return d;
    return {
      ...d,
      reasons: d.reasons.map((r) => (r.kind === 'refused' && r.code === 'unknown_resource' ? { ...r, message: `no resource of type '${asked.type}' is named '${asked.id}'` } : r)),
    };
  }

  async function prepare(caller: Caller, input: EvaluationInput, route: string, tokens: TokenCache): Promise<Prepared> {
    return { input, subject: await resolveSubject(caller, input.subject, route, tokens) };
  }

  const issueText = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

  // ---- searches --------------------------------------------------------------------------------------------

  interface SearchPage<T> { items: T[]; next: number | null; evaluated: number; policyVersion: string | null; refusals: string[] }

  /** Evaluates candidates from `offset` until `limit` are allowed (then looks ahead for one more to know if a next page exists). */
  async function pageThrough<T>(candidates: T[], offset: number, limit: number, check: (c: T) => Promise<Decision>): Promise<SearchPage<T>> {
    const items: T[] = [];
    let evaluated = 0;
    let policyVersion: string | null = null;
    const refusals = new Set<string>();
    let i = offset;
    while (i < candidates.length && evaluated < MAX_EVALUATED_PER_PAGE) {
      const chunk = candidates.slice(i, Math.min(candidates.length, i + CHUNK, i + MAX_EVALUATED_PER_PAGE - evaluated));
      const decisions = await Promise.all(chunk.map(check));
      for (let k = 0; k < chunk.length; k++) {
        policyVersion ??= decisions[k]!.policyVersion;
        for (const r of decisions[k]!.reasons) if (r.kind === 'refused') refusals.add(reasonText(r));
        if (decisions[k]!.decision !== 'allow') continue;
        if (items.length === limit) return { items, next: i + k, evaluated: evaluated + k, policyVersion, refusals: [...refusals] };
        items.push(chunk[k]!);
      }
      i += chunk.length;
      evaluated += chunk.length;
    }
    return { items, next: i < candidates.length ? i : null, evaluated, policyVersion, refusals: [...refusals] };
  }

  async function recordSearch(actor: Actor, what: 'subject' | 'resource' | 'action', input: {
    action: string | null; target: { type: string; id: string | null; name: string | null }; principal: string | null; facts: RequestFacts | null;
    results: string[]; evaluated: number; offset: number; policyVersion: string | null; requestId: string | null; refusals: string[];
  }): Promise<void> {
    await ctx.db.write((trx, batch) => ctx.audit.record(trx, batch, {
      type: 'authz.search', actor, action: `search.${what}`, target: input.target, decision: null, reasons: input.refusals,
      policyVersion: input.policyVersion, purpose: input.facts?.purpose ?? null, outcome: 'success',
      details: {
        search: what, principal: input.principal, asked_action: input.action, results: input.results, evaluated: input.evaluated, offset: input.offset,
        request_id: input.requestId ?? actor.provenance.requestId, via: 'authzen',
      },
    }));
  }

  function pageOut(digest: string, page: SearchPage<unknown>, limit: number, count: number) {
    return { next_token: page.next === null ? '' : encodePageToken(digest, { offset: page.next, limit }), count };
  }

  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

  return {
    async evaluate(actor: Actor, body: EvaluationInput, requestId: string | null): Promise<DecisionOut> {
      const route = 'POST /access/v1/evaluation';
      const caller = await callerOf(actor, route);
      const prepared = await prepare(caller, body, route, new Map());
      if (prepared.subject.kind === 'invalid') throw errors.validation(prepared.subject.message);
      return decideOne(caller, prepared, requestId);
    },

    async evaluations(actor: Actor, body: EvaluationsInput, requestId: string | null): Promise<{ decision?: boolean; context?: Record<string, unknown>; evaluations?: DecisionOut[] }> {
      const route = 'POST /access/v1/evaluations';
      const caller = await callerOf(actor, route);
      const tokens: TokenCache = new Map();
      const items = body.evaluations ?? [];
      if (items.length === 0) {
        // §7.1: without (or with an empty) `evaluations` array the request is a single Access Evaluation.
        const single = evaluationBody.safeParse(body);
        if (!single.success) throw errors.validation(issueText(single.error));
        const prepared = await prepare(caller, single.data, route, tokens);
        if (prepared.subject.kind === 'invalid') throw errors.validation(prepared.subject.message);
        return decideOne(caller, prepared, requestId);
      }
      const defaults = { subject: body.subject, action: body.action, resource: body.resource, context: body.context };
      // Every subject is resolved before any decision, so a caller refused for one item is refused for the batch
      // and nothing of it is decided.
      const prepared: Prepared[] = [];
      for (const [index, item] of items.entries()) {
        const parsed = evaluationBody.safeParse(withDefaults(item, defaults));
        if (!parsed.success) { prepared.push({ input: undefined as never, subject: { kind: 'invalid', message: `evaluations.${index}: ${issueText(parsed.error)}` } }); continue; }
        prepared.push(await prepare(caller, parsed.data, route, tokens));
      }
      const semantic: Semantic = body.options?.evaluations_semantic ?? 'execute_all';
      if (semantic === 'execute_all') return { evaluations: await Promise.all(prepared.map((p) => decideOne(caller, p, requestId))) };
      const out: DecisionOut[] = [];
      for (const p of prepared) {
        const answer = await decideOne(caller, p, requestId);
        out.push(answer);
        if (semantic === 'deny_on_first_deny' && !answer.decision) break;
        if (semantic === 'permit_on_first_permit' && answer.decision) break;
      }
      return { evaluations: out };
    },

    async searchSubjects(actor: Actor, body: SubjectSearchInput, requestId: string | null) {
      const route = 'POST /access/v1/search/subject';
      const caller = await callerOf(actor, route);
      if (caller.kind === 'self') return notAboutOthers(caller, route);
      const digest = searchDigest('subject', body);
      const position = pagePosition(digest, body.page);
      const kind = principalKindOf(body.subject.type);
      const candidates = kind === null ? [] : (await ctx.entities.principals()).filter((p) => p.kind === kind).sort(byName);
      const resource = resourceTargetOf(body.resource);
      const asserted = assertedOf({ subject: body.subject.properties, resource: body.resource.properties, context: body.context, actionProperties: body.action.properties });
      const page = await pageThrough(candidates, position.offset, position.limit, (p) => ctx.pdp.evaluate({
        principal: p.id, action: body.action.name, resource, facts: NO_FACTS, asserted, requestId,
      }));
      const aliases = await aliasesOf(ctx.db.kysely, page.items.map((p) => p.id));
      const results = page.items.map((p) => ({ type: body.subject.type, id: aliases.get(p.id) ?? p.name }));
      await recordSearch(caller.actor, 'subject', {
        action: body.action.name, target: auditTarget(resource), principal: null, facts: null, results: results.map((r) => r.id),
        evaluated: page.evaluated, offset: position.offset, policyVersion: page.policyVersion, requestId, refusals: page.refusals,
      });
      return { page: pageOut(digest, page, position.limit, results.length), results };
    },

    async searchResources(actor: Actor, body: ResourceSearchInput, requestId: string | null) {
      const route = 'POST /access/v1/search/resource';
      const caller = await callerOf(actor, route);
      const subject = await resolveSubject(caller, body.subject, route, new Map());
      if (subject.kind === 'invalid') throw errors.validation(subject.message);
      const digest = searchDigest('resource', body);
      const position = pagePosition(digest, body.page);
      // Custos knows the objects of its own registry only; an application's objects cannot be enumerated here.
      const type = body.resource.type;
      const candidates = subject.kind === 'ok' && isRegistryResourceType(type) ? (await ctx.entities.resources()).filter((r) => r.kind === type).sort(byName) : [];
      const page = subject.kind !== 'ok' ? { items: [], next: null, evaluated: 0, policyVersion: null, refusals: [`refused:${subject.code}`] } : await pageThrough(candidates, position.offset, position.limit, (r) => ctx.pdp.evaluate({
        principal: subject.principal, action: body.action.name, resource: { kind: 'registry', ref: r.id, resourceKind: type }, facts: subject.facts, requestId,
        asserted: assertedOf({ subject: subject.asserted, resource: body.resource.properties, context: body.context, actionProperties: body.action.properties }),
      }));
      const results = page.items.map((r) => ({ type, id: r.name }));
      await recordSearch(caller.actor, 'resource', {
        action: body.action.name, target: { type, id: null, name: null }, principal: subject.principal,
        facts: subject.kind === 'ok' ? subject.facts : null, results: results.map((r) => r.id), evaluated: page.evaluated, offset: position.offset,
        policyVersion: page.policyVersion, requestId, refusals: page.refusals,
      });
      return { page: pageOut(digest, page, position.limit, results.length), results };
    },

    async searchActions(actor: Actor, body: ActionSearchInput, requestId: string | null) {
      const route = 'POST /access/v1/search/action';
      const caller = await callerOf(actor, route);
      const subject = await resolveSubject(caller, body.subject, route, new Map());
      if (subject.kind === 'invalid') throw errors.validation(subject.message);
      const digest = searchDigest('action', body);
      const position = pagePosition(digest, body.page);
      const resource = resourceTargetOf(body.resource);
      // On an application object, the active version's application actions are candidates too.
      const appActions = resource.kind === 'app' ? (await ctx.pdp.versions()).appActions : [];
      const candidates: string[] = subject.kind !== 'ok' ? [] : resource.kind === 'api' ? [...MANAGEMENT_ACTIONS] : [...ASSET_ACTIONS, ...appActions];
      const asserted = assertedOf({ subject: subject.kind === 'ok' ? subject.asserted : undefined, resource: body.resource.properties, context: body.context });
      const page = subject.kind !== 'ok' ? { items: [], next: null, evaluated: 0, policyVersion: null, refusals: [`refused:${subject.code}`] } : await pageThrough(candidates, position.offset, position.limit, (action) => ctx.pdp.evaluate({
        principal: subject.principal, action, resource, facts: subject.facts, asserted, requestId,
      }));
      const results = page.items.map((name) => ({ name }));
      await recordSearch(caller.actor, 'action', {
        action: null, target: auditTarget(resource), principal: subject.principal,
        facts: subject.kind === 'ok' ? subject.facts : null, results: page.items, evaluated: page.evaluated, offset: position.offset,
        policyVersion: page.policyVersion, requestId, refusals: page.refusals,
      });
      return { page: pageOut(digest, page, position.limit, results.length), results };
    },

    configuration() {
      const base = ctx.issuer();
      return {
        policy_decision_point: base,
        access_evaluation_endpoint: `${base}/access/v1/evaluation`,
        access_evaluations_endpoint: `${base}/access/v1/evaluations`,
        search_subject_endpoint: `${base}/access/v1/search/subject`,
        search_resource_endpoint: `${base}/access/v1/search/resource`,
        search_action_endpoint: `${base}/access/v1/search/action`,
      };
    },
  };
}

export type AuthzenService = ReturnType<typeof createAuthzenService>;
