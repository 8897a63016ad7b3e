/**
 * Holds the model being served and swaps in a newly promoted one without a pause: requests take
 * {@link ModelHolder.current} once and keep that snapshot to the end, while a reload loads and
 * verifies the new artifact beside it and then replaces the reference in one assignment. A
 * reload that fails (missing file, sha256 mismatch, foreign format, a missing or bad signature
 * when a public key is configured) leaves the old model serving.
 * @module
 */

import { CreditModel, ModelLoadError } from "../model/artifact.ts";
import {
  checkStatement,
  type ModelPublicKey,
  SignatureError,
  type SignedStatement,
  verifySignatureFile,
} from "../model/signature.ts";
import { SCHEMA_VERSION } from "../data/schema.ts";
import { DEFAULT_MODELS_DIR, type ModelVersion, productionModel, readRegistry } from "../tracking/mod.ts";

/** Where the served model comes from. */
export interface ModelSource {
  /** Folder of `registry.json` and the runs (default `models`). */
  modelsDir?: string;
  /** Serve this artifact instead of the registry's production model (verified when registered). */
  modelPath?: string;
  /** When set (`MODEL_PUBLIC_KEY`), only artifacts signed with its private key are served. */
  publicKey?: ModelPublicKey;
}

/** A loaded model and what identifies it. */
export interface ServingModel {
  readonly model: CreditModel;
  /** Registry version, or null for an unregistered `MODEL=path` artifact. */
  readonly version: number | null;
  readonly runId: string;
  readonly sha256: string;
  /** The artifact's path as given (relative to the working directory or absolute). */
  readonly path: string;
  /** Registry stage at load time, or null when unregistered. */
  readonly stage: string | null;
  /** Whether the sha256 was checked against the registry. */
  readonly verified: boolean;
  /** Id of the public key its signature was verified with, or null when no key is configured. */
  readonly signedBy: string | null;
  readonly loadedAt: string;
}

/** What a reload did. */
export interface ReloadOutcome {
  /** True when a different artifact was swapped in. */
  readonly changed: boolean;
  readonly previous: ServingModel | null;
  readonly current: ServingModel;
}

/** The served model and its reloads. */
export class ModelHolder {
  readonly modelsDir: string;
  readonly modelPath: string | undefined;
  readonly publicKey: ModelPublicKey | undefined;
  #current: ServingModel | null = null;
  #reloading: Promise<unknown> = Promise.resolve();

  /** A holder with nothing loaded yet; call {@link reload} (or use {@link open}). */
  constructor(source: ModelSource = {}) {
    this.modelsDir = source.modelsDir ?? DEFAULT_MODELS_DIR;
    this.modelPath = source.modelPath;
    this.publicKey = source.publicKey;
  }

  /**
   * A holder with its model loaded. Throws {@link ModelLoadError} for an artifact that cannot be
   * served; with `allowEmpty`, a registry that has no production model yet is not an error.
   */
  static async open(source: ModelSource = {}, options: { allowEmpty?: boolean } = {}): Promise<ModelHolder> {
    const holder = new ModelHolder(source);
    try {
      await holder.reload();
    } catch (error) {
      if (!(options.allowEmpty && error instanceof NoProductionModelError)) throw error;
    }
    return holder;
  }

  /** The model serving now, or null before the first successful load. */
  get current(): ServingModel | null {
    return this.#current;
  }

  /** Loads the production model (or `modelPath`) and swaps it in when it differs; one reload at a time. */
  reload(): Promise<ReloadOutcome> {
    const next = this.#reloading.then(() => this.#reloadNow());
    this.#reloading = next.catch(() => {});
    return next;
  }

  async #reloadNow(): Promise<ReloadOutcome> {
    const previous = this.#current;
    const target = await this.#locate();
    if (previous && target.entry && previous.sha256 === target.entry.sha256) {
      return { changed: false, previous, current: previous };
    }
    let statement: SignedStatement | null = null;
    if (this.publicKey) {
      // The signature is checked before the artifact is even parsed.
      statement = await verifySignatureFile(target.path, this.publicKey);
      if (target.entry && target.entry.sha256 !== statement.artifact_sha256) {
        throw new SignatureError(
          `model ${target.path}: the registry lists sha256 ${target.entry.sha256}, but its signature covers ` +
            `${statement.artifact_sha256}: refusing a modified artifact`,
        );
      }
    }
    const { model, sha256 } = statement
      ? await CreditModel.load(target.path, statement.artifact_sha256, "its signature")
      : await CreditModel.load(target.path, target.entry?.sha256);
    if (statement) {
      checkStatement(target.path, statement, {
        sha256,
        runId: model.artifact.run_id,
        threshold: model.threshold,
        schemaVersion: model.artifact.schema_version ?? SCHEMA_VERSION,
        version: target.entry?.version ?? null,
      });
    }
    if (previous && previous.sha256 === sha256) return { changed: false, previous, current: previous };
    const current: ServingModel = {
      model,
      version: target.entry?.version ?? null,
      runId: model.artifact.run_id,
      sha256,
      path: target.path,
      stage: target.entry?.stage ?? null,
      verified: target.entry !== undefined,
      signedBy: statement ? this.publicKey!.id : null,
      loadedAt: new Date().toISOString(),
    };
    this.#current = current;
    return { changed: true, previous, current };
  }

  async #locate(): Promise<{ path: string; entry?: ModelVersion }> {
    let registry;
    try {
      registry = await readRegistry(this.modelsDir);
    } catch (error) {
      throw new ModelLoadError(`cannot read the model registry: ${(error as Error).message}`);
    }
    if (this.modelPath !== undefined) {
      const wanted = await realPath(this.modelPath);
      for (const entry of registry.models) {
        if (wanted !== null && await realPath(this.#artifactPath(entry)) === wanted) {
          return { path: this.modelPath, entry };
        }
      }
      return { path: this.modelPath };
    }
    const entry = productionModel(registry);
    if (!entry) throw new NoProductionModelError(this.modelsDir);
    return { path: this.#artifactPath(entry), entry };
  }

  #artifactPath(entry: ModelVersion): string {
    return entry.artifact.startsWith("/") ? entry.artifact : `${this.modelsDir}/${entry.artifact}`;
  }
}

/** The registry has no production model (yet): train one, or point `MODEL` at an artifact. */
export class NoProductionModelError extends ModelLoadError {
  constructor(modelsDir: string) {
    super(
      `${modelsDir}/registry.json has no production model; train one (deno task train) or set MODEL=path`,
    );
    this.name = "NoProductionModelError";
  }
}

async function realPath(path: string): Promise<string | null> {
  try {
    return await Deno.realPath(path);
  } catch {
    return null;
  }
}
