/**
 * Text-quality metrics for evaluating model outputs: pure functions, no dependencies.
 * All scores are fractions in [0, 1] (not percentages). See each module's header for
 * its exact contract (tokenization, edge cases).
 */
export { bleuTokens, isCharLang, metricTokens, normalizeAnswer, wordTokens } from './tokens.ts';
export { bleuFromTexts, clippedMatches, corpusBleu, ngramCounts } from './bleu.ts';
export type { BleuResult } from './bleu.ts';
export { corpusRouge, lcsLength, rougeL, rougeLTokens, rougeN, rougeNTokens, rougeScores } from './rouge.ts';
export type { PRF, RougeScores } from './rouge.ts';
export { corpusQa, exactMatch, tokenF1 } from './qa.ts';
export { classificationMetrics } from './classification.ts';
export type { ClassStats, ClassificationResult } from './classification.ts';
