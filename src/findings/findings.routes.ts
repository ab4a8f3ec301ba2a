import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import { findingIdParams, findingSchema, listFindingsQuery, reportBody, reportResultSchema, updateFindingBody } from './findings.schemas.js';
import type { FindingService } from './findings.service.js';

const tags = ['findings'];
export const REPORT_BODY_LIMIT = 32 * 1024 * 1024;

export function registerFindingRoutes(app: HttpApp, findings: FindingService): void {
  app.post('/v1/findings/report', {
    bodyLimit: REPORT_BODY_LIMIT,
    // A scan report names files as they were found, control characters and all: they are stored as sent and
    // neutralised when printed (lone surrogates are still refused: they cannot be audited).
    config: { permission: 'finding.write', foreignText: true },
    schema: {
      tags, summary: 'Store a scan\'s findings (deduplicated by fingerprint); live leaked Custos credentials are revoked at once',
      body: reportBody,
      response: { 200: reportResultSchema },
    },
  }, async (req) => findings.report(req.actor, req.body));

  app.get('/v1/findings', {
    config: { permission: 'finding.read' },
    schema: { tags, summary: 'List findings', querystring: listFindingsQuery, response: { 200: pageSchema(findingSchema) } },
  }, async (req) => findings.list(req.query));

  app.get('/v1/findings/:id', {
    config: { permission: 'finding.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show a finding (by id or fingerprint)', params: findingIdParams, response: { 200: findingSchema } },
  }, async (req) => findings.get(req.params.id));

  app.patch('/v1/findings/:id', {
    config: { permission: 'finding.write', errors: ['not_found', 'invalid_transition'] },
    schema: { tags, summary: 'Change a finding\'s status (rotated, accepted, false_positive, open)', params: findingIdParams, body: updateFindingBody, response: { 200: findingSchema } },
  }, async (req) => findings.update(req.actor, req.params.id, req.body));
}
