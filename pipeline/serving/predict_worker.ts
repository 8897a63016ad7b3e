/**
 * Worker side of {@link PredictionPool}: keeps the forests it was sent (by key) and scores the
 * feature matrices posted to it (or computes their rows' Shapley values), handing the probabilities back without copying.
 * @module
 */

import { PackedPredictor, TreeShapExplainer } from "../forest/mod.ts";
import type { PredictJob, PredictReply } from "./predict_pool.ts";

/** Forests kept per key; two cover a model swap in progress. */
const KEPT_FORESTS = 2;

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<PredictJob>) => void) | null;
  postMessage(message: PredictReply, transfer?: Transferable[]): void;
};

const forests = new Map<string, PackedPredictor>();
const explainers = new Map<string, TreeShapExplainer>();

scope.onmessage = (event) => {
  const job = event.data;
  try {
    if (job.kind === "explain") {
      if (job.source) {
        explainers.delete(job.key);
        explainers.set(job.key, new TreeShapExplainer(job.source.forest, job.source.players));
        while (explainers.size > KEPT_FORESTS) explainers.delete(explainers.keys().next().value!);
      }
      const explainer = explainers.get(job.key);
      if (!explainer) throw new Error(`worker has no explainer ${job.key}`);
      const players = explainer.nPlayers;
      const out = new Float64Array(job.rows * players);
      for (let i = 0; i < job.rows; i++) {
        explainer.shapValues(
          job.data.subarray(i * job.cols, (i + 1) * job.cols),
          out.subarray(i * players, (i + 1) * players),
        );
      }
      scope.postMessage({ id: job.id, out }, [out.buffer as ArrayBuffer]);
      return;
    }
    if (job.forest) {
      forests.delete(job.key);
      forests.set(job.key, new PackedPredictor(job.forest));
      while (forests.size > KEPT_FORESTS) forests.delete(forests.keys().next().value!);
    }
    const forest = forests.get(job.key);
    if (!forest) throw new Error(`worker has no forest ${job.key}`);
    if (job.cols !== forest.forest.nFeatures) {
      throw new RangeError(`rows have ${job.cols} features, the model expects ${forest.forest.nFeatures}`);
    }
    const out = new Float64Array(job.rows);
    forest.predictInto(job.data, job.rows, out);
    scope.postMessage({ id: job.id, out }, [out.buffer as ArrayBuffer]);
  } catch (error) {
    scope.postMessage({ id: job.id, error: (error as Error).message ?? String(error) });
  }
};
