/**
 * Per-key concurrency caps (`max_concurrent` in the key file): HTTP requests and WebSocket
 * generations in flight at once for one key. Over the cap: 429 rate_limited with Retry-After.
 */
import { ServiceError } from '../errors.ts';
import type { Principal } from './scopes.ts';

export class KeyConcurrency {
  private readonly inFlight = new Map<string, number>();

  /** Counts one more request for `p`; returns its release (idempotent). Throws 429 when over the cap. */
  acquire(p: Principal | null): () => void {
    if (p === null || p.maxConcurrent === null) return () => undefined;
    const n = this.inFlight.get(p.name) ?? 0;
    if (n >= p.maxConcurrent) {
      throw new ServiceError('rate_limited', `key "${p.name}" already has ${n} requests in flight (max_concurrent ${p.maxConcurrent} in its key entry); retry when one finishes`, {
        headers: { 'retry-after': '1' },
      });
    }
    this.inFlight.set(p.name, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(p.name) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(p.name);
      else this.inFlight.set(p.name, left);
    };
  }

  /** Requests in flight for the key named `name` (for tests and metrics). */
  count(name: string): number {
    return this.inFlight.get(name) ?? 0;
  }
}
