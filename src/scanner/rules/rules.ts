// The rule set as data. Order matters: when two rules match overlapping text, the earlier
// (more specific) one wins, so provider rules come first and the generic rule last.
// Every quantifier is bounded so V8's backtracking engine stays linear-ish (see engine.safety.test.ts).
import type { Rule } from '../types.js';
import { hasTrailingCrc32 } from './checksum.js';
import { parseCustosToken } from '../../platform/credential-format.js';
import { quotedAssignmentSite, unquotedAssignmentSite } from './site.js';
import {
  ALNUM, B64, HEX, LETTERS, UPPER32, URLSAFE,
  checksummedToken, fakeCustosToken, fakeJwt, fakePem, randomString as r, seeded,
} from './fake.js';

const rnd = seeded(424242);

/** Start boundary: not preceded by a token character. */
const B = '(?<![A-Za-z0-9_])';
/** End boundary: not followed by a token character. */
const E = '(?![A-Za-z0-9_])';
/** `name ... = value` glue for contextual rules: optional quote, separator, optional quote. */
const ASSIGN = `[A-Za-z0-9_.-]{0,30}["']?\\s{0,5}(?:=|:=|:|=>|,)\\s{0,5}["'\`]?`;

const PLACEHOLDER = [
  /^(?:x+|\*+|#+|\.+|0+|1234.*)$/i,
  /(?:example|sample|dummy|placeholder|changeme|your[_-]?|redacted|xxxx|<|>|\$\{|\{\{|%\()/i,
];

function decodeJsonSegment(seg: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isKubernetesSaJwt(token: string): boolean {
  const payload = decodeJsonSegment(token.split('.')[1] ?? '');
  if (!payload) return false;
  return payload.iss === 'kubernetes/serviceaccount' || 'kubernetes.io' in payload ||
    'kubernetes.io/serviceaccount/namespace' in payload;
}

function isJwt(token: string): boolean {
  const [h, p] = token.split('.');
  const header = decodeJsonSegment(h ?? '');
  return !!header && typeof header.alg === 'string' && !!decodeJsonSegment(p ?? '');
}

/** Generic values must look machine-made: upper, lower and digits mixed, or long hex. */
function looksRandom(s: string): boolean {
  const up = /[A-Z]/.test(s), low = /[a-z]/.test(s), dig = /[0-9]/.test(s);
  if (up && low && dig) return true;
  return s.length >= 20 && dig && /^(?:[a-f0-9]+|[A-F0-9]+)$/.test(s);
}

const awsId = `AKIA${r(UPPER32, 16, rnd)}`;
const ghp = checksummedToken('ghp_', rnd);
const npmTok = checksummedToken('npm_', rnd);
const pemKey = fakePem('RSA PRIVATE KEY', rnd);
const sshKey = fakePem('OPENSSH PRIVATE KEY', rnd);
const jwt = fakeJwt({ sub: 'agent-7', iss: 'https://issuer.example.net', exp: 1900000000 }, rnd);
const k8sJwt = fakeJwt({ iss: 'kubernetes/serviceaccount', 'kubernetes.io/serviceaccount/namespace': 'default' }, rnd);
const gcpKeyBody = Array.from({ length: 8 }, () => r(B64, 64, rnd)).join('\\n');
const dockerAuth = Buffer.from(`deploy:${r(ALNUM, 24, rnd)}`).toString('base64');

export const RULES: Rule[] = [
  {
    id: 'custos-operator-token', description: 'Custos operator API token', provider: 'Custos', severity: 'critical',
    keywords: ['custos_op_'], checksum: true,
    pattern: `${B}custos_op_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}${E}`,
    validate: (s) => parseCustosToken(s)?.kind === 'op',
    examples: {
      truePositives: [`CUSTOS_TOKEN=${fakeCustosToken('op', rnd)}`],
      falsePositives: ['custos_op_aaaaaaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000', 'custos_op_<id>_<secret>_<crc>'],
    },
  },
  {
    id: 'custos-api-key', description: 'Custos API key', provider: 'Custos', severity: 'critical',
    keywords: ['custos_ak_'], checksum: true,
    pattern: `${B}custos_ak_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}${E}`,
    validate: (s) => parseCustosToken(s)?.kind === 'ak',
    examples: {
      truePositives: [`key: "${fakeCustosToken('ak', rnd)}"`],
      falsePositives: [`custos_ak_${'b'.repeat(16)}_${'Z'.repeat(32)}_ABCDEF`],
    },
  },
  {
    id: 'openai-project-key', description: 'OpenAI project API key', provider: 'OpenAI', severity: 'critical',
    keywords: ['sk-proj-'], minEntropy: 4,
    pattern: `${B}sk-proj-[A-Za-z0-9_-]{40,250}${E}`,
    examples: {
      truePositives: [`OPENAI_API_KEY=sk-proj-${r(URLSAFE, 74, rnd)}T3BlbkFJ${r(URLSAFE, 74, rnd)}`],
      falsePositives: ['sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'const prefix = "sk-proj-"'],
    },
  },
  {
    id: 'openai-service-account-key', description: 'OpenAI service-account or admin key', provider: 'OpenAI', severity: 'critical',
    keywords: ['sk-svcacct-', 'sk-admin-'], minEntropy: 4,
    pattern: `${B}sk-(?:svcacct|admin)-[A-Za-z0-9_-]{40,250}${E}`,
    examples: {
      truePositives: [`key = "sk-svcacct-${r(URLSAFE, 58, rnd)}T3BlbkFJ${r(URLSAFE, 58, rnd)}"`],
      falsePositives: ['sk-svcacct-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    },
  },
  {
    id: 'openai-legacy-key', description: 'OpenAI legacy user API key', provider: 'OpenAI', severity: 'critical',
    keywords: ['t3blbkfj'],
    pattern: `${B}sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}${E}`,
    examples: {
      truePositives: [`openai.api_key = "sk-${r(ALNUM, 20, rnd)}T3BlbkFJ${r(ALNUM, 20, rnd)}"`],
      falsePositives: [`sk-${r(ALNUM, 48, rnd)}`],
    },
  },
  {
    id: 'anthropic-api-key', description: 'Anthropic API or admin key', provider: 'Anthropic', severity: 'critical',
    keywords: ['sk-ant-'], minEntropy: 4,
    pattern: `${B}sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,120}${E}`,
    examples: {
      truePositives: [`ANTHROPIC_API_KEY="sk-ant-api03-${r(URLSAFE, 93, rnd)}AA"`],
      falsePositives: ['sk-ant-api03-...', `sk-ant-api03-${'A'.repeat(95)}`],
    },
  },
  {
    id: 'google-api-key', description: 'Google API key (Gemini / Google AI Studio / GCP)', provider: 'Google', severity: 'high',
    keywords: ['aiza'],
    pattern: `${B}AIza[0-9A-Za-z_-]{35}${E}`, minEntropy: 3.5,
    examples: {
      truePositives: [`GEMINI_API_KEY=AIza${r(URLSAFE, 35, rnd)}`],
      falsePositives: ['AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'],
    },
  },
  {
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
  },
  {
    id: 'aws-access-key-id', description: 'AWS access key id (Bedrock and all AWS APIs)', provider: 'AWS', severity: 'high',
    anchored: true,
    keywords: ['akia', 'asia', 'abia', 'acca'],
    pattern: `${B}(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}${E}`,
    allow: [/EXAMPLE$/],
    examples: {
      truePositives: [`aws_access_key_id = ${awsId}`],
      falsePositives: ['AKIAIOSFODNN7EXAMPLE', 'AKIA1234'],
    },
  },
  {
    id: 'aws-secret-access-key', description: 'AWS secret access key', provider: 'AWS', severity: 'critical',
    keywords: ['secret_access_key', 'secretaccesskey', 'aws_secret', 'secret-access-key'], flags: 'i', minEntropy: 4,
    pattern: `(?:secret_access_key|secretaccesskey|aws_secret|secret-access-key)${ASSIGN}(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])`,
    allow: [/EXAMPLEKEY$/],
    examples: {
      truePositives: [`aws_access_key_id = ${awsId}\naws_secret_access_key = ${r(B64, 40, rnd)}`],
      falsePositives: ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    },
  },
  {
    id: 'huggingface-token', description: 'Hugging Face access token', provider: 'Hugging Face', severity: 'high',
    keywords: ['hf_', 'api_org_'], minEntropy: 3.5,
    pattern: `${B}(?:hf_[A-Za-z0-9]{34}|api_org_[A-Za-z0-9]{34})${E}`,
    examples: {
      truePositives: [`HF_TOKEN=hf_${r(LETTERS, 34, rnd)}`],
      falsePositives: ['hf_hub_download_with_retries_and_cache', `hf_${'a'.repeat(34)}`],
    },
  },
  {
    id: 'groq-api-key', description: 'Groq API key', provider: 'Groq', severity: 'high',
    keywords: ['gsk_'], minEntropy: 3.5,
    pattern: `${B}gsk_[A-Za-z0-9]{52}${E}`,
    examples: { truePositives: [`GROQ_API_KEY=gsk_${r(ALNUM, 52, rnd)}`], falsePositives: [`gsk_${'0'.repeat(52)}`] },
  },
  {
    id: 'replicate-api-token', description: 'Replicate API token', provider: 'Replicate', severity: 'high',
    keywords: ['r8_'], minEntropy: 3.5,
    pattern: `${B}r8_[A-Za-z0-9]{37}${E}`,
    examples: { truePositives: [`REPLICATE_API_TOKEN=r8_${r(ALNUM, 37, rnd)}`], falsePositives: ['r8_register_value_for_the_cpu_register'] },
  },
  {
    id: 'together-api-key', description: 'Together AI API key', provider: 'Together AI', severity: 'high',
    keywords: ['tgp_v1_', 'together'], flags: '', minEntropy: 3,
    pattern: `(?:${B}(?<secret>tgp_v1_[A-Za-z0-9_-]{43})${E}|(?:TOGETHER|together)[A-Za-z0-9_.-]{0,20}(?:KEY|key|Key|TOKEN|token)${ASSIGN}(?<secret2>[a-f0-9]{64})${E})`,
    examples: {
      truePositives: [`TOGETHER_API_KEY=tgp_v1_${r(URLSAFE, 43, rnd)}`, `together_api_key: "${r(HEX, 64, rnd)}"`],
      falsePositives: ['together we build things'],
    },
  },
  {
    id: 'fireworks-api-key', description: 'Fireworks AI API key', provider: 'Fireworks AI', severity: 'high',
    keywords: ['fw_'], minEntropy: 3.5,
    pattern: `${B}fw_[A-Za-z0-9]{24}${E}`,
    examples: { truePositives: [`FIREWORKS_API_KEY=fw_${r(ALNUM, 24, rnd)}`], falsePositives: ['fw_update_firmware_image_x'] },
  },
  {
    id: 'openrouter-api-key', description: 'OpenRouter API key', provider: 'OpenRouter', severity: 'high',
    keywords: ['sk-or-'],
    pattern: `${B}sk-or-v1-[a-f0-9]{64}${E}`, minEntropy: 3,
    examples: { truePositives: [`OPENROUTER_API_KEY=sk-or-v1-${r(HEX, 64, rnd)}`], falsePositives: [`sk-or-v1-${'0'.repeat(64)}`] },
  },
  {
    id: 'perplexity-api-key', description: 'Perplexity API key', provider: 'Perplexity', severity: 'high',
    keywords: ['pplx-'], minEntropy: 3.5,
    pattern: `${B}pplx-[A-Za-z0-9]{48}${E}`,
    examples: { truePositives: [`PPLX_API_KEY=pplx-${r(ALNUM, 48, rnd)}`], falsePositives: [`pplx-${'x'.repeat(48)}`] },
  },
  {
    id: 'xai-api-key', description: 'xAI (Grok) API key', provider: 'xAI', severity: 'high',
    keywords: ['xai-'], minEntropy: 4,
    pattern: `${B}xai-[A-Za-z0-9]{80}${E}`,
    examples: { truePositives: [`XAI_API_KEY=xai-${r(ALNUM, 80, rnd)}`], falsePositives: ['xai-sdk-python'] },
  },
  {
    id: 'deepseek-api-key', description: 'DeepSeek API key (sk- key next to DeepSeek)', provider: 'DeepSeek', severity: 'high',
    keywords: ['deepseek'], flags: 'i', minEntropy: 3,
    pattern: `deepseek${ASSIGN}(?<secret>sk-[a-f0-9]{32})${E}`,
    examples: { truePositives: [`DEEPSEEK_API_KEY=sk-${r(HEX, 32, rnd)}`], falsePositives: ['deepseek_model = "deepseek-chat"'] },
  },
  {
    id: 'mistral-api-key', description: 'Mistral AI API key', provider: 'Mistral AI', severity: 'high',
    keywords: ['mistral'], flags: 'i', minEntropy: 3.5,
    pattern: `mistral${ASSIGN}(?<secret>[A-Za-z0-9]{32})${E}`,
    examples: { truePositives: [`MISTRAL_API_KEY="${r(ALNUM, 32, rnd)}"`], falsePositives: ['mistral_model = "mistral-large-latest"'] },
  },
  {
    id: 'cohere-api-key', description: 'Cohere API key', provider: 'Cohere', severity: 'high',
    keywords: ['cohere', 'co_api_key'], flags: 'i', minEntropy: 3.5,
    pattern: `(?:cohere|co_api_key)${ASSIGN}(?<secret>[A-Za-z0-9]{40})${E}`,
    examples: { truePositives: [`COHERE_API_KEY=${r(ALNUM, 40, rnd)}`], falsePositives: ['import cohere; co = cohere.Client(os.environ["COHERE_API_KEY"])'] },
  },
  {
    id: 'pinecone-api-key', description: 'Pinecone API key', provider: 'Pinecone', severity: 'high',
    keywords: ['pcsk_', 'pinecone'], minEntropy: 3.5,
    pattern: `(?:${B}(?<secret>pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{50,80})${E}|(?:PINECONE|pinecone)${ASSIGN}(?<secret2>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})${E})`,
    examples: {
      truePositives: [`PINECONE_API_KEY=pcsk_${r(ALNUM, 6, rnd)}_${r(ALNUM, 63, rnd)}`],
      falsePositives: ['pinecone_index = "products"'],
    },
  },
  {
    id: 'wandb-api-key', description: 'Weights & Biases API key', provider: 'Weights & Biases', severity: 'high',
    keywords: ['wandb'], flags: 'i', minEntropy: 3,
    pattern: `wandb${ASSIGN}(?<secret>[a-f0-9]{40}|(?:wandb_)?v1_[A-Za-z0-9_]{40,90})${E}`,
    examples: { truePositives: [`WANDB_API_KEY=${r(HEX, 40, rnd)}`], falsePositives: ['wandb_project = "llm-finetune"'] },
  },
  {
    id: 'langsmith-api-key', description: 'LangSmith API key', provider: 'LangChain', severity: 'high',
    keywords: ['lsv2_'],
    pattern: `${B}lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}${E}`, minEntropy: 3,
    examples: { truePositives: [`LANGCHAIN_API_KEY=lsv2_pt_${r(HEX, 32, rnd)}_${r(HEX, 10, rnd)}`], falsePositives: ['lsv2_pt_<your key>'] },
  },
  {
    id: 'github-token', description: 'GitHub token (classic, OAuth, app, refresh)', provider: 'GitHub', severity: 'critical',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], checksum: true,
    pattern: `${B}gh[pousr]_[A-Za-z0-9]{36}${E}`,
    validate: (s) => hasTrailingCrc32(s, 4),
    examples: {
      truePositives: [`GITHUB_TOKEN=${ghp}`],
      // Right shape, wrong checksum.
      falsePositives: [`ghp_${r(ALNUM, 30, rnd)}ABCDEF`],
    },
  },
  {
    id: 'github-fine-grained-pat', description: 'GitHub fine-grained personal access token', provider: 'GitHub', severity: 'critical',
    keywords: ['github_pat_'], minEntropy: 4,
    pattern: `${B}github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}${E}`,
    examples: { truePositives: [`token: github_pat_${r(ALNUM, 22, rnd)}_${r(ALNUM, 59, rnd)}`], falsePositives: ['github_pat_xxxxxxxx'] },
  },
  {
    id: 'gitlab-token', description: 'GitLab token (personal, pipeline trigger, deploy, runner)', provider: 'GitLab', severity: 'critical',
    keywords: ['glpat-', 'glptt-', 'gldt-', 'glrt-'], minEntropy: 3.5,
    pattern: `${B}(?:glpat|glptt|gldt|glrt)-[A-Za-z0-9_-]{20,64}(?:\\.[0-9a-z]{2}\\.[0-9a-z]{9})?${E}`,
    examples: { truePositives: [`GITLAB_TOKEN=glpat-${r(URLSAFE, 20, rnd)}`], falsePositives: ['glpat-xxxxxxxxxxxxxxxxxxxx'] },
  },
  {
    id: 'slack-token', description: 'Slack token', provider: 'Slack', severity: 'high',
    keywords: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xoxe'], minEntropy: 3,
    pattern: `${B}xox(?:[baprs]|e(?:\\.xox[bp])?)-[0-9]{1,2}-?[0-9A-Za-z-]{10,250}${E}`,
    examples: { truePositives: [`SLACK_BOT_TOKEN=xoxb-${r('0123456789', 12, rnd)}-${r('0123456789', 13, rnd)}-${r(ALNUM, 24, rnd)}`], falsePositives: ['xoxb-your-token-here'] },
  },
  {
    id: 'slack-webhook', description: 'Slack incoming webhook URL', provider: 'Slack', severity: 'medium',
    keywords: ['hooks.slack.com'],
    pattern: `https://hooks\\.slack\\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}`,
    examples: { truePositives: [`url = "https://hooks.slack.com/services/T${r(UPPER32, 10, rnd)}/B${r(UPPER32, 10, rnd)}/${r(ALNUM, 24, rnd)}"`], falsePositives: ['https://hooks.slack.com/services/...'] },
  },
  {
    id: 'stripe-secret-key', description: 'Stripe live secret or restricted key', provider: 'Stripe', severity: 'critical',
    keywords: ['sk_live_', 'rk_live_'], minEntropy: 3.5,
    pattern: `${B}(?:sk|rk)_live_[A-Za-z0-9]{24,247}${E}`,
    examples: { truePositives: [`STRIPE_KEY=sk_live_${r(ALNUM, 99, rnd)}`], falsePositives: [`sk_test_${r(ALNUM, 24, rnd)}`] },
  },
  {
    id: 'gcp-service-account-key', description: 'GCP service-account JSON private key', provider: 'Google Cloud', severity: 'critical',
    keywords: ['service_account'],
    pattern: `"private_key"\\s{0,5}:\\s{0,5}"(?<secret>-----BEGIN PRIVATE KEY-----(?:\\\\n)?[A-Za-z0-9+/=\\\\n]{64,8000}-----END PRIVATE KEY-----(?:\\\\n)?)"`,
    examples: {
      truePositives: [`{"type": "service_account", "project_id": "p", "private_key_id": "${r(HEX, 40, rnd)}",\n "private_key": "-----BEGIN PRIVATE KEY-----\\n${gcpKeyBody}\\n-----END PRIVATE KEY-----\\n"}`],
      falsePositives: ['{"type": "service_account", "private_key": ""}'],
    },
  },
  {
    id: 'azure-storage-connection-string', description: 'Azure Storage connection string with account key', provider: 'Microsoft Azure', severity: 'critical',
    keywords: ['accountkey='], flags: 'i',
    pattern: `AccountName=[a-z0-9]{3,24};AccountKey=(?<secret>[A-Za-z0-9+/]{86}==)`,
    examples: { truePositives: [`DefaultEndpointsProtocol=https;AccountName=ailogs;AccountKey=${r(B64, 86, rnd)}==;EndpointSuffix=core.windows.net`], falsePositives: ['AccountName=devstoreaccount1;AccountKey=<key>'] },
  },
  {
    id: 'private-key', description: 'Private key (PEM or OpenSSH)', provider: 'Cryptographic key', severity: 'critical',
    keywords: ['private key-----'],
    pattern: `-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\\r\\n\\t :,.-]{64,8192}?-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----`,
    examples: {
      truePositives: [pemKey, `ssh_key: |\n${sshKey}`],
      falsePositives: ['-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----', '-----BEGIN PUBLIC KEY-----'],
    },
  },
  {
    id: 'kubernetes-service-account-token', description: 'Kubernetes service-account token', provider: 'Kubernetes', severity: 'high',
    anchored: true,
    keywords: ['eyj'],
    pattern: `${B}eyJ[A-Za-z0-9_-]{8,2000}\\.eyJ[A-Za-z0-9_-]{8,8000}\\.[A-Za-z0-9_-]{16,1000}${E}`,
    validate: (s) => isJwt(s) && isKubernetesSaJwt(s),
    examples: { truePositives: [`token: ${k8sJwt}`], falsePositives: [`token: ${jwt}`] },
  },
  {
    id: 'jwt', description: 'JSON Web Token (including Custos access tokens)', provider: 'JWT', severity: 'medium',
    anchored: true,
    keywords: ['eyj'],
    pattern: `${B}eyJ[A-Za-z0-9_-]{8,2000}\\.eyJ[A-Za-z0-9_-]{8,8000}\\.[A-Za-z0-9_-]{16,1000}${E}`,
    validate: (s) => isJwt(s),
    examples: { truePositives: [`Authorization: Bearer ${jwt}`], falsePositives: ['eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.not-base64-json!!'] },
  },
  {
    id: 'database-url-password', description: 'Database URL with an embedded password', provider: 'Database', severity: 'high',
    keywords: ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'amqp', 'mssql', 'sqlserver'], flags: 'i',
    pattern: `(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver)://[^\\s:/@'"]{1,64}:(?<secret>[^\\s:/@'"$<>{}]{3,128})@[A-Za-z0-9.-]{1,255}`,
    allow: [/^(?:password|pass|passwd|pwd|secret|changeme|postgres|root|admin|user|example|test|\*+|x+)$/i],
    examples: {
      truePositives: [`DATABASE_URL=postgres://app:${r(ALNUM, 18, rnd)}@db.internal:5432/app`],
      falsePositives: ['postgres://app:password@localhost/app', 'postgres://app:${DB_PASSWORD}@db/app', 'postgres://localhost/app'],
    },
  },
  {
    id: 'docker-config-auth', description: 'Docker config.json registry auth', provider: 'Docker', severity: 'high',
    keywords: ['"auths"'],
    pattern: `"auth"\\s{0,5}:\\s{0,5}"(?<secret>[A-Za-z0-9+/]{8,600}={0,2})"`,
    validate: (s) => /^[^:\s]{1,128}:.{3,}$/s.test(Buffer.from(s, 'base64').toString('utf8')),
    examples: {
      truePositives: [`{"auths": {"registry.example.com": {"auth": "${dockerAuth}"}}}`],
      falsePositives: ['{"auths": {"ghcr.io": {"auth": ""}}}', '{"auths": {"r": {"auth": "bm90LWEtcGFpcg=="}}}'],
    },
  },
  {
    id: 'npm-token', description: 'npm access token', provider: 'npm', severity: 'critical',
    keywords: ['npm_'], checksum: true,
    pattern: `${B}npm_[A-Za-z0-9]{36}${E}`,
    validate: (s) => hasTrailingCrc32(s, 4),
    examples: { truePositives: [`//registry.npmjs.org/:_authToken=${npmTok}`], falsePositives: ['npm_config_cache_directory_path_value_x'] },
  },
  {
    id: 'generic-secret-unquoted', description: 'High-entropy unquoted value assigned to a secret-looking name in a .env/YAML/tfvars/properties file',
    provider: 'Generic', severity: 'medium',
    keywords: ['secret', 'password', 'passwd', 'token', 'api_key', 'apikey', 'api-key', 'access_key', 'accesskey', 'access-key',
      'auth_key', 'authkey', 'auth-key', 'credential'],
    flags: 'im', minEntropy: 3.5, anchored: true, site: unquotedAssignmentSite,
    // Config files put values unquoted (KEY=value, key: value). Tried at each keyword; the
    // lookbehind checks the keyword sits in a key at the start of a line.
    pathPattern: /(?:^|\/)\.env(?:\.[^/]*)?$|\.(?:env|tfvars|ya?ml|properties|ini|cfg|conf|toml)$/i,
    examplePath: 'deploy/.env',
    pattern: `(?<=^[ \\t]{0,20}(?:export[ \\t]{1,5}|-[ \\t]{1,5})?[A-Za-z0-9_.-]{0,40})(?:secret|passw(?:or)?d|token|api[_-]?key|access[_-]?key|auth[_-]?key|credentials?)[A-Za-z0-9_.-]{0,30}[ \\t]{0,5}[=:][ \\t]{0,5}(?<secret>[A-Za-z0-9+/_.~!@#%^&*=-]{16,128})[ \\t]*\r?$`,
    validate: looksRandom,
    allow: PLACEHOLDER,
    examples: {
      truePositives: [`DB_PASSWORD=${r(ALNUM, 24, rnd)}`, `env:\n  - SERVICE_TOKEN: ${r(ALNUM, 30, rnd)}`],
      falsePositives: ['DB_PASSWORD=${DB_PASSWORD}', 'password_file: /run/secrets/db_password_2024', 'TOKEN_TTL=3600'],
    },
  },
  {
    id: 'generic-secret', description: 'High-entropy value assigned to a secret-looking name', provider: 'Generic', severity: 'medium',
    keywords: ['secret', 'password', 'passwd', 'token', 'api_key', 'apikey', 'api-key', 'access_key', 'accesskey', 'access-key',
      'auth_key', 'authkey', 'auth-key', 'credential'],
    flags: 'i', minEntropy: 3.5, anchored: true, site: quotedAssignmentSite,
    pattern: `(?:secret|passw(?:or)?d|token|api[_-]?key|access[_-]?key|auth[_-]?key|credentials?)[A-Za-z0-9_.-]{0,30}["'\`]?\\s{0,5}(?:=|:=|:|=>)\\s{0,5}["'\`](?<secret>[A-Za-z0-9+/_.~!@#%^&*=-]{16,128})["'\`]`,
    validate: looksRandom,
    allow: PLACEHOLDER,
    examples: {
      truePositives: [`client_secret = "${r(ALNUM, 32, rnd)}"`, `db:\n  password: '${r(ALNUM, 20, rnd)}'`],
      falsePositives: ['password = "correct-horse-battery"', 'token = "${GITHUB_TOKEN}"', 'api_key = "your-api-key-here-1234"', 'secret_name = "prod-db-credentials-v2"'],
    },
  },
];
