import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import {
  campaignSchema, decisionBody, idParams, itemSchema, listCampaignsQuery, listItemsQuery, startCampaignBody, startedCampaignSchema,
} from './reviews.schemas.js';
import type { ReviewService } from './reviews.service.js';

// /v1/review-campaigns and /v1/review-items: one-line handlers over the review service. Everyone with review.read
// sees campaigns and their progress; owner-role operators see only the items sent to them or their teams (the
// service filters). Starting a campaign is review.write (admin, security); deciding is review.decide, and the
// service admits only the item's reviewers besides admin and security.

const tags = ['reviews'];

export function registerReviewRoutes(app: HttpApp, reviews: ReviewService): void {
  app.post('/v1/review-campaigns', { config: { permission: 'review.write', errors: ['principal_not_found', 'principal_not_active'] }, schema: { tags, summary: 'Start an access review campaign: one item per active non-human principal in scope, sent to its owner, owning team or (orphans) security', body: startCampaignBody, response: { 201: startedCampaignSchema } } },
    async (req, reply) => reply.code(201).send(await reviews.start(req.actor, req.body)));
  app.get('/v1/review-campaigns', { config: { permission: 'review.read' }, schema: { tags, summary: 'List review campaigns with their progress', querystring: listCampaignsQuery, response: { 200: pageSchema(campaignSchema) } } },
    async (req) => reviews.listCampaigns(req.actor, req.query));
  app.get('/v1/review-campaigns/:id', { config: { permission: 'review.read', errors: ['not_found'] }, schema: { tags, summary: 'Show a review campaign: counts by status, overdue items', params: idParams, response: { 200: campaignSchema } } },
    async (req) => reviews.getCampaign(req.actor, req.params.id));
  app.get('/v1/review-items', { config: { permission: 'review.read' }, schema: { tags, summary: 'List review items (owners: only those sent to them or their teams)', querystring: listItemsQuery, response: { 200: pageSchema(itemSchema) } } },
    async (req) => reviews.listItems(req.actor, req.query));
  app.get('/v1/review-items/:id', { config: { permission: 'review.read', errors: ['not_found'] }, schema: { tags, summary: 'Show a review item: what the principal held, who reviews it, what was decided', params: idParams, response: { 200: itemSchema } } },
    async (req) => reviews.getItem(req.actor, req.params.id));
  app.post('/v1/review-items/:id/decision', { config: { permission: 'review.decide', errors: ['not_found', 'forbidden', 'review_not_open', 'principal_decommissioned', 'grant_already_revoked'] }, schema: { tags, summary: 'Decide a review item: keep, reduce (subsets of scopes and purposes, grants to revoke) or revoke (every grant, and suspend); the reviewer, admin or security', params: idParams, body: decisionBody, response: { 200: itemSchema } } },
    async (req) => reviews.decide(req.actor, req.params.id, req.body));
}
