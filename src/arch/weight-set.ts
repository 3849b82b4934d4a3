/**
 * Named trainable variables of a hand-built model (the Seq2Seq encoder–decoder and the classifier),
 * created in a fixed order with seeded initialisers so the same spec and seed give the same model.
 * Names follow Keras' `<layer>/<weight>` convention (e.g. `encoder/lstm_0/kernel`), so the saved
 * weights file (tf.io weights format) reads like a Keras checkpoint.
 */
import * as tf from '@tensorflow/tfjs';

/** `{ normal: σ }`: N(0, σ²) (the Transformer's GPT-2 initialisation). */
export type InitKind = 'glorot' | 'zeros' | 'ones' | 'embedding' | 'forget_bias' | { normal: number };

export class WeightSet {
  private readonly vars = new Map<string, tf.Variable>();
  private counter = 0;

  constructor(private readonly seed: number) {}

  /** Creates variable `name` [shape] (names must be unique). */
  add(name: string, shape: number[], init: InitKind, units = 0): tf.Variable {
    if (this.vars.has(name)) throw new Error(`weight ${name} defined twice`);
    const seed = this.seed + 1 + this.counter++;
    const value = tf.tidy(() => {
      if (init === 'zeros') return tf.zeros(shape);
      if (init === 'ones') return tf.ones(shape);
      if (typeof init === 'object') return tf.randomNormal(shape, 0, init.normal, 'float32', seed);
      if (init === 'embedding') return tf.randomUniform(shape, -0.05, 0.05, 'float32', seed);
      if (init === 'forget_bias') {
        // LSTM bias [4H]: 1 for the forget gate (Keras' unit_forget_bias), 0 elsewhere.
        return tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])]);
      }
      const [fanIn, fanOut] = shape.length === 2 ? [shape[0]!, shape[1]!] : [shape[0]!, shape[0]!];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return tf.randomUniform(shape, -limit, limit, 'float32', seed);
    });
    const v = tf.variable(value, true, `${name}_${Math.random().toString(36).slice(2, 8)}`);
    value.dispose();
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no weight named ${name}`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  variables(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Named copies for saving (the caller disposes them). */
  snapshot(): { name: string; tensor: tf.Tensor }[] {
    return [...this.vars.entries()].map(([name, v]) => ({ name, tensor: v.clone() }));
  }

  /** Assigns every weight from `values` (by name); shapes must match and nothing may be missing. */
  load(values: tf.NamedTensorMap): void {
    const problems: string[] = [];
    for (const [name, v] of this.vars) {
      const t = values[name];
      if (!t) problems.push(`${name} missing`);
      else if (t.shape.join(',') !== v.shape.join(',')) problems.push(`${name} has shape [${t.shape}], expected [${v.shape}]`);
    }
    if (problems.length > 0) throw new Error(`weights do not fit the model: ${problems.join('; ')}`);
    for (const [name, v] of this.vars) v.assign(values[name]!);
  }

  /** Assigns weights by position (the order of creation: a checkpoint's order). */
  assignOrdered(values: readonly tf.Tensor[]): void {
    const vars = this.variables();
    if (values.length !== vars.length) throw new Error(`expected ${vars.length} weights, got ${values.length}`);
    vars.forEach((v, i) => {
      if (values[i]!.shape.join(',') !== v.shape.join(',')) throw new Error(`weight ${i} has shape [${values[i]!.shape}], expected [${v.shape}]`);
    });
    vars.forEach((v, i) => v.assign(values[i]!));
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
