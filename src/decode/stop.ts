/**
 * Stop sequences on the generated TEXT (not on token ids), so a stop string may span any number of
 * tokens. The matcher sees the text in arrival order and emits it as early as is safe: it holds
 * back only the longest tail that is still a proper prefix of some stop sequence. When a stop
 * sequence completes, everything before it is emitted and the stop text itself never is.
 *
 * Invariant: the emitted text is always a prefix of the final output, and the final output is the
 * generated text truncated at the start of the earliest stop sequence (or all of it if none).
 */
export interface StopPush {
  /** Text that is now safe to show; '' when everything new is held back. */
  emit: string;
  /** True once a stop sequence has completed; later pushes emit nothing. */
  stopped: boolean;
}

export class StopSequenceMatcher {
  private readonly stops: readonly string[];
  /** Text received but not yet emitted: a possible beginning of a stop sequence. */
  private pending = '';
  private done = false;
  /** The stop sequence that matched, once `stopped`; null before. */
  private matchedStop: string | null = null;

  /** Empty strings in `stops` are ignored (they would match before any text). */
  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  get stopped(): boolean {
    return this.done;
  }

  /** The stop sequence that ended generation, or null. */
  get matched(): string | null {
    return this.matchedStop;
  }

  push(text: string): StopPush {
    if (this.done) return { emit: '', stopped: true };
    const buffer = this.pending + text;
    if (this.stops.length === 0) return { emit: buffer, stopped: false };

    // Earliest occurrence wins; on equal start the longer stop wins (its text is a superset).
    let at = -1;
    let matched = '';
    for (const stop of this.stops) {
      const i = buffer.indexOf(stop);
      if (i >= 0 && (at < 0 || i < at || (i === at && stop.length > matched.length))) {
        at = i;
        matched = stop;
      }
    }
    if (at >= 0) {
      this.done = true;
      this.matchedStop = matched;
      this.pending = '';
      return { emit: buffer.slice(0, at), stopped: true };
    }

    const hold = this.heldTailLength(buffer);
    this.pending = buffer.slice(buffer.length - hold);
    return { emit: buffer.slice(0, buffer.length - hold), stopped: false };
  }

  /** End of generation: returns the held-back text ('' after a stop matched). */
  flush(): string {
    const rest = this.done ? '' : this.pending;
    this.pending = '';
    return rest;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some stop sequence. */
  private heldTailLength(buffer: string): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, buffer.length); k > best; k--) {
        if (buffer.endsWith(stop.slice(0, k))) {
          best = k;
          break;
        }
      }
    }
    return best;
  }
}
