// Cloud providers: Google API keys and GCP service-account JSON, AWS access keys, Azure OpenAI keys and
// Azure Storage connection strings.
import type { Rule } from '../../types.js';
import { B, E, ASSIGN } from '../pattern-parts.js';
import { B64, HEX, UPPER32, URLSAFE, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424204);
const awsId = `AKIA${r(UPPER32, 16, rnd)}`;
const gcpKeyBody = Array.from({ length: 8 }, () => r(B64, 64, rnd)).join('\\n');

export const googleApiKey: Rule = {
  id: 'google-api-key', description: 'Google API key (Gemini / Google AI Studio / GCP)', provider: 'Google', severity: 'high',
  keywords: ['aiza'],
  pattern: `${B}AIza[0-9A-Za-z_-]{35}${E}`, minEntropy: 3.5,
  examples: {
    truePositives: [`GEMINI_API_KEY=AIza${r(URLSAFE, 35, rnd)}`],
    falsePositives: ['AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'],
  },
};

export const azureOpenaiKey: Rule = {
  id: 'azure-openai-key', description: 'Azure OpenAI key next to an Azure OpenAI endpoint', provider: 'Microsoft Azure', severity: 'critical',
  keywords: ['openai.azure.com', 'cognitiveservices.azure.com'], flags: 'i', minEntropy: 3,
  pattern: `(?:api[_-]?key|subscription[_-]?key|azure[_-]?openai[_-]?key|ocp-apim-subscription-key)${ASSIGN}(?<secret>[a-f0-9]{32}|[A-Za-z0-9]{84})${E}`,
  // "Next to" the endpoint: within ~15 lines either side, not anywhere in a large file.
  validate: (_s, m) => /(?:openai|cognitiveservices)\.azure\.com/i.test(m.input.slice(Math.max(0, m.index - 1500), m.index + 1500)),
  examples: {
    truePositives: [`AZURE_OPENAI_ENDPOINT=https://contoso.openai.azure.com/\nAZURE_OPENAI_API_KEY=${r(HEX, 32, rnd)}`],
    falsePositives: [`api_key = "${r(HEX, 32, rnd)}"  # no Azure endpoint in this file`,
      `AZURE_OPENAI_ENDPOINT=https://contoso.openai.azure.com/\n${'# filler line to move the key away from the endpoint\n'.repeat(60)}api_key = "${r(HEX, 32, rnd)}"`],
  },
};

export const awsAccessKeyId: Rule = {
  id: 'aws-access-key-id', description: 'AWS access key id (Bedrock and all AWS APIs)', provider: 'AWS', severity: 'high',
  anchored: true,
  keywords: ['akia', 'asia', 'abia', 'acca'],
  pattern: `${B}(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}${E}`,
  allow: [/EXAMPLE$/],
  examples: {
    truePositives: [`aws_access_key_id = ${awsId}`],
    falsePositives: ['AKIAIOSFODNN7EXAMPLE', 'AKIA1234'],
  },
};

export const awsSecretAccessKey: Rule = {
  id: 'aws-secret-access-key', description: 'AWS secret access key', provider: 'AWS', severity: 'critical',
  keywords: ['secret_access_key', 'secretaccesskey', 'aws_secret', 'secret-access-key'], flags: 'i', minEntropy: 4,
  pattern: `(?:secret_access_key|secretaccesskey|aws_secret|secret-access-key)${ASSIGN}(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])`,
  allow: [/EXAMPLEKEY$/],
  examples: {
    truePositives: [`aws_access_key_id = ${awsId}\naws_secret_access_key = ${r(B64, 40, rnd)}`],
    falsePositives: ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  },
};

export const gcpServiceAccountKey: Rule = {
  id: 'gcp-service-account-key', description: 'GCP service-account JSON private key', provider: 'Google Cloud', severity: 'critical',
  keywords: ['service_account'],
  pattern: `"private_key"\\s{0,5}:\\s{0,5}"(?<secret>-----BEGIN PRIVATE KEY-----(?:\\\\n)?[A-Za-z0-9+/=\\\\n]{64,8000}-----END PRIVATE KEY-----(?:\\\\n)?)"`,
  examples: {
    truePositives: [`{"type": "service_account", "project_id": "p", "private_key_id": "${r(HEX, 40, rnd)}",\n "private_key": "-----BEGIN PRIVATE KEY-----\\n${gcpKeyBody}\\n-----END PRIVATE KEY-----\\n"}`],
    falsePositives: ['{"type": "service_account", "private_key": ""}'],
  },
};

export const azureStorageConnectionString: Rule = {
  id: 'azure-storage-connection-string', description: 'Azure Storage connection string with account key', provider: 'Microsoft Azure', severity: 'critical',
  keywords: ['accountkey='], flags: 'i',
  pattern: `AccountName=[a-z0-9]{3,24};AccountKey=(?<secret>[A-Za-z0-9+/]{86}==)`,
  examples: { truePositives: [`DefaultEndpointsProtocol=https;AccountName=ailogs;AccountKey=${r(B64, 86, rnd)}==;EndpointSuffix=core.windows.net`], falsePositives: ['AccountName=devstoreaccount1;AccountKey=<key>'] },
};
