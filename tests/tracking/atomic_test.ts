/**
 * Atomic writes under interruption: a failure injected between the write and the rename, a write
 * that dies half-way (disk full), and a child process SIGKILLed after its write and before its
 * rename. In every case a reader finds the old file or the whole new one, never a partial one, and
 * nothing but the target is left after a failure the writer could see. Durability is checked through
 * the `AtomicFs` seam: the temporary file is fsynced before the rename and the folder after it.
 */
import assert from "node:assert/strict";
import { type AtomicFs, DENO_FS, writeFileAtomic, writeJsonAtomic } from "../../pipeline/tracking/atomic.ts";
import { withTempDir } from "../temp.ts";
import { slow } from "../scope.ts";

const ATOMIC = new URL("../../pipeline/tracking/atomic.ts", import.meta.url).href;

/** Replaces `Deno[name]` while `work` runs. */
async function patched<K extends "rename" | "writeTextFile" | "writeFile", T>(
  name: K,
  replacement: (typeof Deno)[K],
  work: () => Promise<T>,
): Promise<T> {
  const original = Deno[name];
  (Deno as unknown as Record<string, unknown>)[name] = replacement;
  try {
    return await work();
  } finally {
    (Deno as unknown as Record<string, unknown>)[name] = original;
  }
}

function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("a rename that fails leaves the old file intact and no temporary file", async () => {
  await withTempDir("atomic-", async (dir) => {
    const path = `${dir}/registry.json`;
    await Deno.writeTextFile(path, "old\n");
    const error = await patched(
      "rename",
      () => Promise.reject(new Error("injected: rename failed")),
      () => writeFileAtomic(path, "new content\n").catch((e) => e),
    );
    assert.match(String(error), /injected: rename failed/);
    assert.equal(await Deno.readTextFile(path), "old\n");
    assert.deepEqual(listing(dir), ["registry.json"]);
  });
});

Deno.test("a write that dies half-way (disk full) leaves the old file intact and no partial file", async () => {
  await withTempDir("atomic-", async (dir) => {
    const path = `${dir}/run.json`;
    await Deno.writeTextFile(path, '{"status":"finished"}\n');
    const big = JSON.stringify({ status: "running", padding: "x".repeat(100_000) });
    const halfText: typeof Deno.writeTextFile = async (p, data) => {
      const text = String(data);
      await Deno.writeFile(p, new TextEncoder().encode(text.slice(0, text.length / 2)));
      throw new Error("injected: no space left on device");
    };
    const error = await patched("writeTextFile", halfText, () => writeFileAtomic(path, big).catch((e) => e));
    assert.match(String(error), /no space left/);
    assert.equal(await Deno.readTextFile(path), '{"status":"finished"}\n');
    assert.deepEqual(listing(dir), ["run.json"]);

    const bytes = new TextEncoder().encode(big);
    const halfBytes: typeof Deno.writeFile = async (p, data) => {
      const whole = data as Uint8Array;
      await Deno.writeTextFile(p, new TextDecoder().decode(whole.subarray(0, whole.length / 2)));
      throw new Error("injected: no space left on device");
    };
    const bytesError = await patched(
      "writeFile",
      halfBytes,
      () => writeFileAtomic(path, bytes).catch((e) => e),
    );
    assert.match(String(bytesError), /no space left/);
    assert.equal(await Deno.readTextFile(path), '{"status":"finished"}\n');
    assert.deepEqual(listing(dir), ["run.json"]);
  });
});

Deno.test(
  "a process SIGKILLed between its write and its rename leaves the old file whole",
  slow,
  async () => {
    await withTempDir("atomic-kill-", async (dir) => {
      const path = `${dir}/registry.json`;
      const old = JSON.stringify({ format_version: 1, models: [] });
      await Deno.writeTextFile(path, old);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { writeJsonAtomic } from ${JSON.stringify(ATOMIC)};
         Deno.rename = () => { Deno.kill(Deno.pid, "SIGKILL"); return new Promise(() => {}); };
         await writeJsonAtomic(${JSON.stringify(path)}, { format_version: 1, models: [{ version: 1 }] });`,
        ],
        stdout: "null",
        stderr: "piped",
      });
      const status = await child.output();
      assert.equal(status.signal, "SIGKILL", new TextDecoder().decode(status.stderr));
      assert.equal(await Deno.readTextFile(path), old, "the target still holds the old content");
      // The new content exists only under a temporary name no reader opens, and it is complete.
      const others = listing(dir).filter((name) => name !== "registry.json");
      assert.equal(others.length, 1);
      assert.match(others[0], /^registry\.json\.[0-9a-f-]{36}\.tmp$/);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/${others[0]}`)), {
        format_version: 1,
        models: [{ version: 1 }],
      });
    });
  },
);

Deno.test("concurrent writers: the file ends as one writer's whole content, with no temporary left", async () => {
  await withTempDir("atomic-concurrent-", async (dir) => {
    const path = `${dir}/deep/er/state.json`; // parent folders are created
    const values = Array.from({ length: 20 }, (_, i) => ({ writer: i, body: "y".repeat(10_000 + i) }));
    await Promise.all(values.map((v) => writeJsonAtomic(path, v)));
    const text = await Deno.readTextFile(path);
    assert.ok(text.endsWith("}\n"));
    const parsed = JSON.parse(text);
    assert.deepEqual(parsed, values[parsed.writer]);
    assert.equal(text, JSON.stringify(values[parsed.writer], null, 2) + "\n");
    assert.deepEqual(listing(`${dir}/deep/er`), ["state.json"]);
  });
});

/** The real calls, each logged as `name:arguments` (paths relative to `dir`) before it runs. */
function recordingFs(dir: string, calls: string[], fail?: { call: keyof AtomicFs; error: Error }): AtomicFs {
  const rel = (p: string) =>
    p === dir ? "." : p.slice(dir.length + 1).replace(/\.[0-9a-f-]{36}\.tmp$/, ".TMP");
  const wrap = <K extends keyof AtomicFs>(name: K) =>
    ((...args: string[]) => {
      calls.push(
        `${name}:${args.filter((a) => typeof a === "string" && a.startsWith(dir)).map(rel).join(">")}`,
      );
      if (fail?.call === name) return Promise.reject(fail.error);
      return (DENO_FS[name] as (...a: unknown[]) => Promise<void>)(...args);
    }) as AtomicFs[K];
  return {
    write: wrap("write"),
    syncFile: wrap("syncFile"),
    rename: wrap("rename"),
    syncDir: wrap("syncDir"),
    remove: wrap("remove"),
  };
}

Deno.test("the temporary file is fsynced before the rename, and the folder after it", async () => {
  await withTempDir("atomic-fsync-", async (dir) => {
    const calls: string[] = [];
    await writeFileAtomic(`${dir}/registry.json`, "new\n", recordingFs(dir, calls));
    // A power cut can persist a rename before the data it points at (an empty registry.json) unless
    // the data is synced first, and can lose the rename unless the folder is synced after it.
    assert.deepEqual(calls, [
      "write:registry.json.TMP",
      "syncFile:registry.json.TMP",
      "rename:registry.json.TMP>registry.json",
      "syncDir:.",
    ]);
    assert.equal(await Deno.readTextFile(`${dir}/registry.json`), "new\n");
    assert.deepEqual(listing(dir), ["registry.json"]);
  });
});

Deno.test("an fsync that fails leaves the old file intact and no temporary file, and is not renamed", async () => {
  await withTempDir("atomic-fsync-fail-", async (dir) => {
    const path = `${dir}/registry.json`;
    await Deno.writeTextFile(path, "old\n");
    const calls: string[] = [];
    const fs = recordingFs(dir, calls, { call: "syncFile", error: new Error("injected: EIO on fsync") });
    const error = await writeFileAtomic(path, "new\n", fs).catch((e) => e);
    assert.match(String(error), /EIO on fsync/);
    assert.ok(
      !calls.some((c) => c.startsWith("rename:")),
      "a file whose data may not be on disk is not renamed",
    );
    assert.equal(await Deno.readTextFile(path), "old\n");
    assert.deepEqual(listing(dir), ["registry.json"]);
  });
});

Deno.test("a folder fsync that fails is reported, not swallowed", async () => {
  await withTempDir("atomic-dirsync-fail-", async (dir) => {
    const fs = recordingFs(dir, [], { call: "syncDir", error: new Error("injected: EIO on folder fsync") });
    const error = await writeFileAtomic(`${dir}/run.json`, "{}\n", fs).catch((e) => e);
    assert.match(String(error), /EIO on folder fsync/);
    assert.deepEqual(listing(dir), ["run.json"]);
  });
});

Deno.test("a streamed write past the background-flush size ends as its pieces in order, no temporary left", async () => {
  // 20 MB in uneven pieces: the data is flushed in the background every 8 MB while pieces keep coming.
  await withTempDir("credit-atomic-", async (dir) => {
    const pieces: Uint8Array[] = [];
    let seed = 7;
    for (let total = 0; total < 20 << 20;) {
      const size = 1 + (seed = (seed * 48271) % 2147483647) % (3 << 20);
      pieces.push(new Uint8Array(size).fill(pieces.length % 251));
      total += size;
    }
    const path = `${dir}/out.bin`;
    await writeFileAtomic(path, ReadableStream.from(pieces));
    const written = await Deno.readFile(path);
    const expected = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const piece of pieces) expected.set(piece, (at += piece.length) - piece.length);
    assert.equal(written.length, expected.length);
    assert.ok(written.every((b, i) => b === expected[i]), "bytes differ");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out.bin"]);
  });
});
