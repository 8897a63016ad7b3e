/**
 * The most recent served decisions, kept in memory for `GET /monitoring`: each attribute value and
 * P(bad) in flat typed arrays (a ring), binned only when a report is asked for, so recording costs
 * a few stores per decision and a model reload needs no re-recording.
 * @module
 */

import { ATTRIBUTES, isCategorical } from "../data/schema.ts";
import { DriftCounter, type DriftReport } from "../monitoring/psi.ts";
import type { DriftReference } from "../monitoring/reference.ts";

/** A ring of the latest decisions, compared with a training reference on demand. */
export class ServedWindow {
  readonly capacity: number;
  readonly #values: Float64Array;
  readonly #scores: Float64Array;
  readonly #models: Int32Array;
  readonly #times: Float64Array;
  readonly #modelKeys = new Map<string, number>();
  #next = 0;
  #size = 0;
  #added = 0;

  constructor(capacity = 10_000) {
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      throw new RangeError(`window capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#values = new Float64Array(capacity * ATTRIBUTES.length);
    this.#scores = new Float64Array(capacity);
    this.#models = new Int32Array(capacity);
    this.#times = new Float64Array(capacity);
  }

  /** Decisions held. */
  get size(): number {
    return this.#size;
  }

  /** Decisions ever added (held or since pushed out), so a reader can tell how many are new. */
  get added(): number {
    return this.#added;
  }

  /** Records one decision: the applicant, its P(bad), the model (run id) that scored it, when. */
  add(
    applicant: Readonly<Record<string, unknown>>,
    probability: number,
    model: string,
    time = Date.now(),
  ): void {
    const at = this.#next;
    const base = at * ATTRIBUTES.length;
    for (let i = 0; i < ATTRIBUTES.length; i++) {
      const codes = CODE_INDEX[i];
      const value = applicant[ATTRIBUTES[i].name];
      this.#values[base + i] = codes ? codes.get(value as string) ?? -1 : Number(value);
    }
    this.#scores[at] = probability;
    let key = this.#modelKeys.get(model);
    if (key === undefined) this.#modelKeys.set(model, key = this.#modelKeys.size);
    this.#models[at] = key;
    this.#times[at] = time;
    this.#next = (at + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    this.#added++;
  }

  /** The oldest and newest decision times (ms since the epoch), or nulls when empty. */
  span(): { from: number | null; to: number | null } {
    if (this.#size === 0) return { from: null, to: null };
    const oldest = this.#size < this.capacity ? 0 : this.#next;
    const newest = (this.#next - 1 + this.capacity) % this.capacity;
    return { from: this.#times[oldest], to: this.#times[newest] };
  }

  /** PSI of the window against a reference; the score counts only decisions of model `model`. */
  report(reference: DriftReference, model: string): DriftReport {
    const counter = new DriftCounter(reference);
    counter.addRows(this.#size);
    const names = ATTRIBUTES.map((a) => a.name);
    for (let r = 0; r < this.#size; r++) {
      const base = r * ATTRIBUTES.length;
      for (let i = 0; i < ATTRIBUTES.length; i++) {
        const codes = CODE_LIST[i];
        const value = this.#values[base + i];
        counter.addValue(names[i], codes ? codes[value] : value);
      }
    }
    const key = this.#modelKeys.get(model);
    if (key !== undefined) {
      for (let r = 0; r < this.#size; r++) if (this.#models[r] === key) counter.addScore(this.#scores[r]);
    }
    return counter.report();
  }
}

/** Per attribute, code → index (categorical) or null (numeric); and the reverse lists. */
const CODE_INDEX: readonly (ReadonlyMap<string, number> | null)[] = ATTRIBUTES.map((a) =>
  isCategorical(a) ? new Map(a.codes.map((c, k) => [c.code as string, k])) : null
);
const CODE_LIST: readonly (readonly string[] | null)[] = ATTRIBUTES.map((a) =>
  isCategorical(a) ? a.codes.map((c) => c.code as string) : null
);
