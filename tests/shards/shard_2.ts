/**
 * Shard 2 of 2 of `deno task test:unit`: the test files {@link importShard} assigns it, in one isolate.
 * @module
 */
import { importShard } from "./mod.ts";

await importShard(2, 2);
