/** `param` in the one error shape: validation errors name the offending field's path. */
import t from 'tap';
import { ServiceError, errorBody } from '../../src/errors.ts';
import { validate } from '../../src/schemas/validate.ts';
import { GenerateRequest } from '../../src/schemas/generate.ts';
import { resolveSamplingParams } from '../../src/decode/params.ts';
import { parseModelRef } from '../../src/store/model-ref.ts';

function thrown(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ServiceError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

t.test('the body always has the four fields, param null by default', async (t) => {
  t.same(errorBody('overloaded', 'busy'), { error: { code: 'overloaded', message: 'busy', type: 'overloaded_error', param: null } });
  const e = new ServiceError('invalid_parameter', 'temperature must be ≤ 2', { param: 'temperature', headers: { a: 'b' } });
  t.same(e.toBody(), { error: { code: 'invalid_parameter', message: 'temperature must be ≤ 2', type: 'invalid_request_error', param: 'temperature' } });
  t.same(e.headers, { a: 'b' });
});

t.test('schema validation names the field path as param', async (t) => {
  const cases: Array<[unknown, string | null, string]> = [
    [{ prompt: 'x' }, 'model', 'invalid_request'],
    [{ model: 'm', prompt: 'x', parameters: { top_p: 0 } }, 'parameters.top_p', 'invalid_parameter'],
    [{ model: 'm', prompt: 'x', parameters: { stop: ['a', ''] } }, 'parameters.stop[1]', 'invalid_parameter'],
    [{ model: 'm', prompt: 'x', bogus: 1 }, 'bogus', 'invalid_request'],
    [{ model: 'Bad Name', prompt: 'x' }, 'model', 'invalid_model_name'],
    ['not an object', null, 'invalid_request'],
  ];
  for (const [body, param, code] of cases) {
    const e = thrown(() => validate(GenerateRequest, body));
    t.equal(e.param, param, `${JSON.stringify(body)} → ${param}`);
    t.equal(e.code, code);
    t.equal(e.toBody().error.param, param);
  }
  t.equal(thrown(() => validate(GenerateRequest, { type: 'x' }, 'frame')).param, 'model', 'WebSocket frames name bare fields too');
});

t.test('resolved parameters and model refs name their field', async (t) => {
  t.equal(thrown(() => resolveSamplingParams({ max_new_tokens: 10 }, { maxNewTokens: 5 })).param, 'parameters.max_new_tokens');
  t.equal(thrown(() => resolveSamplingParams({ stop: ['ok', ''] })).param, 'parameters.stop[1]');
  t.equal(thrown(() => parseModelRef('a@0x1', 'model')).param, 'model');
  t.equal(thrown(() => parseModelRef('../etc', 'model')).param, 'model');
});
