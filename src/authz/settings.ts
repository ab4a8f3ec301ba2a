// The authorization module's settings (from platform/config.ts, mapped in app.ts).
export interface AuthzSettings {
  /** Named network zones: source addresses in a CIDR map to the zone's name in `context.provenance.zone`. */
  networkZones: Array<{ name: string; cidrs: string[] }>;
  /** IANA time zone for `context.time.hour` / `weekday`. */
  timeZone: string;
}

export const DEFAULT_AUTHZ_SETTINGS: AuthzSettings = { networkZones: [], timeZone: 'UTC' };
