/**
 * Loaded models, keyed by `name@version`, LRU-bounded. A bare name resolves to the store's
 * latest version on every request (one small file read), so a newly published version is picked up
 * by the next request. Loads are de-duplicated; evicted models are disposed only once no request
 * holds them (acquire/release reference counting), so eviction never pulls weights from under a
 * running generation.
 */
import { readFile } from 'node:fs/promises';
import '../arch/custom-layers.ts'; // so saved FusedLSTM/FusedGRU layers deserialize
import { RecurrentLanguageModel } from '../arch/lm-step.ts';
import { StepBatcher } from './batcher.ts';
import { KvBatcher } from './kv-batcher.ts';
import { TransformerLM, type TransformerSpec } from '../arch/transformer.ts';
import { Seq2SeqBatcher } from './seq2seq-batcher.ts';
import { ServiceError } from '../errors.ts';
import { TARGET_TOKENIZER_FILE, TOKENIZER_FILE, type ModelManifest, type ModelTask } from '../store/manifest.ts';
import { Seq2SeqModel, type Seq2SeqSpec } from '../arch/seq2seq.ts';
import { TextClassifier, type ClassifierSpec } from '../arch/classifier.ts';
import { loadWeightSet } from '../store/weight-set-io.ts';
import { readFileIfExists } from '../store/fs-utils.ts';
import { safeJoin } from '../store/fs-utils.ts';
import { loadLayersModel } from '../store/layers-io.ts';
import { parseModelRef } from '../store/model-ref.ts';
import type { ModelStore } from '../store/registry.ts';
import { loadTokenizer, type Tokenizer } from '../tokenize/index.ts';
import { ChatTokenizer, parseChatTemplateSpec } from '../tasks/chat-template.ts';
import { isRetrievalAugmented, RETRIEVAL_FILE, RetrievalIndex } from '../tasks/retrieval.ts';
import { defaultTranslator, WORD_TRANSLATION_FILE, WordTranslator } from '../tasks/word-translation.ts';
import { WordLexicon } from '../decode/lexicon.ts';

interface LoadedBase {
  /** `name@version`. */
  ref: string;
  name: string;
  version: number;
  manifest: ModelManifest;
  /** The (source-side) tokenizer. */
  tokenizer: Tokenizer;
}

export interface LanguageModelEntry extends LoadedBase {
  kind: 'generate';
  /** A recurrent model (stateful stepping) or a Transformer (KV cache). */
  lm: RecurrentLanguageModel | TransformerLM;
  /** Continuous batching: all running generations of this model step together. */
  batcher: StepBatcher | KvBatcher;
  /** Chat models (manifest task `chat`): the tokenizer with the template's role markers (also `tokenizer`). */
  chat?: ChatTokenizer;
}

export type ChatModelEntry = LanguageModelEntry & { chat: ChatTokenizer };

export interface Seq2SeqEntry extends LoadedBase {
  kind: 'seq2seq';
  s2s: Seq2SeqModel;
  /** The same object as `tokenizer` when the vocabulary is shared. */
  targetTokenizer: Tokenizer;
  /** Continuous batching of greedy and sampled requests (beam search runs per request). */
  batcher: Seq2SeqBatcher;
  /**
   * The training rows' retrieval index (retrieval.json), read on first use and kept; undefined for
   * models published before quality reports. Loaded with the model when it is retrieval-augmented.
   */
  retrieval(): Promise<RetrievalIndex | undefined>;
  /** The words of the retrieval index's targets (decode/lexicon.ts), built on first use and kept; undefined without an index. */
  lexicon(): Promise<WordLexicon | undefined>;
  /**
   * Translate models: the word-alignment translator (word-translation.json), read on first use and
   * kept; undefined for other tasks and older models. Loaded with the model when it is the default.
   */
  wordTranslator(): Promise<WordTranslator | undefined>;
}

export interface ClassifierEntry extends LoadedBase {
  kind: 'classify';
  classifier: TextClassifier;
  labels: string[];
}

export type LoadedModel = LanguageModelEntry | Seq2SeqEntry | ClassifierEntry;
/** What a task's endpoint gets: generate → language model, classify → classifier, others → Seq2Seq. */
export type EntryFor<T extends ModelTask> = T extends 'generate' ? LanguageModelEntry : T extends 'chat' ? ChatModelEntry : T extends 'classify' ? ClassifierEntry : Seq2SeqEntry;

function disposeLoaded(m: LoadedModel): void {
  if (m.kind === 'generate') m.lm.dispose();
  else if (m.kind === 'seq2seq') m.s2s.dispose();
  else m.classifier.dispose();
}

const ENDPOINT: Record<ModelTask, string> = { generate: '/generate', summarize: '/summarize', translate: '/translate', qa: '/qa', classify: '/classify', chat: 'chat (the /ws chat frame, /v1/chat/completions)' };

function mismatch(ref: string, has: ModelTask, wanted: ModelTask, field: string): ServiceError {
  return new ServiceError('model_task_mismatch', `${field}: ${ref} is a ${has} model (serve it with ${ENDPOINT[has]}); ${ENDPOINT[wanted]} needs a ${wanted} model`, { param: field });
}

interface Entry {
  loading: Promise<LoadedModel>;
  users: number;
  evicted: boolean;
  lastUsed: number;
}

export interface ModelLease<M extends LoadedModel = LoadedModel> {
  model: M;
  release(): void;
}

export class ModelCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: ModelStore,
    private readonly capacity: number,
    /** Sequences one model steps together (MAX_BATCH_SIZE). */
    private readonly maxBatch = 32,
  ) {}

  /**
   * Resolves `name` or `name@version` and holds the model until `release()`. The model must have
   * been trained for `task` (400 model_task_mismatch otherwise: a classifier on /translate).
   */
  async acquire<T extends ModelTask = 'generate'>(ref: string, task: T = 'generate' as T, field = 'model'): Promise<ModelLease<EntryFor<T>>> {
    const { name, version } = await this.resolveRef(ref, field);
    const key = `${name}@${version}`;
    let entry = this.entries.get(key);
    if (!entry) {
      // A model of another task is refused from its manifest, before its weights are read.
      const resolved = await this.store.resolve({ name, version });
      if (resolved.manifest.task !== task) throw mismatch(`${name}@${version}`, resolved.manifest.task, task, field);
      entry = this.entries.get(key); // another request may have started the load meanwhile
      if (!entry) {
        entry = { loading: this.load(name, version, resolved), users: 0, evicted: false, lastUsed: Date.now() };
        this.entries.set(key, entry);
        const created = entry;
        // A failed load is not cached (unless forget() already replaced the entry).
        entry.loading.catch(() => {
          if (this.entries.get(key) === created) this.entries.delete(key);
        });
      }
    }
    entry.users++;
    entry.lastUsed = Date.now();
    let model: LoadedModel;
    try {
      model = await entry.loading;
    } catch (err) {
      entry.users--;
      throw err;
    }
    if (model.manifest.task !== task) {
      entry.users--;
      throw mismatch(model.ref, model.manifest.task, task, field);
    }
    this.evictBeyondCapacity();
    let released = false;
    const held = entry;
    return {
      model: model as EntryFor<T>,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.evicted && held.users === 0) disposeLoaded(model);
      },
    };
  }

  /** `name` or `name@version` → a concrete version (model_not_found when there is none). */
  private async resolveRef(ref: string, field: string): Promise<{ name: string; version: number }> {
    const parsed = parseModelRef(ref, field);
    const version = parsed.version ?? (await this.store.latestVersion(parsed.name));
    if (version === undefined) throw new ServiceError('model_not_found', `${field}: no model named "${parsed.name}" (GET /models lists them)`, { param: field });
    return { name: parsed.name, version };
  }

  /**
   * The task a model was trained for, from its manifest (without loading its weights), and the
   * `name@version` a bare name resolves to now (to pin several requests to one version).
   */
  async peekTask(ref: string, field = 'model'): Promise<{ task: ModelTask; ref: string; createdAt: string }> {
    const { name, version } = await this.resolveRef(ref, field);
    const { manifest } = await this.store.resolve({ name, version });
    return { task: manifest.task, ref: `${name}@${version}`, createdAt: manifest.created_at };
  }

  /** Number of model versions currently loaded. */
  get size(): number {
    return this.entries.size;
  }

  private async load(name: string, version: number, resolved: Awaited<ReturnType<ModelStore['resolve']>>): Promise<LoadedModel> {
    const tokenizer = loadTokenizer(JSON.parse(await readFile(safeJoin(resolved.dir, TOKENIZER_FILE), 'utf8')));
    const base = { ref: `${name}@${version}`, name, version, manifest: resolved.manifest, tokenizer };
    const task = resolved.manifest.task;
    if (task === 'classify') {
      const classifier = await loadWeightSet(resolved.dir, 'classifier', (spec: ClassifierSpec) => new TextClassifier(spec, 0));
      const labels = resolved.manifest.labels;
      if (!Array.isArray(labels) || labels.length !== classifier.spec.numClasses) {
        classifier.dispose();
        throw new Error(`${base.ref}: manifest labels do not match the classifier's ${classifier.spec.numClasses} classes`);
      }
      return { ...base, kind: 'classify', classifier, labels: labels as string[] };
    }
    if (task !== 'generate' && task !== 'chat') {
      const targetJson = await readFileIfExists(safeJoin(resolved.dir, TARGET_TOKENIZER_FILE));
      const targetTokenizer = targetJson === undefined ? tokenizer : loadTokenizer(JSON.parse(targetJson));
      let index: Promise<RetrievalIndex | undefined> | undefined;
      const retrieval = () =>
        (index ??= readFileIfExists(safeJoin(resolved.dir, RETRIEVAL_FILE)).then((text) => (text === undefined ? undefined : RetrievalIndex.fromJSON(JSON.parse(text)))));
      let words: Promise<WordLexicon | undefined> | undefined;
      const lexicon = () => (words ??= retrieval().then((i) => (i === undefined ? undefined : WordLexicon.fromTexts(i.targets))));
      if (isRetrievalAugmented(resolved.manifest) && !(await retrieval())) throw new Error(`${base.ref}: retrieval-augmented model without ${RETRIEVAL_FILE}`);
      let aligned: Promise<WordTranslator | undefined> | undefined;
      const wordTranslator = () =>
        (aligned ??= readFileIfExists(safeJoin(resolved.dir, WORD_TRANSLATION_FILE)).then((text) => (text === undefined ? undefined : WordTranslator.fromJSON(JSON.parse(text)))));
      if (defaultTranslator(resolved.manifest) === 'word_alignment' && !(await wordTranslator())) throw new Error(`${base.ref}: its default translator is word_alignment but ${WORD_TRANSLATION_FILE} is missing`);
      const s2s = await loadWeightSet(resolved.dir, 'seq2seq', (spec: Seq2SeqSpec) => new Seq2SeqModel(spec, 0));
      return { ...base, kind: 'seq2seq', s2s, targetTokenizer, batcher: new Seq2SeqBatcher(s2s, this.maxBatch), retrieval, lexicon, wordTranslator };
    }
    const chat = task === 'chat' ? new ChatTokenizer(tokenizer) : undefined;
    if (chat) parseChatTemplateSpec(resolved.manifest.chat_template, tokenizer.vocabSize);
    if (resolved.manifest.architecture === 'transformer') {
      const lm = await loadWeightSet(resolved.dir, 'transformer', (spec: TransformerSpec) => new TransformerLM(spec, 0));
      if (lm.vocabSize !== (chat ?? tokenizer).vocabSize) {
        lm.dispose();
        throw new Error(`${base.ref}: the model has ${lm.vocabSize} outputs but its tokenizer ${(chat ?? tokenizer).vocabSize} ids`);
      }
      return { ...base, ...(chat ? { tokenizer: chat, chat } : {}), kind: 'generate', lm, batcher: new KvBatcher(lm, this.maxBatch) };
    }
    const layers = await loadLayersModel(resolved.dir);
    try {
      const lm = new RecurrentLanguageModel(layers, resolved.manifest.architecture);
      if (lm.vocabSize !== (chat ?? tokenizer).vocabSize) {
        lm.dispose();
        throw new Error(`${base.ref}: the model has ${lm.vocabSize} outputs but its tokenizer ${(chat ?? tokenizer).vocabSize} ids`);
      }
      return { ...base, ...(chat ? { tokenizer: chat, chat } : {}), kind: 'generate', lm, batcher: new StepBatcher(lm, this.maxBatch) };
    } finally {
      layers.dispose();
    }
  }

  /** Removes an entry; its weights are freed now if unused, else by the last release(). */
  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    entry.evicted = true;
    if (entry.users === 0) entry.loading.then(disposeLoaded, () => undefined);
  }

  private evictBeyondCapacity(): void {
    const byAge = [...this.entries.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, entry] of byAge) {
      if (this.entries.size <= this.capacity) break;
      this.drop(key, entry);
    }
  }

  /** Drops the cached versions of `name` (after DELETE /models/:name[/versions/:v]). */
  forget(name: string, version?: number): void {
    for (const [key, entry] of this.entries) {
      if (version === undefined ? key.startsWith(`${name}@`) : key === `${name}@${version}`) this.drop(key, entry);
    }
  }

  /** Drops every model (shutdown, tests). */
  async clear(): Promise<void> {
    const loads = [...this.entries.values()].map((e) => e.loading.catch(() => undefined));
    for (const [key, entry] of this.entries) this.drop(key, entry);
    await Promise.all(loads);
  }
}
