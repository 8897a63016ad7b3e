/**
 * The TCP front that times out slow clients, which `Deno.serve` (Deno 2.9.6) cannot: its options
 * are the address, `reusePort`, `tcpBacklog`, a signal and callbacks, with no header, body or idle
 * timeout and no connection cap, and a connection sending half a header block stays open for good
 * (measured: still open after 100 s; `node:http`'s `headersTimeout` is ignored too).
 *
 * The guard owns the public socket and relays each client connection, byte for byte, to the HTTP
 * server listening on a loopback port. It does not parse HTTP: the server tells it, through
 * {@link ClientGuard.requestStarted} and {@link ClientGuard.requestFinished} (keyed by the relay's
 * own port, which the handler sees as the remote port), when a request's headers have arrived and
 * when its response has been produced. From that it enforces:
 * - **header deadline**: a connection with no request in flight must deliver a complete header
 *   block within `headerTimeoutMs` of opening or of its previous response (so it is also the
 *   keep-alive idle timeout); bytes dribbled meanwhile do not extend it;
 * - **send deadline**: one write of the response to the client may take at most `sendTimeoutMs`
 *   (a client that stops reading its answer);
 * - **connection cap**: beyond `maxConnections`, a new connection is answered 503 and closed.
 * The body deadline is the handler's (server.ts), which calls {@link ClientGuard.drop}.
 *
 * What it costs: every byte crosses the JavaScript relay once more, and each connection holds
 * three descriptors (client, relay, server side). Behind nginx (deploy/nginx.conf), which enforces
 * the same deadlines, `CLIENT_GUARD=off` serves directly.
 * @module
 */

/** What the guard enforces and where it relays to. */
export interface ClientGuardOptions {
  hostname: string;
  port: number;
  /** Share the port with other replicas (`SO_REUSEPORT`). */
  reusePort?: boolean;
  /** The HTTP server behind it (a loopback address). */
  upstream: { hostname: string; port: number };
  headerTimeoutMs: number;
  sendTimeoutMs: number;
  maxConnections: number;
  /** Called when the guard closes a connection, with the reason (for logs and metrics). */
  onClose?: (
    reason: "header_timeout" | "send_timeout" | "over_capacity" | "body_timeout" | "shutdown",
  ) => void;
}

interface Relay {
  /** The relay's local port: the remote port the HTTP server sees. */
  readonly port: number;
  readonly client: Deno.TcpConn;
  readonly upstream: Deno.TcpConn;
  inFlight: number;
  /** Since when the connection has waited for a request (no request in flight), in ms. */
  idleSince: number;
  /** When the write to the client now under way began, or null. */
  writingSince: number | null;
  closed: boolean;
}

const BUFFER_BYTES = 64 * 1024;
const OVER_CAPACITY = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: application/json\r\n" +
    'Content-Length: 74\r\n\r\n{"error":"over_capacity","message":"too many connections; retry shortly"}\n',
);

/** A listening guard; see the module doc. */
export class ClientGuard {
  readonly addr: Deno.NetAddr;
  readonly #listener: Deno.TcpListener;
  readonly #options: ClientGuardOptions;
  /** Open relays by the relay's local port (the remote port the HTTP server sees). */
  readonly #relays = new Map<number, Relay>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #accepting: Promise<void>;
  #connections = 0;
  #emptied: (() => void)[] = [];

  private constructor(listener: Deno.TcpListener, options: ClientGuardOptions) {
    this.#listener = listener;
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

  /** Listens on `hostname:port` and relays to `upstream`. */
  static listen(options: ClientGuardOptions): ClientGuard {
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
    return new ClientGuard(listener, options);
  }

  /** Client connections open now. */
  get connections(): number {
    return this.#connections;
  }

  /** The server began handling a request from the relay on `port` (its headers are complete). */
  requestStarted(port: number): void {
    const relay = this.#relays.get(port);
    if (relay) relay.inFlight++;
  }

  /** The server produced the whole response of a request from `port`. */
  requestFinished(port: number): void {
    const relay = this.#relays.get(port);
    if (relay && --relay.inFlight <= 0) {
      relay.inFlight = 0;
      relay.idleSince = performance.now();
    }
  }

  /** Closes the client connection relayed on `port` (a body that stalled). */
  drop(port: number): void {
    const relay = this.#relays.get(port);
    if (relay) this.#close(relay, "body_timeout");
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

  /** Resolves once no connection is open (each ends when the server closes its side). */
  allClosed(): Promise<void> {
    if (this.#relays.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptied.push(resolve));
  }

  /** Stops accepting and closes every connection (the end of a shutdown). */
  async close(): Promise<void> {
    await this.stopAccepting();
    clearInterval(this.#sweeper);
    for (const relay of [...this.#relays.values()]) this.#close(relay, "shutdown");
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        if (this.#connections >= this.#options.maxConnections) {
          this.#refuse(client);
          continue;
        }
        this.#connections++;
        this.#open(client).catch(() => {});
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

  async #open(client: Deno.TcpConn): Promise<void> {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ ...this.#options.upstream, transport: "tcp" });
    } catch {
      this.#connections--;
      closeQuietly(client);
      return;
    }
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const relay: Relay = {
      port: upstream.localAddr.port,
      client,
      upstream,
      inFlight: 0,
      idleSince: performance.now(),
      writingSince: null,
      closed: false,
    };
    // Registered before the first byte is relayed, so no request can arrive before its relay is known.
    this.#relays.set(relay.port, relay);
    await Promise.all([
      this.#pump(relay, client, upstream, false),
      this.#pump(relay, upstream, client, true),
    ]);
    this.#close(relay, null);
  }

  async #pump(relay: Relay, from: Deno.TcpConn, to: Deno.TcpConn, toClient: boolean): Promise<void> {
    const buffer = new Uint8Array(BUFFER_BYTES);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (toClient) relay.writingSince = performance.now();
        for (let sent = 0; sent < n;) sent += await to.write(buffer.subarray(sent, n));
        if (toClient) relay.writingSince = null;
      }
      // The client finished sending: pass the half-close on and keep relaying the answer.
      if (!toClient) await to.closeWrite().catch(() => {});
      else this.#close(relay, null);
    } catch {
      this.#close(relay, null);
    }
  }

  #sweep(): void {
    const now = performance.now();
    const { headerTimeoutMs, sendTimeoutMs } = this.#options;
    for (const relay of this.#relays.values()) {
      if (relay.writingSince !== null) {
        if (now - relay.writingSince > sendTimeoutMs) this.#close(relay, "send_timeout");
      } else if (relay.inFlight === 0 && now - relay.idleSince > headerTimeoutMs) {
        this.#close(relay, "header_timeout");
      }
    }
  }

  #close(relay: Relay, reason: Parameters<NonNullable<ClientGuardOptions["onClose"]>>[0] | null): void {
    if (relay.closed) return;
    relay.closed = true;
    this.#relays.delete(relay.port);
    this.#connections--;
    if (reason) this.#options.onClose?.(reason);
    closeQuietly(relay.client);
    closeQuietly(relay.upstream);
    if (this.#relays.size === 0) { for (const resolve of this.#emptied.splice(0)) resolve(); }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
