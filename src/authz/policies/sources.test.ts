import { describe, expect, it } from 'vitest';
import { lineDiff } from './diff.js';
import { combinedIdProblems, combinePolicyFiles, escapePath, fileProblemLine, unsafePath } from './sources.js';
import { refusalWarnings } from './test-cases.js';
import { policyIds } from './validation.js';

const A = '@id("a")\npermit (principal, action, resource) when { false };\n';
const B = '@id("b")\nforbid (principal, action, resource) when { false };\n';

describe('policy repository sources', () => {
  it('escapes control, line-separator and bidi characters of a path, so a file name cannot add policies', () => {
    expect(escapePath('policies/a.cedar')).toBe('policies/a.cedar');
    expect(escapePath('p/x\n@id("i") permit (principal, action, resource);\u2028\u202e.cedar')).toBe('p/x\\u{a}@id("i") permit (principal, action, resource);\\u{2028}\\u{202e}.cedar');
    expect(unsafePath('p/x\ty.cedar')).toBe(true);
    expect(unsafePath('p/café.cedar')).toBe(false);
    const text = combinePolicyFiles([{ path: 'p/a.cedar', text: A }, { path: 'p/b\n@id("injected") permit (principal, action, resource);\n//.cedar', text: B }]);
    expect(policyIds(text)).toEqual(['a', 'b']);
    expect(combinedIdProblems(text, ['a', 'b'])).toEqual([]);
    expect(combinedIdProblems(`${text}\n@id("c") permit (principal, action, resource);`, ['a', 'b'])[0]!.message).toMatch(/holds the policies a, b, c, not the files' a, b/);
  });

  it('prints a problem without a place as "file: message"', () => {
    expect(fileProblemLine({ file: 'p/a.cedar', message: 'two policies have the id \'a\'', line: null, column: null, policy: 'a' })).toBe('p/a.cedar: policy \'a\': two policies have the id \'a\'');
    expect(fileProblemLine({ file: 'p/a.cedar', message: 'oops', line: 2, column: 3, policy: null })).toBe('p/a.cedar:2:3: oops');
  });

  it('diffs lines, deletions before additions', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nB\nc\nd\n')).toEqual(['  a', '- b', '+ B', '  c', '+ d']);
  });

  it('warns about deny cases that passed only because the request was refused as unknown', () => {
    const r = (name: string, expect: 'allow' | 'deny', got: 'allow' | 'deny', reasons: string[]) => ({ name, expect, got, passed: expect === got, reasons });
    expect(refusalWarnings([
      r('typo', 'deny', 'deny', ['refused:unknown_principal']),
      r('real deny', 'deny', 'deny', ['no_permit@dana']),
      r('failing', 'allow', 'deny', ['refused:unknown_resource']),
    ])).toEqual([expect.stringMatching(/^case 'typo' passed only because the request was refused \(refused:unknown_principal\)/)]);
  });
});
