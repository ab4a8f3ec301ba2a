import { describe, expect, it } from 'vitest';
import { approvalSettingsSchema, DEFAULT_APPROVAL_SETTINGS, effectiveTier, settingsProblem, type ApprovalSettings } from './settings.js';

// The floors of the approval settings: no stored document may auto-approve above low, leave medium or high without
// an approver, or make critical anything but two distinct people with one from security.

const edit = (fn: (s: ApprovalSettings) => void): ApprovalSettings => {
  const s = structuredClone(DEFAULT_APPROVAL_SETTINGS);
  fn(s);
  return s;
};

describe('approval settings', () => {
  it('the defaults are valid and keep the issue\'s rules', () => {
    expect(approvalSettingsSchema.parse(DEFAULT_APPROVAL_SETTINGS)).toEqual(DEFAULT_APPROVAL_SETTINGS);
    expect(settingsProblem(DEFAULT_APPROVAL_SETTINGS)).toBeNull();
    expect(DEFAULT_APPROVAL_SETTINGS.rules.low.auto_approve).toBe(true);
    expect(DEFAULT_APPROVAL_SETTINGS.rules.medium.slots).toEqual(['anyone']);
    expect(DEFAULT_APPROVAL_SETTINGS.rules.high.slots).toEqual(['resource_owners']);
    expect(DEFAULT_APPROVAL_SETTINGS.rules.critical.slots).toEqual(['anyone', 'security']);
    expect(DEFAULT_APPROVAL_SETTINGS.break_glass_max_seconds).toBe(3600);
  });

  it('refuses documents below the floors', () => {
    expect(settingsProblem(edit((s) => { s.rules.high.auto_approve = true; }))).toMatch(/rules.high: only low/);
    expect(settingsProblem(edit((s) => { s.rules.medium.slots = []; }))).toMatch(/rules.medium: needs at least one/);
    expect(settingsProblem(edit((s) => { s.rules.critical.slots = ['anyone', 'anyone']; }))).toMatch(/one of them from security/);
    expect(settingsProblem(edit((s) => { s.rules.critical.slots = ['security']; }))).toMatch(/two distinct/);
    expect(settingsProblem(edit((s) => { s.registration.critical.slots = ['anyone']; }))).toMatch(/registration.critical/);
    expect(settingsProblem(edit((s) => { s.rules.low.auto_approve = false; }))).toMatch(/rules.low/);
    expect(settingsProblem(edit((s) => { s.break_glass_team = 'security'; }))).toMatch(/must differ/);
    expect(settingsProblem(edit((s) => { s.conflicts = [{ name: 'x', holders: 'anyone', actions: ['deploy'] }]; }))).toMatch(/nobody to approve/);
    expect(settingsProblem(edit((s) => { s.classification_floor.restricted = 'low'; }))).toMatch(/restricted: at least high/);
    expect(settingsProblem(edit((s) => { s.classification_floor.confidential = 'low'; }))).toMatch(/confidential: at least medium/);
    // Stricter is always fine.
    expect(settingsProblem(edit((s) => { s.rules.critical.slots = ['anyone', 'security', 'resource_owners']; s.rules.medium.slots = ['team:ml-leads']; }))).toBeNull();
  });

  it('durations are whole seconds of at least 60', () => {
    expect(approvalSettingsSchema.safeParse(edit((s) => { s.rules.medium.pending_seconds = 59; })).success).toBe(false);
    expect(approvalSettingsSchema.safeParse(edit((s) => { s.rules.medium.max_duration_seconds = 90.5; })).success).toBe(false);
  });

  it('a classification raises a resource\'s tier, never lowers it', () => {
    const s = DEFAULT_APPROVAL_SETTINGS;
    expect(effectiveTier(s, { riskTier: 'low', classification: 'public' })).toBe('low');
    expect(effectiveTier(s, { riskTier: 'low', classification: 'confidential' })).toBe('medium');
    expect(effectiveTier(s, { riskTier: 'low', classification: 'restricted' })).toBe('high');
    expect(effectiveTier(s, { riskTier: 'critical', classification: 'public' })).toBe('critical');
    expect(effectiveTier(s, { riskTier: 'unknown', classification: 'public' })).toBe('critical');
  });
});
