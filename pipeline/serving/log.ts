/**
 * Structured logs: one JSON object per line on stdout (time, level, msg, then fields), the form
 * log collectors read without parsing rules.
 * @module
 */

/** Log levels in increasing severity; `off` silences everything. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "off";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

/** Where finished lines go (one line, without the newline). */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();

/** Writes each line to stdout synchronously, so nothing is lost when the process stops. */
export const stdoutSink: LogSink = (line) => {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
};

/** A JSON-lines logger. */
export class Logger {
  readonly level: LogLevel;
  readonly #min: number;
  readonly #sink: LogSink;

  constructor(level: LogLevel = "info", sink: LogSink = stdoutSink) {
    this.level = level;
    this.#min = RANK[level];
    this.#sink = sink;
  }

  /** Whether a message at `level` would be written. */
  enabled(level: Exclude<LogLevel, "off">): boolean {
    return RANK[level] >= this.#min;
  }

  /** Logs at debug level. */
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#write("debug", msg, fields);
  }

  /** Logs at info level. */
  info(msg: string, fields?: Record<string, unknown>): void {
    this.#write("info", msg, fields);
  }

  /** Logs at warn level. */
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#write("warn", msg, fields);
  }

  /** Logs at error level; an `error` field that is an Error is logged with its stack. */
  error(msg: string, fields?: Record<string, unknown>): void {
    this.#write("error", msg, fields);
  }

  #write(level: Exclude<LogLevel, "off">, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < this.#min) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...fields };
    if (record.error instanceof Error) {
      const e = record.error;
      record.error = { name: e.name, message: e.message, stack: e.stack };
    }
    this.#sink(JSON.stringify(record));
  }
}
