/**
 * Web Worker of the nested evaluation: receives one outer fold (`NestedRequest`), runs
 * `fitAndScoreFold` on it and replies with its outcome (`NestedResponse`).
 * @module
 */

import { fitAndScoreFold, type NestedRequest, type NestedResponse } from "./nested.ts";

const scope = self as unknown as Worker;
scope.onmessage = async (event: MessageEvent<NestedRequest>) => {
  let reply: NestedResponse;
  try {
    reply = { outcome: await fitAndScoreFold(event.data.input, event.data.options) };
  } catch (error) {
    reply = { error: error instanceof Error ? error.stack ?? error.message : String(error) };
  }
  scope.postMessage(reply);
};
