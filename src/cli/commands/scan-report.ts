import { VERSION } from '../../version.js';
import { toReportBody } from '../../findings/index.js';
import type { ReportOptions, ScanResult } from '../../scanner/index.js';
import { createClient } from '../client.js';

interface ReportResponse {
  received: number;
  created: number;
  updated: number;
  revoked: Array<{ credential_id: string; owner_id: string | null }>;
}

/** `custos scan --report`: stores the findings on the server; prints what happened in one line. */
export async function reportScan(result: ScanResult, opts: ReportOptions, env: NodeJS.ProcessEnv): Promise<string> {
  const client = createClient({ server: opts.server, token: opts.token }, env);
  const body = toReportBody(result, { publicRepo: opts.publicRepo, pushedImage: opts.pushedImage }, VERSION);
  const res = await client.request<ReportResponse>('POST', '/v1/findings/report', body);
  const revoked = res.revoked.length ? `; REVOKED leaked Custos credential(s): ${res.revoked.map((r) => r.credential_id).join(', ')}` : '';
  return `reported ${res.received} finding(s) to ${client.server}: ${res.created} new, ${res.updated} seen before${revoked}`;
}
