/**
 * Dataset rows → task examples. Each task reads named roles from a row; a training request may map
 * a role to another column name (`columns: {source: "en", target: "fr"}`). Roles and defaults:
 *   generate:            text
 *   summarize/translate: source, target
 *   qa:                  question, context (optional: a row without it trains "closed-book"), answer
 *   classify:            text, label
 * and, for every task but generate, an optional `group`: rows with the same group value always land
 * on the same side of the train/validation split (e.g. all questions about one document), so the
 * held-out metrics measure generalisation to unseen groups.
 * Every problem is a ServiceError('invalid_dataset') naming the role, the column and the 1-based row.
 */
import { ServiceError } from '../errors.ts';
import type { ModelTask } from '../store/manifest.ts';

export type PairTask = 'summarize' | 'translate' | 'qa';
export type Role = 'text' | 'source' | 'target' | 'question' | 'context' | 'answer' | 'label' | 'group' | 'messages' | 'prompt' | 'response';

interface RoleSpec {
  required: Role[];
  optional: Role[];
}

export const TASK_ROLES: Record<ModelTask, RoleSpec> = {
  generate: { required: ['text'], optional: [] },
  summarize: { required: ['source', 'target'], optional: ['group'] },
  translate: { required: ['source', 'target'], optional: ['group'] },
  qa: { required: ['question', 'answer'], optional: ['context', 'group'] },
  classify: { required: ['text', 'label'], optional: ['group'] },
  // chat: `messages` (a conversation) or a `prompt`/`response` pair per row (tasks/chat-data.ts checks).
  chat: { required: [], optional: ['messages', 'prompt', 'response', 'group'] },
};

/** A Seq2Seq example. For QA, `source` is the question and `context` the passage (if any). */
export interface PairExample {
  source: string;
  context?: string;
  target: string;
  group?: string;
  /** Retrieval-augmented models: the target of the nearest training example (tasks/retrieval.ts). */
  retrieved?: string;
}

export interface LabeledExample {
  text: string;
  label: string;
  group?: string;
}

const invalid = (message: string) => new ServiceError('invalid_dataset', message);

/** Resolves the column name of every role of `task`; rejects mappings of roles the task lacks. */
export function resolveColumns(task: ModelTask, columns: Partial<Record<Role, string>> = {}): Partial<Record<Role, string>> {
  const spec = TASK_ROLES[task];
  const roles = [...spec.required, ...spec.optional];
  for (const key of Object.keys(columns)) {
    if (!roles.includes(key as Role)) {
      throw new ServiceError('invalid_parameter', `columns.${key} does not apply to task ${task}; its columns are ${roles.join(', ')}`);
    }
  }
  return Object.fromEntries(roles.map((r) => [r, columns[r] ?? r]));
}

/**
 * Checks that the dataset has every required column (CSV/TSV header, or any JSONL row) before rows
 * are read, so a wrong column name is reported as such rather than as an empty row.
 */
function checkColumnsPresent(task: ModelTask, records: readonly Record<string, string>[], cols: Partial<Record<Role, string>>): void {
  const seen = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) seen.add(k);
  for (const role of TASK_ROLES[task].required) {
    const col = cols[role]!;
    if (!seen.has(col)) {
      const hint = col === role ? '' : ` (columns.${role})`;
      throw invalid(`the dataset has no column "${col}"${hint} required by task ${task}; its columns are ${[...seen].join(', ') || '(none)'}`);
    }
  }
  for (const role of ['context', 'group'] as const) {
    const col = cols[role];
    if (col && col !== role && !seen.has(col)) throw invalid(`the dataset has no column "${col}" (columns.${role}); its columns are ${[...seen].join(', ')}`);
  }
}

function value(record: Record<string, string>, col: string, role: Role, row: number, required: boolean): string | undefined {
  const v = record[col];
  if (v === undefined || v.trim() === '') {
    if (!required) return undefined;
    throw invalid(`row ${row}: column "${col}" (${role}) is ${v === undefined ? 'missing' : 'empty'}`);
  }
  return v;
}

export function pairExamples(task: PairTask, records: readonly Record<string, string>[], columns?: Partial<Record<Role, string>>): PairExample[] {
  if (records.length === 0) throw invalid('the dataset has no rows');
  const cols = resolveColumns(task, columns);
  checkColumnsPresent(task, records, cols);
  return records.map((r, i) => {
    const row = i + 1;
    const group = value(r, cols.group!, 'group', row, false);
    const g = group === undefined ? {} : { group };
    if (task === 'qa') {
      const context = value(r, cols.context!, 'context', row, false);
      return { source: value(r, cols.question!, 'question', row, true)!, ...(context ? { context } : {}), target: value(r, cols.answer!, 'answer', row, true)!, ...g };
    }
    return { source: value(r, cols.source!, 'source', row, true)!, target: value(r, cols.target!, 'target', row, true)!, ...g };
  });
}

/** `minLabels`: 2 for training (one class teaches nothing); 1 for evaluating a trained classifier. */
export function labeledExamples(records: readonly Record<string, string>[], columns?: Partial<Record<Role, string>>, minLabels = 2): LabeledExample[] {
  if (records.length === 0) throw invalid('the dataset has no rows');
  const cols = resolveColumns('classify', columns);
  checkColumnsPresent('classify', records, cols);
  const out = records.map((r, i) => {
    const group = value(r, cols.group!, 'group', i + 1, false);
    return { text: value(r, cols.text!, 'text', i + 1, true)!, label: value(r, cols.label!, 'label', i + 1, true)!.trim(), ...(group === undefined ? {} : { group }) };
  });
  const labels = new Set(out.map((e) => e.label));
  if (labels.size < minLabels) throw invalid(`a classifier needs at least 2 distinct labels; column "${cols.label}" has only ${JSON.stringify([...labels][0])}`);
  return out;
}

/** Sorted distinct labels: the class index order of a classifier. */
export function labelSet(examples: readonly LabeledExample[]): string[] {
  return [...new Set(examples.map((e) => e.label))].sort();
}
