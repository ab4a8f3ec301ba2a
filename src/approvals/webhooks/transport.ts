// How a signed delivery reaches its receiver by default: one POST with Node's fetch (undici), the outbox's timeout
// as the abort signal, redirects not followed (a 3xx is an answer, and not a 2xx: the delivery failed — a receiver
// cannot send signed events on to somewhere else), and the response body never read beyond what closing it takes
// (a receiver's answer is its status; a huge or endless body costs nothing).

/** Sends one signed delivery; returns the receiver's status code or throws on a network failure. */
export type WebhookTransport = (url: string, body: string, headers: Record<string, string>, signal: AbortSignal) => Promise<number>;

export const fetchTransport: WebhookTransport = async (url, body, headers, signal) => {
  const res = await fetch(url, { method: 'POST', body, headers, signal, redirect: 'manual' });
  await res.body?.cancel().catch(() => undefined);
  return res.status;
};
