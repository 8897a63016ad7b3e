/**
 * One replica of `WORKERS=N` (replicas.ts): runs the server's `serveMain` on this worker thread,
 * reports when it listens, and drains when the supervisor says stop.
 * @module
 */

import type { FromReplica, ToReplica } from "./replicas.ts";
import { serveMain } from "./server.ts";

interface ReplicaScope {
  onmessage: ((event: MessageEvent<ToReplica>) => void) | null;
  postMessage(message: FromReplica): void;
}

const scope = globalThis as unknown as ReplicaScope;
let stop!: () => void;
const stopping = new Promise<void>((resolve) => (stop = resolve));
let listen!: (port: number | undefined) => void;
const told = new Promise<number | undefined>((resolve) => (listen = resolve));
scope.onmessage = async ({ data }) => {
  if (data.kind === "stop") {
    stop();
    return;
  }
  if (data.kind === "listen") {
    listen(data.port);
    return;
  }
  const code = await serveMain(data.args, {
    index: data.index,
    prepared: () => {
      scope.postMessage({ kind: "prepared" });
      return told;
    },
    listening: (url) => scope.postMessage({ kind: "listening", url: url.href }),
    writerLock: data.writerLock,
    stopping,
  });
  scope.postMessage({ kind: "exited", code });
};
