// AI platforms other than OpenAI and Anthropic: model hubs, inference APIs, vector stores, experiment trackers.
import type { Rule } from '../../types.js';
import { B, E, ASSIGN } from '../pattern-parts.js';
import { ALNUM, HEX, LETTERS, URLSAFE, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424205);

export const huggingfaceToken: Rule = {
  id: 'huggingface-token', description: 'Hugging Face access token', provider: 'Hugging Face', severity: 'high',
  keywords: ['hf_', 'api_org_'], minEntropy: 3.5,
  pattern: `${B}(?:hf_[A-Za-z0-9]{34}|api_org_[A-Za-z0-9]{34})${E}`,
  examples: {
    truePositives: [`HF_TOKEN=hf_${r(LETTERS, 34, rnd)}`],
    falsePositives: ['hf_hub_download_with_retries_and_cache', `hf_${'a'.repeat(34)}`],
  },
};

export const groqApiKey: Rule = {
  id: 'groq-api-key', description: 'Groq API key', provider: 'Groq', severity: 'high',
  keywords: ['gsk_'], minEntropy: 3.5,
  pattern: `${B}gsk_[A-Za-z0-9]{52}${E}`,
  examples: { truePositives: [`GROQ_API_KEY=gsk_${r(ALNUM, 52, rnd)}`], falsePositives: [`gsk_${'0'.repeat(52)}`] },
};

export const replicateApiToken: Rule = {
  id: 'replicate-api-token', description: 'Replicate API token', provider: 'Replicate', severity: 'high',
  keywords: ['r8_'], minEntropy: 3.5,
  pattern: `${B}r8_[A-Za-z0-9]{37}${E}`,
  examples: { truePositives: [`REPLICATE_API_TOKEN=r8_${r(ALNUM, 37, rnd)}`], falsePositives: ['r8_register_value_for_the_cpu_register'] },
};

export const togetherApiKey: Rule = {
  id: 'together-api-key', description: 'Together AI API key', provider: 'Together AI', severity: 'high',
  keywords: ['tgp_v1_', 'together'], flags: '', minEntropy: 3,
  pattern: `(?:${B}(?<secret>tgp_v1_[A-Za-z0-9_-]{43})${E}|(?:TOGETHER|together)[A-Za-z0-9_.-]{0,20}(?:KEY|key|Key|TOKEN|token)${ASSIGN}(?<secret2>[a-f0-9]{64})${E})`,
  examples: {
    truePositives: [`TOGETHER_API_KEY=tgp_v1_${r(URLSAFE, 43, rnd)}`, `together_api_key: "${r(HEX, 64, rnd)}"`],
    falsePositives: ['together we build things'],
  },
};

export const fireworksApiKey: Rule = {
  id: 'fireworks-api-key', description: 'Fireworks AI API key', provider: 'Fireworks AI', severity: 'high',
  keywords: ['fw_'], minEntropy: 3.5,
  pattern: `${B}fw_[A-Za-z0-9]{24}${E}`,
  examples: { truePositives: [`FIREWORKS_API_KEY=fw_${r(ALNUM, 24, rnd)}`], falsePositives: ['fw_update_firmware_image_x'] },
};

export const openrouterApiKey: Rule = {
  id: 'openrouter-api-key', description: 'OpenRouter API key', provider: 'OpenRouter', severity: 'high',
  keywords: ['sk-or-'],
  pattern: `${B}sk-or-v1-[a-f0-9]{64}${E}`, minEntropy: 3,
  examples: { truePositives: [`OPENROUTER_API_KEY=sk-or-v1-${r(HEX, 64, rnd)}`], falsePositives: [`sk-or-v1-${'0'.repeat(64)}`] },
};

export const perplexityApiKey: Rule = {
  id: 'perplexity-api-key', description: 'Perplexity API key', provider: 'Perplexity', severity: 'high',
  keywords: ['pplx-'], minEntropy: 3.5,
  pattern: `${B}pplx-[A-Za-z0-9]{48}${E}`,
  examples: { truePositives: [`PPLX_API_KEY=pplx-${r(ALNUM, 48, rnd)}`], falsePositives: [`pplx-${'x'.repeat(48)}`] },
};

export const xaiApiKey: Rule = {
  id: 'xai-api-key', description: 'xAI (Grok) API key', provider: 'xAI', severity: 'high',
  keywords: ['xai-'], minEntropy: 4,
  pattern: `${B}xai-[A-Za-z0-9]{80}${E}`,
  examples: { truePositives: [`XAI_API_KEY=xai-${r(ALNUM, 80, rnd)}`], falsePositives: ['xai-sdk-python'] },
};

export const deepseekApiKey: Rule = {
  id: 'deepseek-api-key', description: 'DeepSeek API key (sk- key next to DeepSeek)', provider: 'DeepSeek', severity: 'high',
  keywords: ['deepseek'], flags: 'i', minEntropy: 3,
  pattern: `deepseek${ASSIGN}(?<secret>sk-[a-f0-9]{32})${E}`,
  examples: { truePositives: [`DEEPSEEK_API_KEY=sk-${r(HEX, 32, rnd)}`], falsePositives: ['deepseek_model = "deepseek-chat"'] },
};

export const mistralApiKey: Rule = {
  id: 'mistral-api-key', description: 'Mistral AI API key', provider: 'Mistral AI', severity: 'high',
  keywords: ['mistral'], flags: 'i', minEntropy: 3.5,
  pattern: `mistral${ASSIGN}(?<secret>[A-Za-z0-9]{32})${E}`,
  examples: { truePositives: [`MISTRAL_API_KEY="${r(ALNUM, 32, rnd)}"`], falsePositives: ['mistral_model = "mistral-large-latest"'] },
};

export const cohereApiKey: Rule = {
  id: 'cohere-api-key', description: 'Cohere API key', provider: 'Cohere', severity: 'high',
  keywords: ['cohere', 'co_api_key'], flags: 'i', minEntropy: 3.5,
  pattern: `(?:cohere|co_api_key)${ASSIGN}(?<secret>[A-Za-z0-9]{40})${E}`,
  examples: { truePositives: [`COHERE_API_KEY=${r(ALNUM, 40, rnd)}`], falsePositives: ['import cohere; co = cohere.Client(os.environ["COHERE_API_KEY"])'] },
};

export const pineconeApiKey: Rule = {
  id: 'pinecone-api-key', description: 'Pinecone API key', provider: 'Pinecone', severity: 'high',
  keywords: ['pcsk_', 'pinecone'], minEntropy: 3.5,
  pattern: `(?:${B}(?<secret>pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{50,80})${E}|(?:PINECONE|pinecone)${ASSIGN}(?<secret2>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})${E})`,
  examples: {
    truePositives: [`PINECONE_API_KEY=pcsk_${r(ALNUM, 6, rnd)}_${r(ALNUM, 63, rnd)}`],
    falsePositives: ['pinecone_index = "products"'],
  },
};

export const wandbApiKey: Rule = {
  id: 'wandb-api-key', description: 'Weights & Biases API key', provider: 'Weights & Biases', severity: 'high',
  keywords: ['wandb'], flags: 'i', minEntropy: 3,
  pattern: `wandb${ASSIGN}(?<secret>[a-f0-9]{40}|(?:wandb_)?v1_[A-Za-z0-9_]{40,90})${E}`,
  examples: { truePositives: [`WANDB_API_KEY=${r(HEX, 40, rnd)}`], falsePositives: ['wandb_project = "llm-finetune"'] },
};

export const langsmithApiKey: Rule = {
  id: 'langsmith-api-key', description: 'LangSmith API key', provider: 'LangChain', severity: 'high',
  keywords: ['lsv2_'],
  pattern: `${B}lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}${E}`, minEntropy: 3,
  examples: { truePositives: [`LANGCHAIN_API_KEY=lsv2_pt_${r(HEX, 32, rnd)}_${r(HEX, 10, rnd)}`], falsePositives: ['lsv2_pt_<your key>'] },
};
