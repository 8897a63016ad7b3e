/**
 * A JSON batch read as a stream: the top-level array is cut into its elements as the text
 * arrives, each element goes through `JSON.parse` on its own, and the row cap is enforced on
 * reading the element past it, so an oversized batch is refused without being held.
 *
 * Why a splitter and not a full streaming parser: `JSON.parse` of one element's text gives the
 * same value as that element inside the whole array (duplicate keys, `__proto__`, numbers such as
 * `1e309` behave alike), so values are exactly today's. The splitter only tracks strings and
 * bracket depth to find where each element ends; every element is then checked by `JSON.parse`,
 * and the text between elements must be `[`, `,`, `]` and JSON white space, so a body passes the
 * splitter exactly when the whole text is a valid JSON array. Memory holds the parsed records,
 * at most the row cap, each at most {@link MAX_JSON_ROW_CHARS} characters of text.
 * @module
 */

import { TooManyRowsError } from "./batch.ts";

/** Longest element of a JSON batch (characters): an applicant record is under 1,000. */
export const MAX_JSON_ROW_CHARS = 4_096;

/** Why a streamed JSON batch cannot be read. */
export class JsonBatchError extends Error {
  constructor(
    readonly kind: "malformed" | "not_array" | "row_too_long",
    message: string,
    readonly row?: number,
  ) {
    super(message);
    this.name = "JsonBatchError";
  }
}

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c;
const OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d, OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d;

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

/**
 * The elements of the JSON array in `input`, parsed one by one; throws {@link JsonBatchError} for
 * a body that is not a JSON array (`malformed` when it is not JSON at all) and
 * {@link TooManyRowsError} on reading element `maxRows + 1`.
 */
export async function readJsonArray(
  input: AsyncIterable<string>,
  maxRows: number,
  setting = "BATCH_MAX_ROWS",
): Promise<unknown[]> {
  const records: unknown[] = [];
  // before: nothing yet; open: after `[` or `,` (an element, or `]` right after `[`); in: inside
  // an element (white space around it included, as JSON.parse allows); done: after `]`; other: not an array.
  let state = "before" as "before" | "open" | "in" | "done" | "other";
  let first = true;
  let element = "";
  let depth = 0;
  let inString = false;
  let escaped = false;
  let other = "";

  const malformed = () => new JsonBatchError("malformed", "the request body is not valid JSON");
  const finishElement = () => {
    let value: unknown;
    try {
      value = JSON.parse(element);
    } catch {
      throw malformed();
    }
    if (records.length >= maxRows) throw new TooManyRowsError(maxRows, setting);
    records.push(value);
    element = "";
  };

  for await (const piece of input) {
    if (state === "other") {
      other += piece;
      if (other.length > MAX_JSON_ROW_CHARS) break;
      continue;
    }
    let start = 0; // where the current element's text begins in this piece
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      switch (state) {
        case "before":
          if (isSpace(c)) continue;
          if (c !== OPEN_ARRAY) {
            state = "other";
            other = piece.slice(i);
            i = piece.length;
            continue;
          }
          state = "open";
          first = true;
          continue;
        case "open":
          if (isSpace(c)) continue;
          if (c === CLOSE_ARRAY && first) {
            state = "done";
            continue;
          }
          // Anything else starts an element (a stray `,` or `]` makes an empty one, which JSON.parse refuses).
          first = false;
          state = "in";
          start = i;
          depth = 0;
          inString = false;
          escaped = false;
          i--; // the element's first character is read by the "in" state
          continue;
        case "in":
          if (inString) {
            if (escaped) escaped = false;
            else if (c === BACKSLASH) escaped = true;
            else if (c === QUOTE) inString = false;
            continue;
          }
          if (c === QUOTE) inString = true;
          else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
          else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
            if (depth === 0) {
              if (c === CLOSE_OBJECT) throw malformed();
              element += piece.slice(start, i);
              finishElement();
              state = "done";
              continue;
            }
            depth--;
          } else if (c === COMMA && depth === 0) {
            element += piece.slice(start, i);
            finishElement();
            state = "open";
            continue;
          }
          if (element.length + (i - start) >= MAX_JSON_ROW_CHARS) {
            throw new JsonBatchError(
              "row_too_long",
              `row ${
                records.length + 1
              } is longer than ${MAX_JSON_ROW_CHARS} characters; an applicant is under 1,000`,
              records.length + 1,
            );
          }
          continue;
        case "done":
          if (!isSpace(c)) throw malformed();
          continue;
      }
    }
    if (state === "in") element += piece.slice(start);
  }
  if (state === "other") {
    // Not an array: a short body is parsed to tell malformed JSON (400) from another value (422).
    if (other.length <= MAX_JSON_ROW_CHARS) {
      try {
        JSON.parse(other);
      } catch {
        throw malformed();
      }
    }
    throw new JsonBatchError("not_array", "expected a JSON array of applicants");
  }
  if (state !== "done") throw malformed();
  return records;
}
