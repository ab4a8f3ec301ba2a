import { createParser } from 'eventsource-parser';

// Server-sent events (the WHATWG event-stream format) as the gateway reads and writes them, for the model proxy and
// the MCP proxy alike. Parsing is eventsource-parser's; this file only adapts it to a body that arrives in chunks
// and writes an event back as text.
// Rules:
// - An event is dispatched when a blank line ends it and it had a `data` field (an empty `data:` counts: MCP's
//   priming events are an id with empty data). Comments are dropped.
// - `retry` is carried on the next event, so it is passed on in the same place of the stream.
// - A single event larger than `maxBytes` characters is refused with the caller's error (nothing half-read passes).

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  retry?: string;
}

/** The events of a body, each as soon as it is complete. */
export async function* sseEvents(body: AsyncIterable<Buffer | string>, limit: { maxBytes: number; tooLarge: () => Error }): AsyncGenerator<SseEvent> {
  const ready: SseEvent[] = [];
  let retry: string | undefined;
  let failure: Error | undefined;
  const parser = createParser({
    maxBufferSize: limit.maxBytes,
    onEvent: (e) => {
      ready.push({ ...(e.id !== undefined ? { id: e.id } : {}), ...(e.event !== undefined ? { event: e.event } : {}), data: e.data, ...(retry !== undefined ? { retry } : {}) });
      retry = undefined;
    },
    onRetry: (ms) => { retry = String(ms); },
    onError: (error) => { if (error.type === 'max-buffer-size-exceeded') failure = limit.tooLarge(); },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (failure) throw failure;
    yield* ready.splice(0);
  }
  // A last event not ended by a blank line is still an event.
  parser.feed('\n\n');
  yield* ready.splice(0);
}

/** An event as text, ready to write to a client. */
export function sseText(e: SseEvent): string {
  let out = '';
  if (e.id !== undefined) out += `id: ${e.id}\n`;
  if (e.event !== undefined) out += `event: ${e.event}\n`;
  if (e.retry !== undefined) out += `retry: ${e.retry}\n`;
  for (const line of e.data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}
