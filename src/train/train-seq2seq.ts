/**
 * Seq2Seq training (summarize, translate, qa), independent of BullMQ: fits the tokenizers (one shared
 * vocabulary for summarize and qa; separate source and target vocabularies for translate), splits off
 * a seeded validation set, trains with teacher forcing through the shared loop (loop.ts: progress,
 * checkpoints, resume, stop), then decodes the held-out set greedily and scores it (task-metrics.ts)
 * beside its baselines on the same rows — copy-the-input, lead sentence (summarize) and retrieval (the
 * nearest training example's target, tasks/retrieval.ts) — and warns when it does not beat them
 * (eval/quality.ts). Loss: token cross-entropy with padding masked out.
 *
 * With `retrieval_augmented`, every example's encoder input is `source ⟨sep⟩ retrieved target`: for a
 * training row the nearest OTHER training row, for a held-out row the nearest training row; the
 * source vocabulary then also covers the targets (translate), and the index is published with the model.
 *
 * Translate jobs also fit a word-alignment translator (tasks/word-translation.ts) on the training
 * rows, score it on the same held-out rows, and make the better of the two (BLEU, then chrF) the
 * model's default translator: the headline metrics (`bleu`, `chrf`, `exact_match`) are the default's,
 * and `neural_*` / `word_alignment_*` keep both. The published word translator is fitted on every row.
 */
import * as tf from '@tensorflow/tfjs';
import type { RecurrentKind } from '../arch/lm.ts'; // request.ts refuses transformer for Seq2Seq tasks
import { Seq2SeqModel, type Seq2SeqSpec } from '../arch/seq2seq.ts';
import { copyInputBaseline, generationMetrics, leadBaseline, retrievalBaseline } from '../eval/task-metrics.ts';
import type { QualityWarning } from '../eval/quality.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { fitTokenizerFor, loadTokenizer, type Tokenizer } from '../tokenize/index.ts';
import { FRESH_START, GradStats, lossMetrics, loopRules, optimizerStep, perEpoch, resumeFromCheckpoint, runTrainingLoop, trainingSummary, type LoopStart, type TrainHooks } from './loop.ts';
import { makePairBatch } from '../tasks/pair-encoding.ts';
import { encodePairs, pairBatchTensors, seq2seqDecodingDefaults, seq2seqLoss } from '../tasks/seq2seq-forward.ts';
import { predictTexts } from '../tasks/seq2seq-predict.ts';
import type { PairExample, PairTask } from '../tasks/task-data.ts';
import { RetrievalIndex, retrievalKey, withRetrieved } from '../tasks/retrieval.ts';
import { WordLexicon } from '../decode/lexicon.ts';
import { translationText, WordTranslator, type Translator } from '../tasks/word-translation.ts';
import { bucketedEpoch, splitExamples } from './epoch-order.ts';
import { checkQuality } from './quality-check.ts';
import { applyAutoSize, describeAutoSize, type DataStats } from './auto-size.ts';

/** Held-out examples decoded for the quality metrics at the end of training (the rest only count in val_loss). */
export const MAX_EVAL_EXAMPLES = 1000;

export interface Seq2SeqOutcome {
  stopped: boolean;
  model: Seq2SeqModel;
  spec: Seq2SeqSpec;
  sourceTokenizer: Tokenizer;
  targetTokenizer: Tokenizer;
  metrics: Record<string, number>;
  qualityWarning: QualityWarning | null;
  /** Optimizer steps taken (all sessions). */
  steps: number;
  /**
   * The memory published as retrieval.json: every row of the dataset, the validation rows included
   * (they were held out of the gradient steps, not out of the memory — a translation memory holds
   * everything it was given). Training and the held-out metrics above retrieve from the training
   * rows only, so a validation row never retrieves itself.
   */
  retrieval: RetrievalIndex;
  /** Translate: the word-alignment translator (fitted on every row) and which translator serves by default. */
  wordTranslator?: WordTranslator;
  translator?: Translator;
  /** The hyperparameters trained with (auto-sized ones filled in) and what the policy chose. */
  hyperparameters: TrainJobData['hyperparameters'];
  autoSized: Record<string, number>;
  /** How training ended (manifest `training`, job result). */
  summary: ReturnType<typeof trainingSummary>;
  epochsCompleted: number;
  tokensPerSec: number | null;
  durationSec: number;
}

/** Fits the tokenizers of a task: translate keeps two vocabularies (one with `copy`), the other tasks share one. */
export function fitPairTokenizers(job: TrainJobData, examples: readonly PairExample[]): { source: Tokenizer; target: Tokenizer } {
  const sources = examples.flatMap((e) => (e.context === undefined ? [e.source] : [e.source, e.context]));
  const targets = examples.map((e) => e.target);
  // A retrieval-augmented encoder also reads targets: its vocabulary covers both sides.
  const sourceTexts = job.hyperparameters.retrieval_augmented ? [...sources, ...targets] : sources;
  // A copy model scatters attention onto source ids as target ids: one vocabulary for both sides.
  if (job.task === 'translate' && !job.hyperparameters.copy) return { source: fitTokenizerFor(job.tokenizer, sourceTexts), target: fitTokenizerFor(job.tokenizer, targets) };
  const shared = fitTokenizerFor(job.tokenizer, [...sources, ...targets]);
  return { source: shared, target: shared };
}

export async function trainSeq2Seq(job: TrainJobData & { task: PairTask }, examples: readonly PairExample[], hooks: TrainHooks): Promise<Seq2SeqOutcome> {
  const started = Date.now();
  const resumed = hooks.checkpoint ? await hooks.checkpoint.load() : null;
  // A shared vocabulary must stay ONE object after a resume: publish and checkpoints test identity.
  const resumedSource = resumed ? loadTokenizer(resumed.state.tokenizer) : undefined;
  const toks = resumed
    ? { source: resumedSource!, target: resumed.state.target_tokenizer ? loadTokenizer(resumed.state.target_tokenizer) : resumedSource! }
    : fitPairTokenizers(job, examples);
  const given = job.hyperparameters;
  const split = splitExamples(examples, given.validation_split, given.seed);
  const retrieval = RetrievalIndex.build(split.train);
  const augmented = given.retrieval_augmented;
  const train = augmented ? withRetrieved(split.train, retrieval, true) : split.train;
  const val = augmented ? withRetrieved(split.val, retrieval, false) : split.val;
  const trainPairs = encodePairs(train, toks.source, toks.target, given.max_source_length, given.max_target_length);
  const valPairs = encodePairs(val, toks.source, toks.target, given.max_source_length, given.max_target_length);
  const stats: DataStats = {
    kind: 'seq2seq', rows: train.length, tokens: trainPairs.reduce((n, p) => n + p.tgt.length + 1, 0), vocab: Math.max(toks.source.vocabSize, toks.target.vocabSize),
    chars: train.reduce((n, r) => n + r.target.length + 1, 0), task: job.task,
  };
  const { hyperparameters: hp, chosen } = applyAutoSize(job, stats);

  const spec: Seq2SeqSpec = {
    architecture: job.architecture as RecurrentKind, sourceVocab: toks.source.vocabSize, targetVocab: toks.target.vocabSize,
    layers: hp.layers, units: hp.units, embeddingDim: hp.embedding_dim, bidirectional: hp.bidirectional,
    ...(hp.copy ? { copy: true } : {}),
  };
  const model = new Seq2SeqModel(spec, hp.seed);
  const optimizer = tf.train.adam(hp.learning_rate);
  try {
    const start: LoopStart = resumed ? await resumeFromCheckpoint(resumed, (w) => model.ws.assignOrdered(w), optimizer, hooks) : FRESH_START;
    if (!resumed) {
      const vocab = toks.source === toks.target ? `shared vocabulary ${toks.source.vocabSize}` : `vocabularies ${toks.source.vocabSize} (source) / ${toks.target.vocabSize} (target)`;
      await hooks.log(`${job.task}: ${train.length} training pairs, ${val.length} held out; ${job.tokenizer.type} ${vocab}${augmented ? '; retrieval-augmented inputs' : ''}${hp.copy ? '; copy (pointer-generator)' : ''}`);
    }
    if (Object.keys(chosen).length > 0) await hooks.log(describeAutoSize(stats, chosen));
    const batchesOf = perEpoch((epoch) => bucketedEpoch(trainPairs, (p) => p.src.length, hp.batch_size, hp.seed, epoch));
    const vars = model.ws.variables();
    const gradStats = new GradStats();
    const result = await runTrainingLoop(
      {
        rules: loopRules(hp),
        gradStats,
        stepsIn: (epoch) => (hp.max_steps_per_epoch ? Math.min(batchesOf(epoch).length, hp.max_steps_per_epoch) : batchesOf(epoch).length),
        trainStep: async (epoch, step) => {
          const b = makePairBatch(batchesOf(epoch)[step]!);
          const seed = (hp.seed + epoch * 100003 + step * 7) >>> 0;
          const loss = tf.tidy(() => {
            const t = pairBatchTensors(b);
            const lossFn = () => model.loss(t.src, b.srcLengths, t.tgtIn, t.tgtOut, { dropout: hp.dropout, wordDropout: hp.word_dropout ?? 0, seed, labelSmoothing: hp.label_smoothing });
            return optimizerStep(optimizer, lossFn, vars, { clipNorm: hp.clip_norm, weightDecay: hp.weight_decay, stats: gradStats });
          });
          const value = (await loss.data())[0]!;
          loss.dispose();
          return { loss: value, tokens: b.targetTokens };
        },
        validate: () => seq2seqLoss(model, valPairs, hp.batch_size),
        weights: () => vars,
        setWeights: (w) => model.ws.assignOrdered(w),
        checkpointExtra: () => ({ tokenizer: toks.source.toJSON(), ...(toks.source === toks.target ? {} : { target_tokenizer: toks.target.toJSON() }) }),
      },
      optimizer,
      hooks,
      start,
    );

    const steps = result.steps; // optimizer steps over all sessions (the loop counts them)
    const metrics = lossMetrics(result, true);
    let qualityWarning: QualityWarning | null = null;
    let translator: Translator | undefined = job.task === 'translate' ? 'neural' : undefined;
    if (!result.stopped && val.length > 0) {
      const evalSet = val.slice(0, MAX_EVAL_EXAMPLES);
      // The training targets' words, only when the default decoding writes known words only (summarize).
      const knownWords = seq2seqDecodingDefaults(toks.target.type, job.task).known_words_only;
      const predictions = await predictTexts(model, evalSet, toks.source, toks.target, hp.max_source_length, hp.max_target_length, {
        task: job.task, ...(knownWords ? { lexicon: WordLexicon.fromTexts(split.train.map((e) => e.target)) } : {}),
      });
      const target = job.languages?.target;
      Object.assign(
        metrics,
        generationMetrics(job.task, predictions, evalSet.map((e) => e.target), target),
        copyInputBaseline(job.task, evalSet, target),
        job.task === 'summarize' ? leadBaseline(evalSet) : {},
        retrievalBaseline(job.task, evalSet.map((e) => e.retrieved ?? retrieval.nearestTarget(retrievalKey(e))), evalSet, target),
      );
      if (job.task === 'translate') translator = await chooseTranslator(metrics, WordTranslator.train(split.train), evalSet, toks.target, hp.max_target_length, target, hooks);
      metrics.eval_examples = evalSet.length;
      await hooks.log(`held-out quality on ${evalSet.length} examples: ${JSON.stringify(metrics)}`);
      qualityWarning = await checkQuality(job.task, metrics, { steps, train_examples: train.length }, hooks);
    }
    return {
      stopped: result.stopped, model, spec, sourceTokenizer: toks.source, targetTokenizer: toks.target, metrics, qualityWarning, steps,
      retrieval: split.val.length > 0 ? RetrievalIndex.build([...split.train, ...split.val]) : retrieval,
      ...(translator ? { translator, wordTranslator: WordTranslator.train([...split.train, ...split.val]) } : {}),
      summary: trainingSummary(result), hyperparameters: hp, autoSized: chosen,
      epochsCompleted: result.epochsCompleted, tokensPerSec: result.tokensPerSec, durationSec: (Date.now() - started) / 1000,
    };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
}

/**
 * Scores the word-alignment translator on the held-out rows the neural model was just scored on
 * (`metrics` holds the neural model's bleu, chrf and exact_match), records both under `neural_*` and
 * `word_alignment_*`, and makes the better one (higher BLEU; equal BLEU: higher chrF; a tie: neural)
 * the default: its metrics become the headline ones.
 */
async function chooseTranslator(
  metrics: Record<string, number>, words: WordTranslator, evalSet: readonly PairExample[], tgt: Tokenizer, maxTarget: number, language: string | undefined, hooks: TrainHooks,
): Promise<Translator> {
  const neural = { bleu: metrics.bleu!, chrf: metrics.chrf!, exact_match: metrics.exact_match! };
  const aligned = generationMetrics('translate', evalSet.map((e) => translationText(words, tgt, e.source, maxTarget)), evalSet.map((e) => e.target), language);
  const wins = aligned.bleu! > neural.bleu || (aligned.bleu === neural.bleu && aligned.chrf! > neural.chrf);
  for (const [k, v] of Object.entries(neural)) metrics[`neural_${k}`] = v;
  for (const [k, v] of Object.entries(aligned)) metrics[`word_alignment_${k}`] = v;
  if (wins) Object.assign(metrics, aligned);
  await hooks.log(`translators on ${evalSet.length} held-out rows: neural BLEU ${neural.bleu.toFixed(4)} chrF ${neural.chrf.toFixed(4)}, word alignment BLEU ${aligned.bleu!.toFixed(4)} chrF ${aligned.chrf!.toFixed(4)}: ${wins ? 'word alignment' : 'neural'} serves by default`);
  return wins ? 'word_alignment' : 'neural';
}
