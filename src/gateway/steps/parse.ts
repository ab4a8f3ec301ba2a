import { GatewayRefusal } from '../call.js';
import type { Step } from '../pipeline.js';

// Step: read the body the client sent, in its provider's format.
// Rules:
// - A JSON object (the listener hands over the raw bytes: a body that is not JSON is 400 invalid_request in the
//   provider's shape, not a framework error).
// - `model` is a string of 1-200 characters: the registry name (or id) of a model resource. Its absence is 400.
// - `stream` is true or absent/false; anything else is 400 (the upstream would otherwise decide what it means).
// - maxTokens, what token limits reserve: the body's output maximum (or the provider's default) plus an upper bound
//   on the prompt — its size in bytes (a token is never shorter than one byte of UTF-8), so a reservation is never
//   below what the call can use.

const MAX_MODEL_LENGTH = 200;

export const parse: Step = async (call) => {
  const raw = call.req.body;
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.alloc(0);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new GatewayRefusal(400, 'invalid_request', 'the body must be a JSON object');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new GatewayRefusal(400, 'invalid_request', 'the body must be a JSON object');
  const record = body as Record<string, unknown>;
  const model = record.model;
  if (typeof model !== 'string' || model.length === 0 || model.length > MAX_MODEL_LENGTH) {
    throw new GatewayRefusal(400, 'invalid_request', `model must be the name of a model resource (1-${MAX_MODEL_LENGTH} characters)`);
  }
  if (record.stream !== undefined && typeof record.stream !== 'boolean') throw new GatewayRefusal(400, 'invalid_request', 'stream must be true or false');
  call.body = record;
  call.model = model;
  call.stream = record.stream === true && call.operation !== 'count_tokens' && call.operation !== 'embeddings';
  call.maxTokens = call.dialect.maxOutputTokens(call.operation, record) + (call.operation === 'count_tokens' ? 0 : bytes.length);
};
