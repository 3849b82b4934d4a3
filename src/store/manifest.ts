/**
 * The manifest of one published model version, stored as `models/<name>/<version>/manifest.json`.
 * It is written last when a version is published (see registry.ts), so a version directory with a
 * readable, valid manifest is a complete version. Later features add fields (languages, chat
 * template, labels…) through the open index signature; readers must ignore fields they don't know.
 */
import { HYPERPARAMETER_DEFAULTS } from '../schemas/train.ts';
import type { QualityWarning } from '../eval/quality.ts';

export const MODEL_TASKS = ['generate', 'summarize', 'translate', 'qa', 'classify', 'chat'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

export const MODEL_ARCHITECTURES = ['lstm', 'gru', 'transformer'] as const;
export type ModelArchitecture = (typeof MODEL_ARCHITECTURES)[number];

/** File names inside a version directory. */
export const MANIFEST_FILE = 'manifest.json';
export const TOKENIZER_FILE = 'tokenizer.json';
/** Translation models with separate vocabularies: the target side's tokenizer. */
export const TARGET_TOKENIZER_FILE = 'target-tokenizer.json';

/**
 * What a publisher supplies: every manifest field but `name` and `version`, which the store
 * assigns. (Declared as its own interface rather than `Omit<ModelManifest, 'name' | 'version'>`:
 * Omit over a type with a string index signature collapses to the index signature and would drop
 * every known field from type checking.)
 */
export interface ManifestInput {
  task: ModelTask;
  architecture: ModelArchitecture;
  hyperparameters: Record<string, unknown>;
  /** Seq2Seq: `shared` vocabulary, else the target side's size in `target_vocab_size`. */
  /** vocab_size: ids in the saved vocabulary; max_vocab (char/word) or vocab_size_requested (bpe): what the request asked for. */
  tokenizer: { type: string; vocab_size: number; max_vocab?: number; vocab_size_requested?: number; shared?: boolean; target_vocab_size?: number };
  /** Held-out metrics beside their baselines on the same rows, e.g. { bleu, retrieval_bleu, copy_input_bleu }. */
  metrics: Record<string, number>;
  /** Null (or absent, before quality reports) when the model beats its baselines; see eval/quality.ts. */
  quality_warning?: QualityWarning | null;
  dataset: { sha256: string; id?: string; bytes: number; source?: string; license?: string };
  /** How training went: `stop_reason` (converged|max_epochs|max_steps|time_budget), `best_epoch` (the published weights), `steps`. */
  training: { job_id?: string; epochs_completed: number; tokens_per_sec?: number; duration_s?: number; seed?: number; stop_reason?: string; best_epoch?: number; steps?: number };
  /** The tfjs backend the model was trained on (e.g. 'wasm', 'tensorflow', 'cpu'). */
  backend: string;
  /** ISO-8601 timestamp. */
  created_at: string;
  /** Later features add fields (languages, chat template, labels…). */
  [extra: string]: unknown;
}

/** The manifest as stored: the publisher's fields plus the store-assigned name and version. */
export interface ModelManifest extends ManifestInput {
  name: string;
  version: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks the structural contract of a manifest and returns a list of problems (empty = valid).
 * Each problem names the field, e.g. "tokenizer.vocab_size must be a non-negative integer".
 */
export function manifestProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(value)) return ['manifest must be a JSON object'];
  const m = value;
  if (typeof m.name !== 'string' || m.name.length === 0) problems.push('name must be a non-empty string');
  if (typeof m.version !== 'number' || !Number.isSafeInteger(m.version) || m.version < 1) {
    problems.push('version must be a positive integer');
  }
  if (!MODEL_TASKS.includes(m.task as ModelTask)) problems.push(`task must be one of ${MODEL_TASKS.join(', ')}`);
  if (!MODEL_ARCHITECTURES.includes(m.architecture as ModelArchitecture)) {
    problems.push(`architecture must be one of ${MODEL_ARCHITECTURES.join(', ')}`);
  }
  if (!isRecord(m.hyperparameters)) problems.push('hyperparameters must be an object');
  if (!isRecord(m.tokenizer)) {
    problems.push('tokenizer must be an object');
  } else {
    if (typeof m.tokenizer.type !== 'string') problems.push('tokenizer.type must be a string');
    const vs = m.tokenizer.vocab_size;
    if (typeof vs !== 'number' || !Number.isSafeInteger(vs) || vs < 0) {
      problems.push('tokenizer.vocab_size must be a non-negative integer');
    }
  }
  if (!isRecord(m.metrics)) {
    problems.push('metrics must be an object');
  } else {
    for (const [k, v] of Object.entries(m.metrics)) {
      if (typeof v !== 'number') problems.push(`metrics.${k} must be a number`);
    }
  }
  if (!isRecord(m.dataset)) {
    problems.push('dataset must be an object');
  } else {
    if (typeof m.dataset.sha256 !== 'string') problems.push('dataset.sha256 must be a string');
    if (typeof m.dataset.bytes !== 'number' || m.dataset.bytes < 0) problems.push('dataset.bytes must be a non-negative number');
  }
  if (!isRecord(m.training)) {
    problems.push('training must be an object');
  } else if (typeof m.training.epochs_completed !== 'number' || m.training.epochs_completed < 0) {
    problems.push('training.epochs_completed must be a non-negative number');
  }
  if (typeof m.backend !== 'string') problems.push('backend must be a string');
  if (typeof m.created_at !== 'string' || Number.isNaN(Date.parse(m.created_at))) {
    problems.push('created_at must be an ISO-8601 timestamp');
  }
  return problems;
}

/**
 * The input/output token limits a Seq2Seq model or classifier was trained with (its
 * `hyperparameters.max_source_length` / `max_target_length`), or the training defaults for a
 * manifest that lacks them.
 */
export function sourceLimit(m: Pick<ManifestInput, 'hyperparameters'>): number {
  const v = m.hyperparameters.max_source_length;
  return typeof v === 'number' && v > 0 ? v : HYPERPARAMETER_DEFAULTS.max_source_length;
}

export function targetLimit(m: Pick<ManifestInput, 'hyperparameters'>): number {
  const v = m.hyperparameters.max_target_length;
  return typeof v === 'number' && v > 0 ? v : HYPERPARAMETER_DEFAULTS.max_target_length;
}

/** Narrows `value` to a ModelManifest or throws an Error listing every problem (`where` prefixes it). */
export function assertManifest(value: unknown, where = 'manifest'): ModelManifest {
  const problems = manifestProblems(value);
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
  return value as ModelManifest;
}

/** Parses manifest.json text and validates it; errors name `where` (e.g. "m@2/manifest.json"). */
export function parseManifest(text: string, where = 'manifest'): ModelManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: invalid JSON (${(err as Error).message})`);
  }
  return assertManifest(value, where);
}

/**
 * Builds the manifest written by publish: the input with `name` and `version` set (they win over
 * any same-named fields in the input) and `created_at` defaulted to now when missing.
 */
export function completeManifest(input: ManifestInput, name: string, version: number): ModelManifest {
  return {
    ...input,
    name,
    version,
    created_at: typeof input.created_at === 'string' && input.created_at ? input.created_at : new Date().toISOString(),
  };
}
