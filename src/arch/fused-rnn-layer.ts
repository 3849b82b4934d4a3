/**
 * What FusedLSTM and FusedGRU share as tf.js layers: arguments, Keras-layout weights
 * (kernel [in, G·H], recurrent_kernel [H, G·H], bias [G·H]), output shapes, serialization. A subclass
 * names its gate count G, its state count (h; or h and c) and runs the fused sequence op.
 */
import * as tf from '@tensorflow/tfjs';

export type Initializer = ReturnType<typeof tf.initializers.zeros>;
export type InitializerLike = Initializer | string;

/** Serialized form of an initializer: a Keras identifier or `{ className, config }`. */
export type SerializedInitializer = string | { className: string; config: tf.serialization.ConfigDict };

export function toInitializer(v: InitializerLike | SerializedInitializer | undefined, dflt: () => Initializer): Initializer {
  if (v == null) return dflt();
  if (typeof v === 'string') {
    // Keras/tf.js identifiers, e.g. 'glorotUniform', 'GlorotUniform', 'zeros', 'orthogonal'.
    const name = v.charAt(0).toLowerCase() + v.slice(1);
    const factory = (tf.initializers as unknown as Record<string, (a?: object) => Initializer>)[name];
    if (typeof factory !== 'function') throw new Error(`unknown initializer ${JSON.stringify(v)}`);
    return factory({});
  }
  if (v instanceof tf.serialization.Serializable) return v as Initializer;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[v.className];
  if (!entry) throw new Error(`unknown initializer class ${JSON.stringify(v.className)}`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, v.config) as Initializer;
}

export function serializeInitializer(init: Initializer): SerializedInitializer {
  return { className: init.getClassName(), config: init.getConfig() };
}

export interface FusedRecurrentArgs {
  units: number;
  /** Output every step [B, T, H] (default true) or only the last [B, H]. */
  returnSequences?: boolean;
  /** Also output the final state(s), as tf.layers.lstm/gru do. */
  returnState?: boolean;
  useBias?: boolean;
  kernelInitializer?: InitializerLike;
  recurrentInitializer?: InitializerLike;
  biasInitializer?: InitializerLike;
  name?: string;
  trainable?: boolean;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
  dtype?: tf.DataType;
}

/** The fused op's result for x [B, T, in]: all outputs and the final states (h first). */
export interface SequenceResult {
  output: tf.Tensor3D;
  states: tf.Tensor2D[];
}

export abstract class FusedRecurrentLayer extends tf.layers.Layer {
  readonly units: number;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly useBias: boolean;
  protected readonly kernelInitializer: Initializer;
  protected readonly recurrentInitializer: Initializer;
  protected readonly biasInitializer: Initializer;
  protected kernel?: tf.LayerVariable;
  protected recurrentKernel?: tf.LayerVariable;
  protected bias?: tf.LayerVariable;

  /** Gates per unit: 4 (LSTM) or 3 (GRU). */
  protected abstract readonly gates: number;
  /** Final states returned with returnState: 2 (h, c) or 1 (h). */
  protected abstract readonly stateCount: number;
  /** Runs the fused op; states are needed only when `withStates` (returnState, or for the last h). */
  protected abstract runSequence(x: tf.Tensor3D, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D, withStates: boolean): SequenceResult;

  constructor(args: FusedRecurrentArgs, kind: string) {
    const { units, returnSequences, returnState, useBias, kernelInitializer, recurrentInitializer, biasInitializer, ...base } = args;
    super(base as object);
    if (!Number.isInteger(units) || units < 1) throw new Error(`${kind}: units must be a positive integer, got ${units}`);
    this.units = units;
    this.returnSequences = returnSequences ?? true;
    this.returnState = returnState ?? false;
    this.useBias = useBias ?? true;
    this.kernelInitializer = toInitializer(kernelInitializer, () => tf.initializers.glorotUniform({}));
    this.recurrentInitializer = toInitializer(recurrentInitializer, () => tf.initializers.orthogonal({}));
    this.biasInitializer = toInitializer(biasInitializer, () => tf.initializers.zeros());
    this.supportsMasking = false;
  }

  /** Hook for an initial bias other than the initializer's (LSTM's unit forget bias). */
  protected initializeBias(_bias: tf.LayerVariable): void {}

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inDim = shape[shape.length - 1];
    if (inDim == null) throw new Error(`${this.getClassName()}: the last input dimension must be known`);
    const G = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [inDim, G], 'float32', this.kernelInitializer);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, G], 'float32', this.recurrentInitializer);
    if (this.useBias) {
      this.bias = this.addWeight('bias', [G], 'float32', this.biasInitializer);
      this.initializeBias(this.bias);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out: tf.Shape = this.returnSequences ? [shape[0]!, shape[1]!, this.units] : [shape[0]!, this.units];
    return this.returnState ? [out, ...Array.from({ length: this.stateCount }, () => [shape[0]!, this.units])] : out;
  }

  override computeMask(): tf.Tensor | tf.Tensor[] {
    // No masking support: no output mask (tf.js layers accept null here despite the declared type).
    return (this.returnState ? Array(this.stateCount + 1).fill(null) : null) as unknown as tf.Tensor[];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
      const bias = this.bias ? (this.bias.read() as tf.Tensor1D) : (tf.zeros([this.gates * this.units]) as tf.Tensor1D);
      const r = this.runSequence(x, this.kernel!.read() as tf.Tensor2D, this.recurrentKernel!.read() as tf.Tensor2D, bias, this.returnState);
      const [B, T] = x.shape;
      const out = this.returnSequences ? r.output : (tf.slice(r.output, [0, T - 1, 0], [B, 1, this.units]).reshape([B, this.units]) as tf.Tensor2D);
      return this.returnState ? [out, ...r.states] : out;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      recurrentInitializer: serializeInitializer(this.recurrentInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
    } as tf.serialization.ConfigDict;
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }
}
