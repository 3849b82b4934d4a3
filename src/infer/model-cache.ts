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
import { ServiceError } from '../errors.ts';
import { TOKENIZER_FILE, type ModelManifest } from '../store/manifest.ts';
import { safeJoin } from '../store/fs-utils.ts';
import { loadLayersModel } from '../store/layers-io.ts';
import { parseModelRef } from '../store/model-ref.ts';
import type { ModelStore } from '../store/registry.ts';
import { loadTokenizer, type Tokenizer } from '../tokenize/index.ts';

export interface LoadedModel {
  /** `name@version`. */
  ref: string;
  name: string;
  version: number;
  manifest: ModelManifest;
  tokenizer: Tokenizer;
  lm: RecurrentLanguageModel;
  /** Continuous batching: all running generations of this model step together. */
  batcher: StepBatcher;
}

interface Entry {
  loading: Promise<LoadedModel>;
  users: number;
  evicted: boolean;
  lastUsed: number;
}

export interface ModelLease {
  model: LoadedModel;
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

  /** Resolves `name` or `name@version` and holds the model until `release()`. */
  async acquire(ref: string, field = 'model'): Promise<ModelLease> {
    const parsed = parseModelRef(ref, field);
    let version = parsed.version;
    if (version === undefined) {
      version = await this.store.latestVersion(parsed.name);
      if (version === undefined) throw new ServiceError('model_not_found', `${field}: no model named "${parsed.name}" (GET /models lists them)`);
    }
    const key = `${parsed.name}@${version}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { loading: this.load(parsed.name, version), users: 0, evicted: false, lastUsed: Date.now() };
      this.entries.set(key, entry);
      const created = entry;
      // A failed load is not cached (unless forget() already replaced the entry).
      entry.loading.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
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
    this.evictBeyondCapacity();
    let released = false;
    const held = entry;
    return {
      model,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.evicted && held.users === 0) model.lm.dispose();
      },
    };
  }

  /** Number of model versions currently loaded. */
  get size(): number {
    return this.entries.size;
  }

  private async load(name: string, version: number): Promise<LoadedModel> {
    const resolved = await this.store.resolve({ name, version });
    if (resolved.manifest.task !== 'generate') {
      throw new ServiceError('model_task_mismatch', `model: ${name}@${version} is a ${resolved.manifest.task} model; this endpoint needs a generate (language) model`);
    }
    const tokenizer = loadTokenizer(JSON.parse(await readFile(safeJoin(resolved.dir, TOKENIZER_FILE), 'utf8')));
    const layers = await loadLayersModel(resolved.dir);
    try {
      const lm = new RecurrentLanguageModel(layers, resolved.manifest.architecture);
      return { ref: `${name}@${version}`, name, version, manifest: resolved.manifest, tokenizer, lm, batcher: new StepBatcher(lm, this.maxBatch) };
    } finally {
      layers.dispose();
    }
  }

  /** Removes an entry; its weights are freed now if unused, else by the last release(). */
  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    entry.evicted = true;
    if (entry.users === 0) entry.loading.then((m) => m.lm.dispose(), () => undefined);
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
