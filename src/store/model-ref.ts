/**
 * Model names and references. A model name is the only piece of client input that becomes a
 * path segment under `models/`, so it is validated here once, strictly:
 *   - it matches MODEL_NAME_PATTERN (lowercase letters, digits, '.', '_', '-'; 1–64 chars,
 *     starting with a letter or digit);
 *   - it contains no '..' sequence, '/', '\\' or NUL (the pattern already excludes the last
 *     three; they are checked explicitly so the guarantee survives a future pattern change).
 * A model reference is `name` or `name@version` where version is a positive integer.
 */
import { ServiceError } from '../errors.ts';

export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Largest version number accepted in a reference (keeps versions exact integers). */
export const MAX_MODEL_VERSION = Number.MAX_SAFE_INTEGER;

/** A parsed reference; `version` absent means "the latest version". */
export interface ModelRef {
  name: string;
  version?: number;
}

/**
 * Returns `name` unchanged when it is a valid model name; otherwise throws
 * ServiceError('invalid_model_name') whose message names `field` and the pattern.
 */
export function validateModelName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string') {
    throw new ServiceError('invalid_model_name', `${field} must be a string matching ${MODEL_NAME_PATTERN.source}`, { param: field });
  }
  if (name.length === 0) {
    throw new ServiceError('invalid_model_name', `${field} must not be empty; it must match ${MODEL_NAME_PATTERN.source}`, { param: field });
  }
  if (name.includes('\0') || name.includes('/') || name.includes('\\') || name.includes('..')) {
    throw new ServiceError(
      'invalid_model_name',
      `${field} must not contain '..', '/', '\\' or NUL; it must match ${MODEL_NAME_PATTERN.source}`,
      { param: field },
    );
  }
  if (!MODEL_NAME_PATTERN.test(name)) {
    const hint = name.length > 64 ? ` (at most 64 characters, got ${name.length})` : '';
    throw new ServiceError(
      'invalid_model_name',
      `${field} ${JSON.stringify(name.slice(0, 80))} is not a valid model name${hint}; it must match ${MODEL_NAME_PATTERN.source}`,
      { param: field },
    );
  }
  return name;
}

/**
 * Validates a version number: a positive safe integer. Throws ServiceError('invalid_parameter')
 * naming `field` otherwise.
 */
export function validateVersion(version: unknown, field = 'version', param = field): number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new ServiceError(
      'invalid_parameter',
      `${field} must be a positive integer between 1 and ${MAX_MODEL_VERSION}, got ${JSON.stringify(version)}`,
      { param },
    );
  }
  return version;
}

/**
 * Parses `name` or `name@version`. The name is validated with validateModelName (code
 * invalid_model_name); the version must be a positive integer written in decimal digits without
 * sign or leading zeros (code invalid_parameter). Error messages name `field`.
 */
export function parseModelRef(ref: unknown, field = 'model'): ModelRef {
  if (typeof ref !== 'string') {
    throw new ServiceError('invalid_parameter', `${field} must be a string of the form name or name@version`, { param: field });
  }
  const at = ref.indexOf('@');
  if (at === -1) return { name: validateModelName(ref, field) };
  const name = validateModelName(ref.slice(0, at), field);
  const versionText = ref.slice(at + 1);
  if (!/^[1-9][0-9]*$/.test(versionText)) {
    throw new ServiceError(
      'invalid_parameter',
      `${field} version ${JSON.stringify(versionText.slice(0, 40))} must be a positive integer (form name@version)`,
      { param: field },
    );
  }
  const version = Number(versionText);
  validateVersion(version, `${field} version`, field);
  return { name, version };
}
