/**
 * The model artifact: encoder + forest + decision threshold (+ calibrator) + schema version, in one
 * JSON file. Training writes it; the server, the scoring CLI and the notebooks load it.
 * @module
 */

import { decideAt, type Decision } from "./decision.ts";
import { PlattCalibrator, type PlattJSON } from "./calibration.ts";
import type { DriftReference } from "../monitoring/reference.ts";
import { type PointsExplanation, pointsFromContributions } from "./points.ts";
import {
  AttributeExplainer,
  attributePlayers,
  DEFAULT_REASON_COUNT,
  type Explanation,
  explanationOf,
} from "./reasons.ts";
import type { ShapPlayers } from "../forest/mod.ts";
import { BalancedRandomForest, type Matrix } from "../forest/mod.ts";
import { type EncoderJSON, FeatureEncoder } from "../features/encoder.ts";
import { type Applicant, SCHEMA_VERSION } from "../data/schema.ts";
import { type AttributeProfile, profileFromRecord } from "../data/profile.ts";
import { DEFAULT_SCORE_SCALE, scoreFromPd, type ScoreScale, validateScoreScale } from "./scorecard.ts";
import { sha256Hex } from "../tracking/mod.ts";

/** Format version of the artifact; a loader refuses any other. */
export const MODEL_FORMAT_VERSION = 1;

export type { Decision } from "./decision.ts";

/** The artifact's JSON form. */
export interface ModelArtifact {
  format_version: number;
  schema_version: string;
  run_id: string;
  created_at: string;
  objective: string;
  /** Decline when P(bad) ≥ threshold. */
  threshold: number;
  /** Maps P(bad) to a probability of default (PD). */
  calibrator: PlattJSON;
  /** The points scale of the credit score. */
  score_scale: ScoreScale;
  params: Record<string, unknown>;
  /**
   * The attributes the model may not see (`data/profile.ts`); the encoder's `excluded` agrees. Absent
   * from artifacts written before profiles existed: those saw every attribute (`full`).
   */
  attribute_profile?: { name: string; excluded: string[] };
  /** Training-time bias mitigation (`reweigh`), absent meaning none. */
  mitigation?: string;
  encoder: EncoderJSON;
  forest: ReturnType<BalancedRandomForest["toJSON"]>;
  /** Headline metrics with the protocol that produced them, for `/model` and the form. */
  metrics: Record<string, unknown>;
  /** Training distribution for drift monitoring (absent from artifacts written before it existed). */
  reference?: DriftReference;
}

/** A loaded model, ready to score applicants. */
export class CreditModel {
  readonly artifact: ModelArtifact;
  readonly encoder: FeatureEncoder;
  readonly forest: BalancedRandomForest;
  readonly calibrator: PlattCalibrator;
  readonly scoreScale: ScoreScale;
  /** What the model cannot see; `full` for artifacts older than profiles. */
  readonly profile: AttributeProfile;
  readonly #row: Float64Array;
  #explainer: AttributeExplainer | null = null;
  #players: ShapPlayers | null = null;

  private constructor(artifact: ModelArtifact) {
    this.artifact = artifact;
    this.encoder = FeatureEncoder.fromJSON(artifact.encoder);
    this.forest = BalancedRandomForest.fromJSON(artifact.forest);
    this.calibrator = PlattCalibrator.fromJSON(artifact.calibrator);
    this.scoreScale = validateScoreScale(artifact.score_scale ?? DEFAULT_SCORE_SCALE);
    this.profile = profileFromRecord(artifact.attribute_profile);
    const encoderExcludes = [...this.encoder.options.excluded].sort().join(",");
    if (encoderExcludes !== [...this.profile.excluded].sort().join(",")) {
      throw new TypeError(
        `the artifact's profile ${this.profile.name} excludes [${this.profile.excluded.join(", ")}] ` +
          `but its encoder excludes [${encoderExcludes}]`,
      );
    }
    this.#row = new Float64Array(this.encoder.nFeatures);
  }

  /** Builds a model from its artifact, refusing a foreign format or schema version. */
  static fromArtifact(artifact: ModelArtifact): CreditModel {
    if (artifact?.format_version !== MODEL_FORMAT_VERSION) {
      throw new ModelLoadError(
        `model format_version ${artifact?.format_version} is not supported (expected ${MODEL_FORMAT_VERSION})`,
      );
    }
    if (artifact.schema_version !== SCHEMA_VERSION) {
      throw new ModelLoadError(
        `model was built for schema ${artifact.schema_version}, this build has schema ${SCHEMA_VERSION}`,
      );
    }
    if (!(artifact.threshold >= 0 && artifact.threshold <= 1)) {
      throw new ModelLoadError(`model threshold ${artifact.threshold} is not a probability`);
    }
    try {
      return new CreditModel(artifact);
    } catch (error) {
      throw new ModelLoadError(`model is not usable: ${(error as Error).message}`);
    }
  }

  /** Reads an artifact file, checking its sha256 (before parsing) when one is expected by `expectedBy`. */
  static async load(
    path: string,
    expectedSha256?: string,
    expectedBy = "the registry",
  ): Promise<{ model: CreditModel; sha256: string }> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      throw new ModelLoadError(`cannot read model ${path}: ${(error as Error).message}`);
    }
    const sha256 = await sha256Hex(bytes);
    if (expectedSha256 && sha256 !== expectedSha256) {
      throw new ModelLoadError(
        `model ${path} has sha256 ${sha256}, but ${expectedBy} expects ${expectedSha256}: refusing a modified artifact`,
      );
    }
    let artifact: ModelArtifact;
    try {
      artifact = JSON.parse(new TextDecoder().decode(bytes));
    } catch (error) {
      throw new ModelLoadError(`model ${path} is not valid JSON: ${(error as Error).message}`);
    }
    return { model: CreditModel.fromArtifact(artifact), sha256 };
  }

  /** The decision threshold on P(bad). */
  get threshold(): number {
    return this.artifact.threshold;
  }

  /** The threshold on the PD scale: the same decisions, since calibration is strictly increasing. */
  get pdThreshold(): number {
    return this.calibrator.transform(this.threshold);
  }

  /** The calibrated probability of default for a raw P(bad). */
  pd(probability: number): number {
    return this.calibrator.transform(probability);
  }

  /** Credit score points for a raw P(bad) (higher is safer). */
  score(probability: number): number {
    return scoreFromPd(this.pd(probability), this.scoreScale);
  }

  /**
   * d score / d P(bad): score = offset − (pdo / ln 2)·(a·logit(p) + b), so −(pdo / ln 2)·a / (p(1 − p)).
   * Only the limit of the points' secant needs it (reasons in points, points.ts).
   */
  scoreDerivative(probability: number): number {
    const p = Math.min(1 - 1e-6, Math.max(1e-6, probability));
    return -(this.scoreScale.pdo / Math.LN2) * this.calibrator.a / (p * (1 - p));
  }

  /** The applicant's Shapley values of P(bad) as score points adding up to `score(probability)`. */
  points(probability: number, baseValue: number, contributions: ArrayLike<number>): PointsExplanation {
    return pointsFromContributions(
      probability,
      baseValue,
      contributions,
      (p) => this.score(p),
      (p) => this.scoreDerivative(p),
    );
  }

  /** P(bad) for one validated applicant. */
  probabilityOne(applicant: Applicant): number {
    return this.forest.predictProbaOne(this.encoder.transformOne(applicant, this.#row));
  }

  /** Why the forest gives the applicant its P(bad): every attribute's contribution and the top `count` reasons. */
  explain(applicant: Applicant, count = DEFAULT_REASON_COUNT): Explanation {
    return this.explainer.explain(applicant, count);
  }

  /** Explanation of `applicant` from contributions computed elsewhere (a worker thread). */
  explanationFrom(
    applicant: Applicant,
    contributions: Float64Array,
    count = DEFAULT_REASON_COUNT,
  ): Explanation {
    return explanationOf(applicant, this.explainer.baseValue, contributions, count);
  }

  /** The attribute-level game's players, for explainers on other threads. */
  get players(): ShapPlayers {
    return this.#players ??= attributePlayers(this.encoder);
  }

  /** One applicant's encoded row (a new array, safe to hand to a worker). */
  encodeOne(applicant: Applicant): Float64Array {
    return this.encoder.transformOne(applicant, new Float64Array(this.encoder.nFeatures));
  }

  /** The attribute-level TreeSHAP explainer, built on first use (it holds scratch buffers). */
  get explainer(): AttributeExplainer {
    return this.#explainer ??= new AttributeExplainer(this.encoder, this.forest);
  }

  /** P(bad) for an encoded matrix. */
  probabilities(matrix: Matrix): Float64Array {
    return this.forest.predictProba(matrix);
  }

  /** The decision for P(bad); within `reviewMargin` of the threshold the case goes to a person. */
  decide(probability: number, reviewMargin = 0): Decision {
    return decideAt(probability, this.threshold, reviewMargin);
  }
}

/** A model that cannot be loaded, with the reason. */
export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelLoadError";
  }
}
