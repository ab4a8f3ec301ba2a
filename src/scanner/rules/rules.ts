// The one ordered rule table, assembled from the provider files under `providers/`. Order matters: when
// two rules match overlapping text, the earlier (more specific) one wins, so provider rules come first and
// the generic rules last. Every quantifier is bounded so V8's backtracking engine stays linear-ish (see
// engine.safety.test.ts). A rule's id, pattern and examples live in its provider's file.
import type { Rule } from '../types.js';
import { custosOperatorToken, custosApiKey, custosClientSecret, custosRefreshToken } from './providers/custos.js';
import { openaiProjectKey, openaiServiceAccountKey, openaiLegacyKey } from './providers/openai.js';
import { anthropicApiKey } from './providers/anthropic.js';
import { googleApiKey, azureOpenaiKey, awsAccessKeyId, awsSecretAccessKey, gcpServiceAccountKey, azureStorageConnectionString } from './providers/cloud.js';
import { huggingfaceToken, groqApiKey, replicateApiToken, togetherApiKey, fireworksApiKey, openrouterApiKey, perplexityApiKey, xaiApiKey, deepseekApiKey, mistralApiKey, cohereApiKey, pineconeApiKey, wandbApiKey, langsmithApiKey } from './providers/ai-platforms.js';
import { githubToken, githubFineGrainedPat, gitlabToken } from './providers/vcs.js';
import { slackToken, slackWebhook, stripeSecretKey } from './providers/saas.js';
import { privateKey, kubernetesServiceAccountToken, jwtToken } from './providers/keys-and-jwts.js';
import { databaseUrlPassword } from './providers/database.js';
import { dockerConfigAuth, npmToken } from './providers/registries.js';
import { genericSecretUnquoted, genericSecret } from './providers/generic.js';

export const RULES: Rule[] = [
  // Custos' own tokens: checksummed, and the server can revoke a live one.
  custosOperatorToken, custosApiKey, custosClientSecret, custosRefreshToken,
  // AI providers, then the clouds that host their models.
  openaiProjectKey, openaiServiceAccountKey, openaiLegacyKey, anthropicApiKey,
  // Cloud keys (before the AI platforms: an AWS or Google key must not be taken for a generic one).
  googleApiKey, azureOpenaiKey, awsAccessKeyId, awsSecretAccessKey,
  // Other AI platforms.
  huggingfaceToken, groqApiKey, replicateApiToken, togetherApiKey, fireworksApiKey, openrouterApiKey, perplexityApiKey, xaiApiKey, deepseekApiKey, mistralApiKey, cohereApiKey, pineconeApiKey, wandbApiKey, langsmithApiKey,
  // Source hosting and SaaS.
  githubToken, githubFineGrainedPat, gitlabToken, slackToken, slackWebhook, stripeSecretKey,
  // Credential files and key material: a GCP service-account key is a PEM key too, so it comes before `private-key`;
  // a Kubernetes token is a JWT, so it comes before `jwt`.
  gcpServiceAccountKey, azureStorageConnectionString, privateKey, kubernetesServiceAccountToken, jwtToken,
  // Connection strings and registry credentials.
  databaseUrlPassword, dockerConfigAuth, npmToken,
  // Generic rules last: any rule above that matches the same text wins.
  genericSecretUnquoted, genericSecret,
];
