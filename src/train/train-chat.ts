/**
 * The chat trainer (task `chat`): a recurrent language model over conversations rendered with the
 * chat template (tasks/chat-template.ts), with the loss counted on assistant tokens only (content and
 * its `<|end|>`; the targets of every other position are masked to PAD_ID, which the loss ignores).
 *
 * Conversations are split (seeded, whole conversations; rows sharing a `group` stay together), the
 * tokenizer is fitted on the training conversations' text, and the rendered conversations are
 * concatenated (each starts with <bos>) and cut into windows exactly like `generate` (lm-data.ts).
 * Held-out metrics: val_loss / perplexity over the held-out assistant tokens, next to the retrieval
 * baseline (chat-baseline.ts).
 */
import { PAD_ID, fitTokenizerFor, loadTokenizer } from '../tokenize/index.ts';
import type { TrainJobData } from '../queue/contract.ts';
import { ChatTokenizer } from '../tasks/chat-template.ts';
import type { Conversation } from '../tasks/chat-data.ts';
import { assertEnoughTokens, epochPlan, validationBatches, type Batch } from './lm-data.ts';
import { FRESH_START, GradStats, lossMetrics, perEpoch, resumeFromCheckpoint, runTrainingLoop, trainingSummary, type LoopStart, type TrainHooks } from './loop.ts';
import type { DataParallelStep, ParallelOptions } from './data-parallel.ts';
import { startWindowParallel } from './window-replica.ts';
import { buildWindowModel, windowOptimizer, windowLoss, windowOf, windowTrainableRun, type WindowModel } from './window-lm.ts';
import { splitExamples } from './epoch-order.ts';
import { assistantTurns, retrievalBaseline } from './chat-baseline.ts';
import { describeTransformerSize, type TrainOutcome } from './train-lm.ts';
import { checkQuality } from './quality-check.ts';

export interface ChatOutcome extends TrainOutcome {
  chat: ChatTokenizer;
}

/** Rendered conversations → ids and targets (non-assistant targets masked to PAD_ID). */
export function encodeConversations(chat: ChatTokenizer, conversations: readonly Conversation[]): { ids: Int32Array; targets: Int32Array; counted: number } {
  const ids: number[] = [];
  const targets: number[] = [];
  let counted = 0;
  for (const c of conversations) {
    const r = chat.renderForTraining(c.messages);
    r.ids.forEach((id, i) => {
      ids.push(id);
      targets.push(r.weights[i] ? id : PAD_ID);
      counted += r.weights[i]!;
    });
  }
  return { ids: Int32Array.from(ids), targets: Int32Array.from(targets), counted };
}

/** Mean cross-entropy over the counted (non-PAD) targets of the batches, or null when there are none. */
export function maskedLoss(model: WindowModel, batches: readonly Batch[]): number | null {
  return windowLoss(model, batches, PAD_ID);
}

export async function trainChatModel(job: TrainJobData, conversations: readonly Conversation[], hooks: TrainHooks, parallelism: ParallelOptions = {}): Promise<ChatOutcome> {
  const started = Date.now();
  const resumed = hooks.checkpoint ? await hooks.checkpoint.load() : null;
  const { train, val } = splitExamples(conversations, job.hyperparameters.validation_split, job.hyperparameters.seed);
  const texts = train.flatMap((c) => c.messages.map((m) => m.content));
  const base = resumed ? loadTokenizer(resumed.state.tokenizer) : fitTokenizerFor(job.tokenizer, texts);
  const chat = new ChatTokenizer(base);
  const trainData = encodeConversations(chat, train);
  const valData = encodeConversations(chat, val);
  const { model, hp, chosen } = buildWindowModel(job, chat.vocabSize, trainData.ids.length);
  const window = windowOf(model, hp);
  try {
    assertEnoughTokens(trainData.ids.length, window, job.architecture === 'transformer' ? 'context_length' : 'sequence_length');
  } catch (err) {
    model.dispose();
    throw err;
  }
  const valBatches = validationBatches(valData.ids, window, hp.batch_size, valData.targets);
  const optimizer = windowOptimizer(model, hp);
  let parallel: DataParallelStep | null = null;
  try {
    const start: LoopStart = resumed ? await resumeFromCheckpoint(resumed, (w) => model.setWeights(w), optimizer, hooks) : FRESH_START;
    if (!resumed) {
      await hooks.log(`chat: ${train.length} training / ${val.length} held-out conversations; tokenizer ${base.type}: ${base.vocabSize} tokens + 4 role markers; ${trainData.ids.length} training ids (${trainData.counted} assistant targets)`);
    }
    if (Object.keys(chosen).length > 0) await hooks.log(describeTransformerSize(trainData.ids.length, chosen));
    const planFor = perEpoch((epoch) => epochPlan(trainData.ids, window, hp.batch_size, hp.seed, epoch, trainData.targets));
    const gradStats = new GradStats();
    parallel = await startWindowParallel({
      trainThreads: parallelism.trainThreads ?? 1, job, model, hp, vocabSize: chat.vocabSize, trainTokens: trainData.ids.length, ignoreId: PAD_ID, optimizer, log: hooks.log,
    });
    const result = await runTrainingLoop(
      windowTrainableRun({
        model, optimizer, hp, planFor, gradStats, parallel, ignoreId: PAD_ID,
        validate: () => maskedLoss(model, valBatches),
        checkpointExtra: () => ({ tokenizer: base.toJSON() }),
      }),
      optimizer,
      hooks,
      start,
    );
    const metrics = { ...lossMetrics(result, true), ...retrievalBaseline(chat, assistantTurns(train), assistantTurns(val)) };
    const steps = result.steps; // optimizer steps over all sessions (the loop counts them)
    const qualityWarning = result.stopped ? null : await checkQuality('chat', metrics, { steps, train_examples: train.length }, hooks);
    return {
      stopped: result.stopped, model, tokenizer: base, chat, metrics, qualityWarning, steps, summary: trainingSummary(result), epochsCompleted: result.epochsCompleted,
      tokensPerSec: result.tokensPerSec, durationSec: (Date.now() - started) / 1000, hyperparameters: hp, autoSized: chosen,
    };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
    await parallel?.close(); // every exit (done, cancelled, failed) ends the gradient threads
  }
}
