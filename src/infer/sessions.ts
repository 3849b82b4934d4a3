/**
 * Chat sessions: what the server keeps between the turns of a conversation so the next turn runs
 * only its new tokens. A session holds the conversation (messages, for `message`-only turns and for
 * rebuilding) and, when the last turn's ids allow it, the model's state after them
 * (`ids`: exactly the ids that state covers; per layer h, and c for LSTM: [1, H]; for a Transformer
 * the KV cache, K and V [1, heads, ids, width / heads] per layer, which grows with the conversation).
 *
 * Bounds: at most `maxSessions` (LRU), each dropped `ttlMs` after its last use, and all of them
 * together under `maxBytes` (state tensors + ids + text; least recently used go first). Dropping a
 * session disposes its tensors at once. Sessions survive nothing (not a restart, not a model
 * reload) but are never wrong: a state is only reused for the exact model version and id prefix it
 * was computed for (infer/chat.ts checks), otherwise the turn re-reads the history.
 *
 * Ownership: a running turn `checkout`s the state (the store no longer holds it; a second turn on
 * the same session meanwhile is refused with session_busy) and `commit`s the new one when it ends;
 * a state committed to a session deleted or evicted meanwhile is disposed.
 *
 * Keys (docs/auth.md): session ids live in one namespace per owner (the API key's name; null with
 * auth off), so two keys using the same id never share a conversation. `Viewer` reads and deletes
 * by id in the caller's namespace; an admin viewer also finds the id in any other namespace.
 */
import { disposeModelState as disposeState, modelStateBytes, type ModelState } from '../arch/model-state.ts';
import { ServiceError } from '../errors.ts';
import type { ChatMessage, ChatSessionInfo } from '../schemas/chat.ts';

export interface KeptState {
  /** `name@version` of the model that computed the state. */
  ref: string;
  ids: number[];
  /** Recurrent (h, c) or a Transformer's KV cache [1, H, ids.length, D] per layer. */
  state: ModelState;
}

/** Who asks: the owner namespace of its own sessions, and whether it may see every owner's. */
export interface Viewer {
  owner: string | null;
  all: boolean;
}
/** Auth off (and in-process callers): the one unnamed namespace, and everything visible. */
const ANYONE: Viewer = { owner: null, all: true };
const storeKey = (id: string, owner: string | null): string => (owner === null ? id : `${owner}\u0000${id}`);

interface Session {
  /** Map key: the id within its owner's namespace. */
  key: string;
  id: string;
  owner: string | null;
  /** Model name (a session belongs to one model; versions may change under it). */
  model: string;
  ref: string;
  messages: ChatMessage[];
  kept: KeptState | undefined;
  busy: boolean;
  createdAt: number;
  lastUsed: number;
  bytes: number;
}

export interface SessionLimits {
  maxSessions: number;
  ttlMs: number;
  maxBytes: number;
}

/** A kept state's tensor bytes: what the memory cap counts (for a Transformer, the KV cache: 2 · layers · ids · width · 4). */
export const stateBytes = (s: ModelState): number => modelStateBytes(s);

function sessionBytes(s: Pick<Session, 'messages' | 'kept'>): number {
  const text = s.messages.reduce((n, m) => n + 2 * m.content.length + 16, 0);
  return text + (s.kept ? stateBytes(s.kept.state) + 4 * s.kept.ids.length : 0);
}

export class SessionStore {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly sessions = new Map<string, Session>();
  private bytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    // Expired sessions free their tensors even when no request comes.
    this.timer = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1000, limits.ttlMs / 4)));
    this.timer.unref();
  }

  get enabled(): boolean {
    return this.limits.maxSessions > 0;
  }

  get size(): number {
    return this.sessions.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** The session `id` as `viewer` sees it: its own namespace first, then (admin) any owner's. */
  private find(id: string, viewer: Viewer): Session | undefined {
    const own = this.sessions.get(storeKey(id, viewer.owner));
    if (own || !viewer.all) return own;
    for (const s of this.sessions.values()) if (s.id === id) return s;
    return undefined;
  }

  info(id: string, viewer: Viewer = ANYONE): ChatSessionInfo | undefined {
    this.sweep();
    const s = this.find(id, viewer);
    if (!s) return undefined;
    return {
      id: s.id,
      model: s.ref,
      messages: s.messages.length,
      tokens: s.kept?.ids.length ?? 0,
      state_bytes: s.kept ? stateBytes(s.kept.state) : 0,
      created_at: new Date(s.createdAt).toISOString(),
      last_used_at: new Date(s.lastUsed).toISOString(),
      expires_at: new Date(s.lastUsed + this.limits.ttlMs).toISOString(),
    };
  }

  /** Drops a session and its state; false when there was none. */
  delete(id: string, viewer: Viewer = ANYONE): boolean {
    const s = this.find(id, viewer);
    if (!s) return false;
    this.drop(s);
    return true;
  }

  /**
   * Starts a turn on session `id` for model `name`: returns the kept conversation and state (now
   * owned by the caller), or undefined for an unknown (new, expired or evicted) session.
   * Throws for a session of another model (400, param `session`) or one with a turn running (409).
   */
  checkout(id: string, name: string, owner: string | null = null): { messages: ChatMessage[]; kept: KeptState | undefined } | undefined {
    this.sweep();
    const s = this.sessions.get(storeKey(id, owner));
    if (!s) return undefined;
    if (s.model !== name) {
      throw new ServiceError('invalid_parameter', `session: "${id}" is a session of model ${s.model}, not ${name}; use a new session id for another model`, { param: 'session' });
    }
    if (s.busy) throw new ServiceError('session_busy', `session: "${id}" is answering another turn; send the next turn after its done frame`, { param: 'session' });
    s.busy = true;
    const kept = s.kept;
    this.resize(s, { messages: s.messages, kept: undefined });
    s.kept = undefined;
    this.touch(s);
    return { messages: s.messages, kept };
  }

  /** Ends a turn started with checkout (or a session's first turn): stores the new conversation and state. */
  commit(id: string, name: string, ref: string, messages: ChatMessage[], kept: KeptState | undefined, started: boolean, owner: string | null = null): void {
    const key = storeKey(id, owner);
    let s = this.sessions.get(key);
    if (started && !s) {
      // Deleted or evicted while the turn ran: the client's DELETE wins; nothing is kept.
      if (kept) disposeState(kept.state);
      return;
    }
    if (!s) {
      s = { key, id, owner, model: name, ref, messages: [], kept: undefined, busy: false, createdAt: this.now(), lastUsed: this.now(), bytes: 0 };
      this.sessions.set(key, s);
    }
    if (s.kept) disposeState(s.kept.state);
    s.busy = false;
    s.ref = ref;
    this.resize(s, { messages, kept });
    s.messages = messages;
    s.kept = kept;
    this.touch(s);
    this.enforce(s);
  }

  /** A turn that failed: the session stays (with its conversation) but keeps no state. */
  release(id: string, owner: string | null = null): void {
    const s = this.sessions.get(storeKey(id, owner));
    if (s) s.busy = false;
  }

  /** Drops every session (shutdown, tests). */
  clear(): void {
    for (const s of [...this.sessions.values()]) this.drop(s);
    clearInterval(this.timer);
  }

  private touch(s: Session): void {
    s.lastUsed = this.now();
    this.sessions.delete(s.key);
    this.sessions.set(s.key, s);
  }

  private resize(s: Session, next: Pick<Session, 'messages' | 'kept'>): void {
    const bytes = sessionBytes(next);
    this.bytes += bytes - s.bytes;
    s.bytes = bytes;
  }

  private drop(s: Session): void {
    this.sessions.delete(s.key);
    this.bytes -= s.bytes;
    if (s.kept) disposeState(s.kept.state);
    s.kept = undefined;
  }

  /** LRU eviction down to the count and memory caps; `keep` (just used) goes last. */
  private enforce(keep: Session): void {
    for (const s of [...this.sessions.values()]) {
      if (this.sessions.size <= this.limits.maxSessions && this.bytes <= this.limits.maxBytes) break;
      if (s === keep || s.busy) continue;
      this.drop(s);
    }
    if (this.sessions.size > this.limits.maxSessions || this.bytes > this.limits.maxBytes) this.drop(keep);
  }

  private sweep(): void {
    const cutoff = this.now() - this.limits.ttlMs;
    for (const s of [...this.sessions.values()]) {
      if (s.lastUsed > cutoff) break; // recency order: the rest are newer
      if (!s.busy) this.drop(s);
    }
  }
}
