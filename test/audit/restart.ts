import { createControlPlane, type ControlPlane } from '../../src/app.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Harness } from '../support/harness.js';

// A second control plane over a harness's store, as after a restart: what the server does at start-up is
// `checkpointNow()` before it listens (app.ts listen), then `start()`.

export interface Restarted {
  cp: ControlPlane;
  call(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** What listen() does before serving: the start-up check and first checkpoint. */
  startUp(): Promise<void>;
  close(): Promise<void>;
}

export async function restart(h: Harness): Promise<Restarted> {
  const config = loadConfig({ dataDir: h.dataDir, databaseUrl: h.databaseUrl, port: '0', logLevel: 'silent' }, {});
  const cp = await createControlPlane(config, { clock: h.clock, logger: createLogger('silent') });
  return {
    cp,
    async call(method, url, body, token = h.adminToken) {
      const res = await cp.http.inject({
        method: method as never, url,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });
      let parsed: unknown;
      try { parsed = JSON.parse(res.body); } catch { parsed = undefined; }
      return { status: res.statusCode, body: parsed };
    },
    startUp: () => cp.checkpointer.checkpointNow(),
    close: () => cp.close(),
  };
}
