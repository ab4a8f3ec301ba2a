// The approvals module's public surface.
export { createApprovalsModule, type ApprovalsModule, type ApprovalsModuleDeps } from './module.js';
export type { ApprovalDirectory, GrantRecord, GrantsSeam, RegistryPrincipal, RegistryResource } from './ports.js';
export { DEFAULT_APPROVAL_SETTINGS, type ApprovalSettings } from './settings.js';
export { NOTIFICATION_TYPES, type Notification, type NotificationType } from './notifications.js';
export type { WebhookTransport } from './webhooks/index.js';
