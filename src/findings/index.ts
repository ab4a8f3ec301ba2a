// The findings module's public surface: the server side of secret scanning.
export { createFindingService, registerFindingRoutes, type FindingService } from './findings.js';
