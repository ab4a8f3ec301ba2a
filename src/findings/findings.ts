// Transitional: src/scanner/finding.test.ts still imports the report schema from here. Import from
// findings/index.js instead; this file goes once nothing imports it.
export { reportBody } from './findings.schemas.js';
