/**
 * Compute backend selection (DESIGN.md, "Compute backend"): TFJS_BACKEND=auto|tensorflow|wasm|cpu.
 *
 * The whole codebase imports tf.js as `import * as tf from '@tensorflow/tfjs'` — one tfjs-core
 * instance. `@tensorflow/tfjs-node(-gpu)` and `@tensorflow/tfjs-backend-wasm` do not bring their own
 * engine: on import they call `registerBackend`/`registerKernel` on whatever `@tensorflow/tfjs-core`
 * they resolve. That is our instance only if npm deduplicated it, i.e. only if their tfjs-core version
 * matches ours (4.22.0 here); a mismatched tfjs-node registers 'tensorflow' into a nested copy and our
 * engine never sees it. initBackend checks for that and reports it instead of failing obscurely.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { applyWasmFixes } from './wasm-fixes.ts';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tf.getBackend() after init. */
  name: string;
  requested: BackendPreference;
  /** libtensorflow via tfjs-node / tfjs-node-gpu. */
  native: boolean;
  /** Threads doing the arithmetic: wasm's XNNPACK pool size, 1 for cpu, cores for libtensorflow. */
  threads: number;
  /** Names of wasm fixes applied (empty unless name is 'wasm'). */
  fixes: string[];
}

export interface BackendLogger {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

const PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** Parse TFJS_BACKEND (unset or empty → 'auto'); throws on anything else. */
export function parseBackendPreference(value: string | undefined): BackendPreference {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return 'auto';
  if ((PREFERENCES as readonly string[]).includes(v)) return v as BackendPreference;
  throw new Error(`TFJS_BACKEND=${JSON.stringify(value)}: expected one of ${PREFERENCES.join('|')}`);
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

const silent: BackendLogger = { info() {}, warn() {} };

let last: BackendInfo | undefined;
/** Serialises initBackend calls: switching backends concurrently would race on tf.setBackend. */
let queue: Promise<unknown> = Promise.resolve();

/** The result of the last successful initBackend, if any. */
export function backendInfo(): BackendInfo | undefined {
  return last ? { ...last, fixes: [...last.fixes] } : undefined;
}

/**
 * Initialise the tf.js backend. Safe to call repeatedly (packages are imported once, the wasm fixes
 * are applied once; a later call with another preference switches the active backend).
 */
export function initBackend(pref: BackendPreference, log: BackendLogger = silent): Promise<BackendInfo> {
  const run = queue.then(() => doInit(pref, log));
  queue = run.catch(() => undefined);
  return run;
}

async function doInit(pref: BackendPreference, log: BackendLogger): Promise<BackendInfo> {
  let info: BackendInfo;
  switch (pref) {
    case 'tensorflow': {
      const native = await tryNative(log, 'warn');
      if (!native) {
        throw new Error(
          `TFJS_BACKEND=tensorflow: neither ${NATIVE_PACKAGES.join(' nor ')} could be loaded ` +
            `(install @tensorflow/tfjs-node, which downloads libtensorflow, or use TFJS_BACKEND=auto|wasm|cpu)`,
        );
      }
      info = native;
      break;
    }
    case 'wasm':
      info = await useWasm();
      break;
    case 'cpu':
      info = await useCpu();
      break;
    case 'auto': {
      const native = await tryNative(log, 'info');
      if (native) {
        info = native;
        break;
      }
      try {
        info = await useWasm();
      } catch (err) {
        log.warn({ backend: 'wasm', err: reason(err) }, 'wasm backend unavailable, falling back to cpu');
        info = await useCpu();
      }
      break;
    }
    default:
      throw new Error(`unknown backend preference ${JSON.stringify(pref)} (expected auto|tensorflow|wasm|cpu)`);
  }
  info.requested = pref;
  last = info;
  log.info({ ...info }, `tf.js backend: ${info.name}`);
  return { ...info, fixes: [...info.fixes] };
}

// ---------------------------------------------------------------------------------------------

/** Import by a computed specifier so that TypeScript does not require the optional package. */
function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

function isNotInstalled(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string } | null;
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(pkg)
  );
}

const nativeLoaded = new Set<string>();

/**
 * Try tfjs-node-gpu, then tfjs-node. Each failure is logged with its reason: a package that is simply
 * not installed is logged at `missingLevel` (expected for -gpu on CPU hosts), anything else at warn.
 */
async function tryNative(log: BackendLogger, missingLevel: 'info' | 'warn'): Promise<BackendInfo | null> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      if (!nativeLoaded.has(pkg)) {
        await importOptional(pkg);
        nativeLoaded.add(pkg);
      }
      if (tf.findBackendFactory('tensorflow') == null) {
        throw new Error(
          `${pkg} loaded but did not register the 'tensorflow' backend with this @tensorflow/tfjs ` +
            `(${tf.version_core}); its @tensorflow/tfjs-core version probably differs, so it registered into another copy`,
        );
      }
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`tf.setBackend('tensorflow') failed after loading ${pkg}`);
      await tf.ready();
      return { name: tf.getBackend(), requested: 'tensorflow', native: true, threads: os.availableParallelism(), fixes: [] };
    } catch (err) {
      const level = isNotInstalled(err, pkg) ? missingLevel : 'warn';
      log[level]({ backend: 'tensorflow', package: pkg, err: reason(err) }, `${pkg} not usable`);
    }
  }
  return null;
}

let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm') | undefined;
let wasmFixes: string[] = [];

async function useWasm(): Promise<BackendInfo> {
  if (!wasmModule) {
    const mod = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the package's main is dist/tf-backend-wasm.node.js, whose emscripten loader finds the
    // .wasm files next to itself via __dirname. Point it there explicitly anyway, so that bundling
    // our code (which breaks __dirname-relative lookups) keeps working. Must precede initialisation.
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve(WASM_PACKAGE));
    mod.setWasmPaths(dist + path.sep);
    wasmModule = mod;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error(`tf.setBackend('wasm') failed (see the tf.js warning above)`);
  await tf.ready();
  wasmFixes = applyWasmFixes(); // idempotent
  return { name: tf.getBackend(), requested: 'wasm', native: false, threads: wasmModule.getThreadsCount(), fixes: [...wasmFixes] };
}

async function useCpu(): Promise<BackendInfo> {
  if (!(await tf.setBackend('cpu'))) throw new Error(`tf.setBackend('cpu') failed`);
  await tf.ready();
  return { name: tf.getBackend(), requested: 'cpu', native: false, threads: 1, fixes: [] };
}
