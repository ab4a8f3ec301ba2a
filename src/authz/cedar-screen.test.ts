import { describe, expect, it } from 'vitest';
import { validatePolicyText } from './cedar.js';
import { MAX_CEDAR_DEPTH, screenCedar, screenPolicyInput } from './cedar-screen.js';

// Untrusted Cedar text is parsed first in a worker with its own engine: text that would overflow the engine's
// stack is refused there, and the decision engine in this thread keeps working.

const policy = (cond: string) => `permit (principal, action, resource) when { ${cond} };`;

describe('screening Cedar text', () => {
  it('passes ordinary policies', async () => {
    expect(await screenCedar({ policies: policy('context.purpose == "support" && resource.purposes.contains(context.purpose)') })).toEqual([]);
  });

  it('refuses nesting that would break the engine while parsing, and the next text is screened by a fresh engine', async () => {
    const deep = policy(`${'('.repeat(400)}context.purpose == "x"${')'.repeat(400)}`);
    const problems = await screenCedar({ policies: deep });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/too deeply nested/);
    expect(await screenCedar({ policies: policy('true') })).toEqual([]);
    // The engine of this thread never saw it.
    expect(validatePolicyText(policy('context.purpose == "x"'))).toEqual([]);
  });

  it('refuses expression trees deep enough to overflow the evaluator', async () => {
    const chain = Array.from({ length: 600 }, (_, i) => `context.risk.score == ${i}`).join(' || ');
    const problems = await screenCedar({ policies: policy(chain) });
    expect(problems[0]!.message).toMatch(new RegExp(`nested too deeply \\(depth \\d+, at most ${MAX_CEDAR_DEPTH}\\)`));
    const short = Array.from({ length: 20 }, (_, i) => `context.risk.score == ${i}`).join(' || ');
    expect(await screenCedar({ policies: policy(short) })).toEqual([]);
  });

  it('screens an application schema with the shipped schema around it', async () => {
    const deepRecord = `namespace App { type T = ${'{ a: '.repeat(300)}Long${' }'.repeat(300)}; action go appliesTo { principal: [Custos::Human], resource: [Custos::AppResource], context: Custos::RequestContext }; }`;
    expect((await screenPolicyInput({ policies: policy('true'), appSchema: deepRecord }))).not.toEqual([]);
    expect(await screenPolicyInput({ policies: policy('true'), appSchema: 'namespace App { action go appliesTo { principal: [Custos::Human], resource: [Custos::AppResource], context: Custos::RequestContext }; }' })).toEqual([]);
  });
});
