/**
 * Many deadlines of one length on one timer. Deadlines of equal length expire in the order they
 * were started, so a queue replaces a timer per deadline: the one timer waits for the oldest
 * deadline still running, and a cancelled deadline is only marked. A timer per `/predict` body
 * read cost ~3–5 µs of the HTTP thread (Deno's timers are node-compatible `Timeout` objects);
 * this costs one small object (no closure) and a push.
 * @module
 */

/** A running deadline. */
export interface Deadline {
  /** Stops it: its callback will not run. */
  cancel(): void;
}

/** A queued deadline; `cancel` sits on the prototype so that a start allocates no closure. */
class Entry implements Deadline {
  readonly at: number;
  /** Dropped on cancel, so that a finished request's objects are not kept alive until its entry is swept. */
  expired: (() => void) | null;

  constructor(at: number, expired: () => void) {
    this.at = at;
    this.expired = expired;
  }

  cancel(): void {
    this.expired = null;
  }
}

/** Deadlines of `ms` milliseconds, each calling its callback when it expires uncancelled. */
export class DeadlineQueue {
  readonly #ms: number;
  readonly #clock: () => number;
  #queue: Entry[] = [];
  #head = 0;
  /** Queue length at which the cancelled entries are swept out (grows with the live ones). */
  #sweepAt = 1024;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(ms: number, clock: () => number = () => performance.now()) {
    this.#ms = ms;
    this.#clock = clock;
  }

  /** Starts a deadline: `expired` runs `ms` from now unless the deadline is cancelled first. */
  start(expired: () => void): Deadline {
    const entry = new Entry(this.#clock() + this.#ms, expired);
    if (this.#queue.length - this.#head >= this.#sweepAt) this.#sweep();
    this.#queue.push(entry);
    if (this.#timer === undefined && !this.#closed) this.#arm(this.#ms);
    return entry;
  }

  /** Deadlines started and neither expired nor cancelled. */
  get pending(): number {
    let count = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (this.#queue[i].expired) count++;
    return count;
  }

  /** Stops the timer; deadlines still running never expire (the server is shutting down). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#fire, Math.max(0, ms));
    this.#timer.unref(); // the queue alone does not keep the process alive
  }

  #fire = (): void => {
    this.#timer = undefined;
    const now = this.#clock();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const entry = queue[this.#head];
      const expired = entry.expired;
      if (expired && entry.at > now) break;
      this.#head++;
      if (expired) {
        entry.expired = null;
        expired();
      }
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (!this.#closed) this.#arm(queue[this.#head].at - now);
  };

  #sweep(): void {
    this.#queue = this.#queue.slice(this.#head).filter((entry) => entry.expired !== null);
    this.#head = 0;
    this.#sweepAt = Math.max(1024, 2 * this.#queue.length);
  }
}
