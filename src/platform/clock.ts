// Time is injected so expiry, review periods and checkpoints are tested exactly.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can move by hand. */
export function manualClock(start: Date | string = '2026-01-01T00:00:00.000Z') {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) { current += ms; },
    set(t: Date | string) { current = new Date(t).getTime(); },
  };
}
