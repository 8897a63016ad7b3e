/**
 * The front that times out slow clients, which `Deno.serve` (Deno 2.9.6) cannot: its options
 * are the address, `reusePort`, `tcpBacklog`, a signal and callbacks, with no header, body or idle
 * timeout and no connection cap, and a connection sending half a header block stays open for good
 * (measured: still open after 100 s; `node:http`'s `headersTimeout` is ignored too).
 *
 * The guard owns the public socket. It accepts each connection itself and serves HTTP on it with
 * Deno's own per-connection server: `serveHttpOnConnection`, the function `Deno.serve` is built on,
 * which Deno 2.9.6 keeps in `Deno[Deno.internal]` rather than exporting. Each connection gets its own
 * abort signal, and aborting it closes that connection at once, whatever it is doing (half a header
 * block, a stalled body, an answer its client does not read). That signal is a stand-in whose
 * listener (Deno's cancel) the guard calls itself, so that cancelling a connection Deno has already
 * closed fails where it is caught rather than as an uncaught error. The server's handler gets the
 * {@link GuardedConnection} a request came on and says when a request's headers have arrived
 * ({@link GuardedConnection.requestStarted}), when its answer has been produced
 * ({@link GuardedConnection.requestFinished}) and, for a streamed answer, when a chunk waits for the
 * client to take it. From that it enforces:
 * - **header deadline**: a connection with no request in flight must deliver a complete header
 *   block within `headerTimeoutMs` of opening or of its previous answer (so it is also the
 *   keep-alive idle timeout); bytes dribbled meanwhile do not extend it;
 * - **send deadline**: each chunk of a streamed answer must be taken within `sendTimeoutMs` of
 *   being offered (a client that stops reading its answer; the time the server takes to produce
 *   the next chunk does not count);
 * - **connection cap**: beyond `maxConnections`, a new connection is answered 503 and closed.
 * The body deadline is the handler's (server.ts), which calls {@link GuardedConnection.drop}.
 *
 * Until 2026-11-29 the guard relayed every byte through JavaScript to `Deno.serve` on a loopback
 * port. That relay cost 27–37 µs of the HTTP thread a `/predict` (108, 119 and 113 µs a request with
 * it against 75, 82 and 86 now, three alternations; one process, trail off, 16 connections) and left
 * the loopback port open to local users, bypassing the guard; serving the accepted connection
 * directly costs neither (see "What the guard costs" in the README).
 * @module
 */

/** Why the guard closed a connection. */
export type CloseReason = "header_timeout" | "send_timeout" | "over_capacity" | "body_timeout" | "shutdown";

/** Serves one request that came on `connection`. */
export type GuardedHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  connection: GuardedConnection,
) => Response | Promise<Response>;

/** What the guard enforces and whom it hands requests to. */
export interface ClientGuardOptions {
  hostname: string;
  port: number;
  /** Share the port with other replicas (`SO_REUSEPORT`). */
  reusePort?: boolean;
  headerTimeoutMs: number;
  sendTimeoutMs: number;
  maxConnections: number;
  handler: GuardedHandler;
  /** Answers a request whose handler threw. */
  onError: (error: unknown) => Response | Promise<Response>;
  /** Called when the guard closes a connection, with the reason (for logs and metrics). */
  onClose?: (reason: CloseReason) => void;
}

/** What Deno's per-connection server returns (the part of it the guard uses). */
interface ConnectionServer {
  finished: Promise<void>;
  /** Sends the answers under way, then closes; cuts a body still arriving. */
  shutdown(): Promise<void>;
}

type ServeHttpOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: (scheme: string) => void,
) => ConnectionServer;

/** Deno's `serveHttpOnConnection`, or null when this Deno does not have it. */
export function denoServeHttpOnConnection(): ServeHttpOnConnection | null {
  const deno = Deno as unknown as Record<symbol, unknown> & { internal?: symbol };
  const internal = deno.internal === undefined
    ? undefined
    : deno[deno.internal] as { serveHttpOnConnection?: unknown } | undefined;
  const serve = internal?.serveHttpOnConnection;
  return typeof serve === "function" ? serve as ServeHttpOnConnection : null;
}

const OVER_CAPACITY = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: application/json\r\n" +
    'Content-Length: 74\r\n\r\n{"error":"over_capacity","message":"too many connections; retry shortly"}\n',
);

/** One client connection: what is in flight on it and since when it has waited or been sending. */
export class GuardedConnection {
  /** Requests whose answer has not been produced yet. */
  inFlight = 0;
  /** Since when the connection has waited for a request (no request in flight), in ms. */
  idleSince: number;
  /** Since when a chunk of a streamed answer has waited for the client to take it, or null. */
  offeredSince: number | null = null;
  closed = false;
  server: ConnectionServer | null = null;

  /** A request is in flight on it, or a chunk of an answer waits for its client. */
  get busy(): boolean {
    return this.inFlight > 0 || this.offeredSince !== null;
  }
  #cancel: (() => void) | null = null;
  readonly #close: (connection: GuardedConnection, reason: CloseReason) => void;
  /**
   * What Deno's server on this connection takes as its abort signal. It only ever calls
   * `addEventListener("abort", cancel)`; {@link abort} calls `cancel` itself.
   */
  readonly signal: AbortSignal = {
    addEventListener: (_type: string, listener: () => void) => {
      this.#cancel = listener;
    },
  } as unknown as AbortSignal;

  constructor(now: number, close: (connection: GuardedConnection, reason: CloseReason) => void) {
    this.idleSince = now;
    this.#close = close;
  }

  /** A request's headers have arrived. */
  requestStarted(): void {
    this.inFlight++;
  }

  /** A request's answer has been produced (a streamed one: read to its end). */
  requestFinished(): void {
    if (--this.inFlight <= 0) {
      this.inFlight = 0;
      this.idleSince = performance.now();
    }
  }

  /** A chunk of a streamed answer waits for the client to take it. */
  chunkOffered(): void {
    this.offeredSince = performance.now();
  }

  /** The client took the chunk offered (or the answer ended). */
  chunkTaken(): void {
    this.offeredSince = null;
  }

  /** Closes the connection: its body stalled. */
  drop(): void {
    this.#close(this, "body_timeout");
  }

  /** Closes the connection now (the guard's own use). */
  abort(): void {
    const cancel = this.#cancel;
    this.#cancel = null;
    try {
      cancel?.();
    } catch {
      // Deno had closed it already.
    }
  }

  /**
   * Closes the connection once the answers under way are sent. Deno then owns its end: it can no
   * longer be aborted, so this is only for a connection with nothing in flight.
   */
  shutdown(): void {
    this.closed = true; // the deadlines no longer apply to it, nor count it as closed by them
    this.#cancel = null;
    this.server?.shutdown().catch(() => {});
  }
}

/** A listening guard; see the module doc. */
export class ClientGuard {
  readonly addr: Deno.NetAddr;
  readonly #listener: Deno.TcpListener;
  readonly #options: ClientGuardOptions;
  readonly #serve: ServeHttpOnConnection;
  readonly #open = new Set<GuardedConnection>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #accepting: Promise<void>;
  #connections = 0;
  #emptied: (() => void)[] = [];

  private constructor(listener: Deno.TcpListener, serve: ServeHttpOnConnection, options: ClientGuardOptions) {
    this.#listener = listener;
    this.#serve = serve;
    this.#options = options;
    this.addr = listener.addr;
    const period = Math.max(
      50,
      Math.min(1000, Math.floor(Math.min(options.headerTimeoutMs, options.sendTimeoutMs) / 4)),
    );
    this.#sweeper = setInterval(() => this.#sweep(), period);
    this.#sweeper.unref(); // the sweep alone does not keep the process alive
    this.#accepting = this.#accept();
  }

  /** Listens on `hostname:port` and serves each connection it accepts with `options.handler`. */
  static listen(options: ClientGuardOptions): ClientGuard {
    const serve = denoServeHttpOnConnection();
    if (serve === null) {
      throw new Error(
        `the client guard needs Deno's internal serveHttpOnConnection, which Deno ${Deno.version.deno} ` +
          "does not have (2.9.6 does); run behind a proxy that enforces the deadlines (deploy/nginx.conf) " +
          "with CLIENT_GUARD=off",
      );
    }
    let listener: Deno.TcpListener;
    try {
      listener = options.reusePort
        ? Deno.listen(
          { hostname: options.hostname, port: options.port, reusePort: true } as Deno.TcpListenOptions,
        )
        : Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
    } catch (error) {
      if (options.reusePort && /--unstable-net/.test(String(error))) {
        throw new Error(
          "replicas sharing a port behind the client guard need deno's --unstable-net flag " +
            "(deno task serve passes it), or CLIENT_GUARD=off",
          { cause: error },
        );
      }
      throw error;
    }
    return new ClientGuard(listener, serve, options);
  }

  /** Client connections open now. */
  get connections(): number {
    return this.#connections;
  }

  /** Stops accepting connections; open ones go on. */
  async stopAccepting(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    await this.#accepting;
  }

  /** The first step of a shutdown: every connection with nothing in flight closes (gracefully). */
  closeIdle(): void {
    for (const connection of this.#open) {
      if (!connection.busy) connection.shutdown();
    }
  }

  /**
   * The second, once the requests in flight are answered or the shutdown's time is up: a
   * connection still receiving a body or sending an answer its client does not take is closed now,
   * every other once its last answer is sent.
   */
  shutdownConnections(): void {
    for (const connection of this.#open) {
      if (connection.busy) this.#close(connection, "shutdown");
      else connection.shutdown();
    }
  }

  /** Resolves once no connection is open. */
  allClosed(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptied.push(resolve));
  }

  /**
   * Stops accepting and closes every connection now (the end of a shutdown); waits up to a second
   * for them to end.
   */
  async close(): Promise<void> {
    await this.stopAccepting();
    clearInterval(this.#sweeper);
    for (const connection of [...this.#open]) this.#close(connection, "shutdown");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.allClosed(), new Promise((resolve) => timer = setTimeout(resolve, 1000))]);
    clearTimeout(timer);
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        if (this.#connections >= this.#options.maxConnections) {
          this.#refuse(client);
          continue;
        }
        this.#connections++;
        this.#serveConnection(client);
      }
    } catch {
      // The listener was closed.
    }
  }

  #refuse(client: Deno.TcpConn): void {
    this.#options.onClose?.("over_capacity");
    // One short write, not awaited past a second: a client that does not read gets only the close.
    const timer = setTimeout(() => closeQuietly(client), 1000);
    client.write(OVER_CAPACITY).catch(() => {}).finally(() => {
      clearTimeout(timer);
      closeQuietly(client);
    });
  }

  #serveConnection(client: Deno.TcpConn): void {
    const connection = new GuardedConnection(performance.now(), (c, reason) => this.#close(c, reason));
    this.#open.add(connection);
    const { handler, onError } = this.#options;
    let server: ConnectionServer;
    try {
      client.setNoDelay(true);
      server = connection.server = this.#serve(
        client,
        connection.signal,
        (request, info) => handler(request, info, connection),
        onError,
        () => {},
      );
    } catch {
      closeQuietly(client);
      this.#ended(connection);
      return;
    }
    server.finished.catch(() => {}).finally(() => this.#ended(connection));
  }

  #sweep(): void {
    const now = performance.now();
    const { headerTimeoutMs, sendTimeoutMs } = this.#options;
    for (const connection of this.#open) {
      if (connection.offeredSince !== null) {
        if (now - connection.offeredSince > sendTimeoutMs) this.#close(connection, "send_timeout");
      } else if (connection.inFlight === 0 && now - connection.idleSince > headerTimeoutMs) {
        this.#close(connection, "header_timeout");
      }
    }
  }

  /** Closes `connection` now; it is counted as ended once Deno's server on it has finished. */
  #close(connection: GuardedConnection, reason: CloseReason): void {
    if (connection.closed) return;
    connection.closed = true;
    this.#options.onClose?.(reason);
    connection.abort();
  }

  #ended(connection: GuardedConnection): void {
    if (!this.#open.delete(connection)) return;
    connection.closed = true;
    this.#connections--;
    if (this.#open.size === 0) { for (const resolve of this.#emptied.splice(0)) resolve(); }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
