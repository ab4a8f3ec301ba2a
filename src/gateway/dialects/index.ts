import type { Provider } from '../upstreams/upstreams.js';
import type { UpstreamRoute } from '../upstreams/catalog.js';

// A dialect is one provider wire format the gateway speaks to clients (and forwards unchanged to an upstream of a
// provider that speaks it): where each operation goes upstream and with which key header, how the body is
// rewritten (the Custos model name becomes the provider's model id; nothing else changes), how usage is read from
// an answer or a stream, and the provider's own error shape for refusals.

export type Operation = 'chat.completions' | 'embeddings' | 'responses' | 'models' | 'messages' | 'count_tokens';

export interface Usage { inputTokens: number | null; outputTokens: number | null }

/** Reads usage (and completion text, for hashing) from a stream's events as they pass, without holding them. */
export interface UsageTap {
  onEvent(event: string | undefined, data: string): void;
  /**
   * Events the client did not ask for and must not see (a usage chunk the gateway asked for on its behalf). When
   * defined, the stream is passed on event by event (re-serialised `event:`/`data:` lines) instead of byte for byte.
   */
  hide?(event: string | undefined, data: string): boolean;
  usage(): Usage;
  text(): string;
}

export interface Dialect {
  api: 'openai' | 'anthropic';
  /** Providers whose upstreams speak this dialect: a model served by another is refused (wrong_api). */
  providers: ReadonlySet<Provider>;
  /** The provider's error body for a refusal, carrying the Custos reason code. */
  errorBody(status: number, code: string, message: string): Record<string, unknown>;
  /** Upstream URL and headers (the upstream key in the provider's header; never the caller's credential). */
  upstreamRequest(route: UpstreamRoute, operation: Operation, clientHeaders: Record<string, string | string[] | undefined>): { url: string; headers: Record<string, string> };
  /** The body sent upstream: the client's, with `model` replaced (and stream usage asked for). */
  upstreamBody(route: UpstreamRoute, operation: Operation, body: Record<string, unknown>): Record<string, unknown>;
  /** The most output tokens the body allows (its max_tokens or the provider's default). */
  maxOutputTokens(operation: Operation, body: Record<string, unknown>): number;
  usageFromJson(operation: Operation, body: unknown): Usage;
  textFromJson(operation: Operation, body: unknown): string;
  /** `body` is the client's (not the upstream's): what the client asked to see. */
  tap(operation: Operation, body: Record<string, unknown>): UsageTap;
}

/** The OpenAI/Anthropic error `type` for an HTTP status (both use the same names). */
export function errorType(status: number): string {
  if (status === 400 || status === 413 || status === 415) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return 'api_error';
}

export const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

export function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

export const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** Text parts of a content value: a string, or a list of parts with `text`. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof asRecord(part)?.text === 'string' ? (asRecord(part)!.text as string) : '')).join('');
}
