/**
 * One validator for every incoming payload: HTTP bodies, params and querystrings (as Fastify's
 * validatorCompiler) and WebSocket frames. Schemas are compiled once with TypeBox's TypeCompiler;
 * the first error becomes a ServiceError whose message names the field and the limit, and whose
 * `param` is that field's path (`parameters.stop[0]`; null when the payload itself is at fault).
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { TSchema } from '@sinclair/typebox';
import { ServiceError, type ErrorCode } from '../errors.ts';

const cache = new WeakMap<TSchema, TypeCheck<TSchema>>();

function compiled(schema: TSchema): TypeCheck<TSchema> {
  let check = cache.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    cache.set(schema, check);
  }
  return check;
}

const ROOTS = ['body', 'frame', 'query', 'params', 'headers'];

/** `/parameters/top_p` under root `body` → `parameters.top_p`; the root itself → `body`. */
function fieldName(root: string, pointer: string): string {
  const parts = pointer.split('/').filter((p) => p !== '').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (parts.length === 0) return root;
  // Top-level fields are named bare ("prompt"); nested roots keep their path ("dataset.text").
  const top = ROOTS.includes(root);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 && top ? p : `.${p}`)).join('').replace(/^/, top ? '' : root);
}

/** The `param` of the error: the offending field, or null when the whole payload is at fault. */
export function paramName(root: string, pointer: string): string | null {
  const field = fieldName(root, pointer);
  return ROOTS.includes(field) ? null : field;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** Turns a TypeBox error into a sentence and an error code. */
export function describeError(root: string, e: ValueError): { code: ErrorCode; message: string } {
  const field = fieldName(root, e.path);
  const s = e.schema as Record<string, unknown>;
  const got = `got ${show(e.value)}`;
  const isNameField = /(^|\.)(name|model)$/.test(field);
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { code: 'invalid_request', message: `${field} is required` };
    case ValueErrorType.ObjectAdditionalProperties:
      return { code: 'invalid_request', message: `${field} is not a known ${root === 'query' ? 'query parameter' : 'field'}` };
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return { code: 'invalid_parameter', message: `${field} must be ≥ ${s.minimum}, ${got}` };
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return { code: 'invalid_parameter', message: `${field} must be ≤ ${s.maximum}, ${got}` };
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return { code: 'invalid_parameter', message: `${field} must be > ${s.exclusiveMinimum}, ${got}` };
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return { code: 'invalid_parameter', message: `${field} must be < ${s.exclusiveMaximum}, ${got}` };
    case ValueErrorType.StringMaxLength:
      return { code: 'invalid_parameter', message: `${field} must be at most ${s.maxLength} characters` };
    case ValueErrorType.StringMinLength:
      return { code: 'invalid_parameter', message: `${field} must be at least ${s.minLength} character${s.minLength === 1 ? '' : 's'}` };
    case ValueErrorType.ArrayMaxItems:
      return { code: 'invalid_parameter', message: `${field} must have at most ${s.maxItems} items` };
    case ValueErrorType.StringPattern:
      return isNameField
        ? { code: 'invalid_model_name', message: `${field} must match ${s.pattern} (lowercase letters, digits, '.', '_', '-', at most 64 characters; 'name@version' where a version is allowed), ${got}` }
        : { code: 'invalid_parameter', message: `${field} must match ${s.pattern}, ${got}` };
    case ValueErrorType.Number:
      return { code: 'invalid_parameter', message: `${field} must be a number, ${got}` };
    case ValueErrorType.Integer:
      return { code: 'invalid_parameter', message: `${field} must be an integer, ${got}` };
    case ValueErrorType.String:
      return { code: 'invalid_parameter', message: `${field} must be a string, ${got}` };
    case ValueErrorType.Boolean:
      return { code: 'invalid_parameter', message: `${field} must be a boolean, ${got}` };
    case ValueErrorType.Array:
      return { code: 'invalid_parameter', message: `${field} must be an array, ${got}` };
    case ValueErrorType.Object:
      return { code: 'invalid_request', message: `${field} must be an object, ${got}` };
    case ValueErrorType.Literal:
      return { code: 'invalid_parameter', message: `${field} must be ${show(s.const)}, ${got}` };
    case ValueErrorType.Union: {
      const options = (s.anyOf as Record<string, unknown>[] | undefined) ?? [];
      if (options.every((o) => 'const' in o)) {
        return { code: 'invalid_parameter', message: `${field} must be one of ${options.map((o) => show(o.const)).join(', ')}, ${got}` };
      }
      const desc = typeof s.description === 'string' ? ` (${s.description})` : '';
      return { code: 'invalid_parameter', message: `${field} has the wrong shape${desc}` };
    }
    default:
      return { code: 'invalid_parameter', message: `${field}: ${e.message}` };
  }
}

/**
 * For a union of objects (e.g. `{id}` | `{text}`), the variant the client evidently meant: the one
 * sharing the most keys with the value. Its errors name the real problem ("dataset.text must be at
 * least 1 character") instead of "wrong shape".
 */
function closestObjectVariant(schema: TSchema, value: unknown): TSchema | undefined {
  const options = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!options || typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  let best: TSchema | undefined;
  let bestScore = 0;
  for (const option of options) {
    const props = (option as { properties?: Record<string, unknown> }).properties;
    if (!props) continue;
    const score = keys.filter((k) => k in props).length;
    if (score > bestScore) [best, bestScore] = [option, score];
  }
  return best;
}

/** Returns the value typed by its schema, or throws the first problem as a ServiceError. */
export function validate<T>(schema: TSchema, value: unknown, root = 'body'): T {
  const check = compiled(schema);
  if (check.Check(value)) return value as T;
  const first = check.Errors(value).First();
  if (!first) throw new ServiceError('invalid_request', `${root} is invalid`);
  const variant = first.type === ValueErrorType.Union ? closestObjectVariant(first.schema, first.value) : undefined;
  if (variant) validate(variant, first.value, fieldName(root, first.path)); // throws the variant's own first error
  const { code, message } = describeError(root, first);
  throw new ServiceError(code, message, { param: paramName(root, first.path) });
}

/** Fastify validatorCompiler: the same validator for body, params, querystring and headers. */
export function fastifyValidatorCompiler({ schema, httpPart }: { schema: TSchema; httpPart?: string }) {
  const root = httpPart === 'querystring' ? 'query' : httpPart ?? 'body';
  return (data: unknown): { value: unknown } | { error: Error } => {
    try {
      return { value: validate(schema, data, root) };
    } catch (err) {
      return { error: err as Error };
    }
  };
}
