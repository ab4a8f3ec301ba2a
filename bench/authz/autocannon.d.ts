// The part of autocannon's API (v8) the authz bench uses; autocannon ships no types of its own.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  interface Request { method?: string; path?: string; headers?: Record<string, string>; body?: string; setupRequest?: (req: Request, context: Record<string, unknown>) => Request }
  interface Options { url: string; connections?: number; pipelining?: number; duration?: number; timeout?: number; requests?: Request[] }
  interface Result { duration: number; errors: number; timeouts: number; non2xx: number; requests: { total: number; average: number } }
  type Instance = EventEmitter & PromiseLike<Result> & { stop(): void };
  function autocannon(opts: Options): Instance;
  export default autocannon;
}
