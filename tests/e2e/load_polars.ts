/**
 * Loads polars' native addon the way the pipeline does (`polars()`, data/polars.ts) and builds a
 * frame: permissions_test.ts runs it under each task's own flags, since the tasks' scripts load
 * the addon only when they first need a frame, not at import.
 * @module
 */
import { polars } from "../../pipeline/data/polars.ts";

const frame = polars().DataFrame({ a: [1, 2, 3] });
console.log(frame.height);
