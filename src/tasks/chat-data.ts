/**
 * Dataset rows → chat conversations (task `chat`). A row is either
 *   {messages: [{role, content}, …]}  — a conversation (JSONL; the array arrives as its JSON text), or
 *   {prompt, response}                — one exchange, for convenience (= a user and an assistant message).
 * Roles: system, developer (rendered as system), user, assistant. A conversation must contain at
 * least one assistant message with text (what the loss counts). Column names can be remapped with
 * `columns.messages` / `columns.prompt` / `columns.response`. Every problem is a
 * ServiceError('invalid_dataset') naming the 1-based row and the field.
 */
import { ServiceError } from '../errors.ts';
import type { TemplateMessage } from './chat-template.ts';
import { resolveColumns, type Role } from './task-data.ts';

export interface Conversation {
  messages: TemplateMessage[];
  group?: string;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);
const invalid = (message: string) => new ServiceError('invalid_dataset', message);

function parseMessages(raw: string, row: number, col: string): TemplateMessage[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalid(`row ${row}: column "${col}" must be an array of {role, content} messages (JSON)`);
  }
  if (!Array.isArray(value) || value.length === 0) throw invalid(`row ${row}: column "${col}" must be a non-empty array of {role, content} messages`);
  return value.map((m: unknown, i) => {
    const msg = m as { role?: unknown; content?: unknown };
    if (typeof m !== 'object' || m === null || typeof msg.role !== 'string' || !ROLES.has(msg.role)) {
      throw invalid(`row ${row}: ${col}[${i}].role must be one of system, developer, user, assistant; got ${JSON.stringify(msg?.role ?? null)}`);
    }
    if (typeof msg.content !== 'string') throw invalid(`row ${row}: ${col}[${i}].content must be a string`);
    return { role: msg.role as TemplateMessage['role'], content: msg.content };
  });
}

export function chatConversations(records: readonly Record<string, string>[], columns?: Partial<Record<Role, string>>): Conversation[] {
  if (records.length === 0) throw invalid('the dataset has no rows');
  const cols = resolveColumns('chat', columns);
  return records.map((r, i) => {
    const row = i + 1;
    const group = r[cols.group!]?.trim() ? { group: r[cols.group!]! } : {};
    const raw = r[cols.messages!];
    let messages: TemplateMessage[];
    if (raw !== undefined) messages = parseMessages(raw, row, cols.messages!);
    else {
      const prompt = r[cols.prompt!];
      const response = r[cols.response!];
      if (prompt === undefined || response === undefined) {
        throw invalid(`row ${row}: a chat row needs "${cols.messages}" (a conversation) or "${cols.prompt}" and "${cols.response}"; its columns are ${Object.keys(r).join(', ') || '(none)'}`);
      }
      messages = [{ role: 'user', content: prompt }, { role: 'assistant', content: response }];
    }
    if (!messages.some((m) => m.role === 'assistant' && m.content.trim() !== '')) {
      throw invalid(`row ${row}: the conversation has no assistant message with text (the loss counts assistant turns only)`);
    }
    return { messages, ...group };
  });
}
