import { describe, expect, it } from 'vitest';
import { audienceRefusal } from './audience-rules.js';
import type { AudienceResource } from './contracts.js';

const resource = (over: Partial<AudienceResource> = {}): AudienceResource => ({
  id: 'r', name: 'ds', kind: 'dataset', audience: 'urn:custos:resource:ds', purposes: [], classification: 'internal', serverPrincipalId: null, ...over,
});

describe('audienceRefusal', () => {
  it('holds a resource that lists purposes to them; a credential without a purpose never addresses it', () => {
    expect(audienceRefusal(resource({ purposes: ['eval'] }), { dataCeiling: null }, 'eval')).toBeUndefined();
    expect(audienceRefusal(resource({ purposes: ['eval'] }), { dataCeiling: null }, 'training')).toMatch(/purpose 'training'/);
    expect(audienceRefusal(resource({ purposes: ['eval'] }), { dataCeiling: null }, null)).toMatch(/unstated purpose/);
    expect(audienceRefusal(resource(), { dataCeiling: null }, null)).toBeUndefined();
  });
  it('refuses a classification above the data ceiling, allows it at or below', () => {
    expect(audienceRefusal(resource({ classification: 'restricted' }), { dataCeiling: 'confidential' }, null)).toMatch(/data ceiling/);
    expect(audienceRefusal(resource({ classification: 'confidential' }), { dataCeiling: 'confidential' }, null)).toBeUndefined();
    expect(audienceRefusal(resource({ classification: 'public' }), { dataCeiling: 'internal' }, null)).toBeUndefined();
    expect(audienceRefusal(resource({ classification: 'unheard-of' }), { dataCeiling: 'restricted' }, null)).toMatch(/data ceiling/);
  });
});
