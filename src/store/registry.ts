/**
 * ModelStore: the model registry on disk.
 *
 * Layout under `modelsDir`:
 *   <name>/<version>/manifest.json (+ tokenizer.json, model.json, weights.bin, …)  one complete version
 *   <name>/LATEST             the latest version number as decimal text
 *   <name>/.tmp-<random>      a version being written (invisible to readers)
 *   .tmp-del-…, <name>/.tmp-del-…   a model / version being deleted (invisible to readers)
 *
 * Contracts:
 *   - A `<version>` directory only ever appears by an atomic rename of a fully written temp dir
 *     whose manifest.json was written last, so every visible version is complete.
 *   - LATEST is rewritten (temp file + rename) only after the version directory exists; it always
 *     converges to the highest complete version, also with concurrent publishers and deleters
 *     (each writer rescans after writing and rewrites if it raced — see syncLatest).
 *   - Every name is validated (validateModelName) and every path is checked to stay inside
 *     modelsDir (safeJoin); nothing outside modelsDir is read or written.
 *   - Client-facing failures are ServiceErrors: invalid_model_name, invalid_parameter,
 *     model_not_found, version_not_found. A broken manifest on disk is an internal Error.
 */
import { promises as fsp } from 'node:fs';
import { ServiceError } from '../errors.ts';
import { fsyncDir, isNotFound, randomSuffix, readFileIfExists, safeJoin, writeFileAtomic, writeFileDurable } from './fs-utils.ts';
import { assertManifest, completeManifest, MANIFEST_FILE, parseManifest, type ManifestInput, type ModelManifest } from './manifest.ts';
import { parseModelRef, validateModelName, validateVersion, type ModelRef } from './model-ref.ts';

export const LATEST_FILE = 'LATEST';
const VERSION_DIR = /^[1-9][0-9]{0,15}$/;
const MAX_PUBLISH_ATTEMPTS = 1000;

export interface ModelSummary {
  name: string;
  latest: number;
  versions: number;
  task: ModelManifest['task'];
  architecture: ModelManifest['architecture'];
  created_at: string;
  /** The latest version's quality warning (null when it beats its baselines). */
  quality_warning: ModelManifest['quality_warning'];
}

export interface ModelDetails {
  name: string;
  latest: number;
  versions: { version: number; manifest: ModelManifest }[];
}

export interface ResolvedModel {
  name: string;
  version: number;
  /** Absolute path of the version directory. */
  dir: string;
  manifest: ModelManifest;
}

/** What a publish `write` callback may return: manifest fields it learned while writing. */
export type ManifestPatch = Partial<ModelManifest> | void;

export class ModelStore {
  readonly modelsDir: string;

  constructor(modelsDir: string) {
    this.modelsDir = safeJoin(modelsDir);
  }

  /** Absolute directory of a model (name validated). */
  modelDir(name: string): string {
    return safeJoin(this.modelsDir, validateModelName(name));
  }

  /** Absolute directory of one version (name and version validated). */
  versionDir(name: string, version: number): string {
    return safeJoin(this.modelsDir, validateModelName(name), String(validateVersion(version)));
  }

  /** Every model with at least one readable version, sorted by name. Broken entries are skipped. */
  async list(): Promise<ModelSummary[]> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.modelsDir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const out: ModelSummary[] = [];
    for (const name of entries.sort()) {
      if (name.startsWith('.')) continue;
      try {
        validateModelName(name);
        const versions = await this.scanVersions(name);
        if (versions.length === 0) continue;
        const latestFile = await this.latestVersion(name);
        const latest = latestFile !== undefined && versions.includes(latestFile) ? latestFile : versions[versions.length - 1];
        const manifest = await this.readManifest(name, latest);
        out.push({
          name,
          latest,
          versions: versions.length,
          task: manifest.task,
          architecture: manifest.architecture,
          created_at: manifest.created_at,
          quality_warning: manifest.quality_warning ?? null,
        });
      } catch {
        // one unreadable or invalid model must not hide the others
      }
    }
    return out;
  }

  /** All readable versions of `name` (ascending) with their manifests; model_not_found when none. */
  async get(name: string): Promise<ModelDetails> {
    validateModelName(name);
    const versions: { version: number; manifest: ModelManifest }[] = [];
    for (const version of await this.scanVersions(name)) {
      try {
        versions.push({ version, manifest: await this.readManifest(name, version) });
      } catch {
        // a broken version is skipped, not fatal
      }
    }
    if (versions.length === 0) throw new ServiceError('model_not_found', `model ${JSON.stringify(name)} not found`);
    const latestFile = await this.latestVersion(name);
    const latest = versions.some((v) => v.version === latestFile) ? latestFile! : versions[versions.length - 1].version;
    return { name, latest, versions };
  }

  /**
   * Resolves `name`, `name@version` or `{name, version?}` to a complete version. A bare name means
   * the version in LATEST. Throws model_not_found when the model has no versions, version_not_found
   * when the model exists but the version does not.
   */
  async resolve(ref: string | ModelRef): Promise<ResolvedModel> {
    const { name, version: asked } =
      typeof ref === 'string'
        ? parseModelRef(ref)
        : { name: validateModelName(ref.name, 'model'), version: ref.version === undefined ? undefined : validateVersion(ref.version, 'model version', 'model') };
    const version = asked ?? (await this.latestVersion(name));
    if (version === undefined) throw new ServiceError('model_not_found', `model ${JSON.stringify(name)} not found`);
    const dir = this.versionDir(name, version);
    try {
      return { name, version, dir, manifest: await this.readManifest(name, version) };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if ((await this.scanVersions(name)).length === 0) {
        throw new ServiceError('model_not_found', `model ${JSON.stringify(name)} not found`);
      }
      throw new ServiceError('version_not_found', `model ${JSON.stringify(name)} has no version ${version}`);
    }
  }

  /**
   * The latest version of `name`, or undefined when the model does not exist. Normally reads only
   * the small LATEST file (cheap enough to call per request); falls back to scanning version
   * directories when LATEST is missing or malformed.
   */
  async latestVersion(name: string): Promise<number | undefined> {
    const text = await readFileIfExists(safeJoin(this.modelDir(name), LATEST_FILE));
    const trimmed = text?.trim();
    if (trimmed !== undefined && VERSION_DIR.test(trimmed)) return Number(trimmed);
    const versions = await this.scanVersions(name);
    return versions.length > 0 ? versions[versions.length - 1] : undefined;
  }

  /**
   * Publishes a new version of `name` atomically: `write` fills a fresh temp dir, then manifest.json
   * (input merged with what `write` returned, name and version set by the store) is written last,
   * the dir is fsynced and renamed to the next free version number, and LATEST moves. If `write` or
   * any step fails, the temp dir is removed and no version or LATEST change is visible.
   */
  async publish(
    name: string,
    write: (tmpDir: string) => Promise<ManifestPatch>,
    manifest: ManifestInput,
  ): Promise<{ version: number; dir: string }> {
    const modelDir = this.modelDir(name);
    const tmpDir = safeJoin(modelDir, `.tmp-${randomSuffix()}`);
    for (let attempt = 0; ; attempt++) {
      await fsp.mkdir(modelDir, { recursive: true });
      try {
        await fsp.mkdir(tmpDir);
        break;
      } catch (err) {
        // a concurrent deleter may remove the (empty) model dir between the two mkdirs
        if (!isNotFound(err) || attempt >= 5) throw err;
      }
    }
    try {
      const patch = (await write(tmpDir)) ?? {};
      const input = { ...manifest, ...patch } as ManifestInput;
      let version = (await this.maxVersion(name)) + 1;
      for (let attempt = 0; ; attempt++) {
        const full = assertManifest(completeManifest(input, name, version), `publish ${name}`);
        await writeFileDurable(safeJoin(tmpDir, MANIFEST_FILE), JSON.stringify(full, null, 2) + '\n');
        await fsyncDir(tmpDir);
        const dir = this.versionDir(name, version);
        try {
          await fsp.rename(tmpDir, dir);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const collided = code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EPERM';
          if (!collided || attempt >= MAX_PUBLISH_ATTEMPTS) throw err;
          version = Math.max(version + 1, (await this.maxVersion(name)) + 1);
          continue;
        }
        await fsyncDir(modelDir);
        await this.syncLatest(name);
        return { version, dir };
      }
    } catch (err) {
      await fsp.rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
      // a first publish that failed leaves no empty model dir behind (rmdir fails if not empty)
      if ((await this.scanVersions(name)).length === 0) {
        await fsp.rm(safeJoin(modelDir, LATEST_FILE), { force: true }).catch(() => undefined);
        await fsp.rmdir(modelDir).catch(() => undefined);
      }
      throw err;
    }
  }

  /** Deletes every version of `name` (model_not_found when it has none). */
  async deleteModel(name: string): Promise<void> {
    const modelDir = this.modelDir(name);
    if ((await this.scanVersions(name)).length === 0) {
      throw new ServiceError('model_not_found', `model ${JSON.stringify(name)} not found`);
    }
    // rename first so readers never see a half-deleted model
    const trash = safeJoin(this.modelsDir, `.tmp-del-${name}-${randomSuffix()}`);
    await fsp.rename(modelDir, trash);
    await fsp.rm(trash, { recursive: true, force: true });
  }

  /**
   * Deletes one version. LATEST moves to the highest remaining version; when none remain the model
   * directory is removed (unless a publish is writing into it at that moment).
   */
  async deleteVersion(name: string, version: number): Promise<void> {
    const dir = this.versionDir(name, version);
    const versions = await this.scanVersions(name);
    if (versions.length === 0) throw new ServiceError('model_not_found', `model ${JSON.stringify(name)} not found`);
    if (!versions.includes(version)) {
      throw new ServiceError('version_not_found', `model ${JSON.stringify(name)} has no version ${version}`);
    }
    const trash = safeJoin(this.modelDir(name), `.tmp-del-${version}-${randomSuffix()}`);
    try {
      await fsp.rename(dir, trash);
    } catch (err) {
      if (isNotFound(err)) throw new ServiceError('version_not_found', `model ${JSON.stringify(name)} has no version ${version}`);
      throw err;
    }
    await fsp.rm(trash, { recursive: true, force: true });
    await this.syncLatest(name);
  }

  /** Version numbers of `name` whose directory holds a manifest.json, ascending ([] if none). */
  private async scanVersions(name: string): Promise<number[]> {
    const modelDir = this.modelDir(name);
    let entries: string[];
    try {
      entries = await fsp.readdir(modelDir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const versions: number[] = [];
    for (const entry of entries) {
      if (!VERSION_DIR.test(entry)) continue;
      try {
        const st = await fsp.stat(safeJoin(modelDir, entry, MANIFEST_FILE));
        if (st.isFile()) versions.push(Number(entry));
      } catch {
        // not a complete version
      }
    }
    return versions.sort((a, b) => a - b);
  }

  /** Highest version number in use (any numeric dir, complete or not), 0 when none. */
  private async maxVersion(name: string): Promise<number> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.modelDir(name));
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
    return entries.filter((e) => VERSION_DIR.test(e)).reduce((m, e) => Math.max(m, Number(e)), 0);
  }

  private async readManifest(name: string, version: number): Promise<ModelManifest> {
    const file = safeJoin(this.versionDir(name, version), MANIFEST_FILE);
    const manifest = parseManifest(await fsp.readFile(file, 'utf8'), `${name}@${version}/${MANIFEST_FILE}`);
    if (manifest.name !== name || manifest.version !== version) {
      throw new Error(`${name}@${version}/${MANIFEST_FILE}: name/version fields say ${manifest.name}@${manifest.version}`);
    }
    return manifest;
  }

  /**
   * Points LATEST at the highest complete version (or removes LATEST and, if empty, the model dir
   * when there is none). After each write it rescans; if another publisher or deleter changed the
   * set meanwhile it writes again, so the last writer always leaves the true maximum.
   */
  private async syncLatest(name: string): Promise<void> {
    const modelDir = this.modelDir(name);
    const latestFile = safeJoin(modelDir, LATEST_FILE);
    let versions = await this.scanVersions(name);
    for (let i = 0; i < 100; i++) {
      const max = versions.length > 0 ? versions[versions.length - 1] : undefined;
      if (max === undefined) {
        await fsp.rm(latestFile, { force: true });
        await fsp.rmdir(modelDir).catch(() => undefined); // only succeeds when nothing else is inside
      } else {
        await writeFileAtomic(latestFile, `${max}\n`);
      }
      const again = await this.scanVersions(name);
      if (again.length === versions.length && again.every((v, j) => v === versions[j])) return;
      versions = again;
    }
  }
}
