// The refusals of the policy lifecycle. Two codes belong to it: `invalid_policy` (422: the Cedar text or the test
// cases are not valid; `errors` lists each problem with line, column and policy) and `policy_tests_failed` (422: a
// test case did not get its expected decision; `failures` lists them). Until the catalogue in platform/http/errors.ts
// carries them, the refusals go out as `validation_failed` with the same extensions; the switch is automatic.
import { AppError, ERROR_CODES, type ErrorCode } from '../../platform/http/errors.js';
import { problemLine } from './validation.js';
import type { CaseResult, InputProblem } from './test-cases.js';
import type { PolicyProblem } from '../cedar.js';

const known = (code: string, fallback: ErrorCode): ErrorCode => (Object.hasOwn(ERROR_CODES, code) ? code as ErrorCode : fallback);

export const INVALID_POLICY: ErrorCode = known('invalid_policy', 'validation_failed');
export const POLICY_TESTS_FAILED: ErrorCode = known('policy_tests_failed', 'validation_failed');

type Problem = PolicyProblem | InputProblem;

export function invalidPolicy(what: 'policies' | 'tests', problems: Problem[]): AppError {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new AppError(INVALID_POLICY, `the ${what === 'policies' ? 'Cedar policies are' : 'test cases are'} not valid: ${first ? problemLine(first) : 'no detail'}${more}`, {
    errors: problems.map((p) => ({ message: p.message, line: p.line, column: p.column, ...('policy' in p ? { policy: p.policy } : {}), ...('case' in p && p.case ? { case: p.case } : {}) })),
  });
}

export function testsFailed(version: number, failures: CaseResult[]): AppError {
  const f = failures[0]!;
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : '';
  return new AppError(POLICY_TESTS_FAILED, `version ${version} was not activated: test '${f.name}' expected ${f.expect} but got ${f.got}${more}; the active version is unchanged`, { failures });
}

export function notActivatable(detail: string, allowed: string[] = []): AppError {
  return new AppError('invalid_transition', detail, { allowed });
}
