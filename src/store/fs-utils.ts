/**
 * Small filesystem helpers shared by the model store and the dataset store. They give the
 * durability the stores promise: a file written with writeFileDurable is flushed to disk before the
 * promise resolves, and writeFileAtomic replaces a file so readers see either the old or the new
 * content, never a partial one (write a sibling temp file, fsync it, rename it over the target).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** A short random hex suffix for temp names. */
export function randomSuffix(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

/** Writes `data` to `file` (creating or truncating it) and fsyncs the file before resolving. */
export async function writeFileDurable(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fsp.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Fsyncs a directory so a rename or create inside it is durable. Best effort: some platforms and
 * filesystems refuse to open or sync directories, which is ignored.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // not supported here (e.g. Windows, some network filesystems): durability is best effort
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Atomically replaces `file` with `data`: writes `<file>.tmp-<random>` in the same directory,
 * fsyncs it, renames it over `file`, then fsyncs the directory. The temp file is removed on failure.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${randomSuffix()}`;
  try {
    await writeFileDurable(tmp, data);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/** Reads a UTF-8 file, returning undefined when it does not exist (other errors propagate). */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** True for ENOENT / ENOTDIR: "the thing is not there". */
export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Resolves `segments` under `root` and returns the absolute path, throwing when the result would
 * leave `root` (defence in depth on top of name validation: symlink-free lexical check).
 */
export function safeJoin(root: string, ...segments: string[]): string {
  const base = path.resolve(root);
  const full = path.resolve(base, ...segments);
  const rel = path.relative(base, full);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel) && !rel.split(path.sep).includes('..'))) {
    return full;
  }
  throw new Error(`path ${JSON.stringify(segments.join('/'))} escapes ${base}`);
}
