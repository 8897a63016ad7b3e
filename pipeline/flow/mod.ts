/**
 * The retraining flow: new data in, a challenger trained and compared with the champion on
 * identical folds, promotion gated, servers reloaded, every decision kept under
 * `models/flows/<id>/`. One concern: durable step orchestration and the retraining steps.
 *
 * - `config.ts`: the flow configuration's schema and defaults, each step's retry/timeout policy;
 * - `key.ts`: the flow key (data bytes + normalised config + code version);
 * - `record.ts`: the one owner of `flow.json` and the step checkpoints (`steps/<name>.json`);
 * - `engine.ts`: durable steps (retries with backoff, timeouts, checkpoints, resume);
 * - `lock.ts`: one flow at a time per models folder (flock, bounded wait);
 * - `compare.ts`: the paired comparison on identical folds and the held-out artifact check;
 * - `steps.ts`: validate, drift, train, compare, gate, deploy, record;
 * - `retrain.ts`: {@link runFlow}: cached answer, resume or new flow;
 * - `format.ts`: flows as text for the command line.
 *
 * Imports data/, features/, forest/, model/, monitoring/, tracking/ and leaf modules; the command
 * lines are `cli/flow.ts` and `cli/flows.ts`, the dashboard's routes `serving/routes/flows.ts`.
 * @module
 */

export {
  DEFAULT_FLOW_CONFIG,
  DEFAULT_STEP_POLICIES,
  FLOW_STEPS,
  type FlowConfig,
  flowConfigSchema,
  type FlowStepName,
  loadConfig,
  normaliseConfig,
  type StepPolicy,
} from "./config.ts";
export { codeVersion, type FlowKey, flowKey } from "./key.ts";
export {
  flowDir,
  type FlowOutcome,
  type FlowRecord,
  flowRecordSchema,
  flowsDir,
  isFlowId,
  latestFlowWithKey,
  listFlows,
  readFlowRecord,
  readStepOutput,
  type StepState,
} from "./record.ts";
export {
  type EngineHooks,
  type FlowStep,
  runSteps,
  type StepContext,
  StepFailedError,
  StepTimeoutError,
} from "./engine.ts";
export { acquireFlowLock, FlowBusyError, type FlowLock } from "./lock.ts";
export { type FlowOptions, type FlowResult, runFlow } from "./retrain.ts";
export { formatFlow, formatFlowList } from "./format.ts";
