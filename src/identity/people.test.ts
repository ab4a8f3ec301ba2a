import { describe, expect, it } from 'vitest';
import { nameFromHint } from './people.js';

describe('nameFromHint (a person\'s principal name at first sign-in)', () => {
  it('makes a DNS label from an email local part or a subject', () => {
    expect(nameFromHint('Alice.Liddell')).toBe('alice-liddell');
    expect(nameFromHint('  José Núñez ')).toBe('jose-nunez');
    expect(nameFromHint('--x__y--')).toBe('x-y');
    expect(nameFromHint('宮崎')).toBe('person');
    expect(nameFromHint('a'.repeat(80))).toHaveLength(63);
    expect(nameFromHint(`${'a'.repeat(62)}-b`, 63)).toBe('a'.repeat(62));
  });
});
