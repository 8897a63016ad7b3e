/**
 * The module graph, as `deno info --json` resolves it from every entry point: `serve.ts`, every
 * `pipeline/cli/*.ts`, every `bench/*.ts`, every script a `deno task` runs, every worker script a
 * module starts (`new URL("./x.ts", import.meta.url)`), and then any `pipeline/` module none of
 * those reach (notebooks and tests import some directly).
 *
 * Two rules, failing with the offending path:
 * - no import cycle among the project's modules, type-only imports included (a type-only cycle
 *   still means two modules that cannot be understood, moved or tested apart);
 * - no `pipeline/` module imports an entry point: `serve.ts`, or a `pipeline/cli/*` module from
 *   outside `pipeline/cli/`.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const ROOT_HREF = ROOT.href;

/**
 * Known violations, each removed by whoever fixes it; an entry whose import is gone fails the test
 * too, so the list can only shrink.
 */
const ALLOWED_ENTRY_IMPORTS: readonly { from: string; to: string; why: string }[] = [];

/** One import: where to, and whether only types cross it. */
interface Edge {
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
}

/** Project module (path relative to the root) → its imports of other project modules. */
type Graph = Map<string, Edge[]>;

/** A project module's path relative to the root, or null for npm, node: and anything outside. */
function projectPath(specifier: string | undefined): string | null {
  if (!specifier?.startsWith(ROOT_HREF)) return null;
  const path = decodeURIComponent(specifier.slice(ROOT_HREF.length));
  return path.startsWith("node_modules/") ? null : path;
}

interface InfoDependency {
  code?: { specifier?: string };
  type?: { specifier?: string };
  isDynamic?: boolean;
}

interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/**
 * Adds the project modules reachable from `entries` (and their imports) to `graph`. One `deno info`
 * for all of them (a process costs about 0.1 s of CPU, and there are some forty entry points): its
 * root, outside the project, imports every entry; each module's own imports are the same whatever
 * the root.
 */
async function addGraph(entries: readonly string[], graph: Graph): Promise<void> {
  if (entries.length === 0) return;
  const dir = await Deno.makeTempDir({ prefix: "module-graph-" });
  let output: Deno.CommandOutput;
  try {
    const root = `${dir}/entries.ts`;
    await Deno.writeTextFile(
      root,
      entries.map((entry) => `import ${JSON.stringify(new URL(entry, ROOT).href)};\n`).join(""),
    );
    output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.ok(
    output.success,
    `deno info of ${entries.join(", ")} failed:\n${new TextDecoder().decode(output.stderr)}`,
  );
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] };
  for (const module of info.modules) {
    const from = projectPath(module.specifier);
    if (from === null || graph.has(from)) continue;
    const edges = new Map<string, Edge>();
    for (const dependency of module.dependencies ?? []) {
      const code = projectPath(dependency.code?.specifier);
      const type = projectPath(dependency.type?.specifier);
      const to = code ?? type;
      if (to === null) continue;
      const typeOnly = code === null;
      const known = edges.get(to);
      // A module imported both ways counts as a value import.
      if (!known || (known.typeOnly && !typeOnly)) {
        edges.set(to, { to, typeOnly, dynamic: dependency.isDynamic ?? false });
      }
    }
    graph.set(from, [...edges.values()]);
  }
}

/** Every `.ts` file under `dir` (relative to the root), sorted. */
async function tsFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await tsFiles(path));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/** Worker scripts a module starts by URL (`new URL("./x.ts", import.meta.url)`). */
async function workerScripts(modules: readonly string[]): Promise<string[]> {
  const scripts: string[] = [];
  for (const module of modules) {
    const text = await Deno.readTextFile(new URL(module, ROOT));
    for (
      const match of text.matchAll(/new URL\(\s*["'](\.{1,2}\/[^"']+\.ts)["']\s*,\s*import\.meta\.url\s*\)/g)
    ) {
      const script = projectPath(new URL(match[1], new URL(module, ROOT)).href);
      if (script !== null) scripts.push(script);
    }
  }
  return scripts;
}

/** The scripts `deno task` runs, from deno.json. */
async function taskScripts(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    tasks: Record<string, string>;
  };
  return Object.values(config.tasks).flatMap((command) =>
    [...command.matchAll(/(?:^|\s)([\w./-]+\.ts)(?=\s|$)/g)].map((m) => m[1])
  );
}

/** Entry points in the order they were walked, and the graph of every project module they reach. */
async function projectGraph(): Promise<{ entries: string[]; graph: Graph }> {
  const pipeline = await tsFiles("pipeline");
  const entries = [
    "serve.ts",
    ...pipeline.filter((p) => p.startsWith("pipeline/cli/")),
    ...(await tsFiles("bench")),
    ...await taskScripts(),
  ];
  const graph: Graph = new Map();
  const walk = async (paths: readonly string[]) => {
    const unreached = [...new Set(paths)].filter((path) => !graph.has(path));
    for (const path of unreached) if (!entries.includes(path)) entries.push(path);
    await addGraph(unreached, graph);
  };
  await walk([...new Set(entries)]);
  await walk(await workerScripts([...graph.keys()].filter((p) => p.startsWith("pipeline/"))));
  await walk(pipeline.filter((p) => !graph.has(p)));
  return { entries: [...new Set(entries)], graph };
}

/** The strongly connected components with a cycle (Tarjan), each sorted, in a stable order. */
function cyclicComponents(graph: Graph): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const lowLinks = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    indices.set(v, index);
    lowLinks.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!indices.has(to)) {
        connect(to);
        lowLinks.set(v, Math.min(lowLinks.get(v)!, lowLinks.get(to)!));
      } else if (onStack.has(to)) {
        lowLinks.set(v, Math.min(lowLinks.get(v)!, indices.get(to)!));
      }
    }
    if (lowLinks.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) connect(v);
  return components.sort((a, b) => a[0].localeCompare(b[0]));
}

/**
 * A shortest cycle through the first module of a component, as `a → b (type-only) → a`, then the
 * component's other modules, if any (each lies on some cycle through these).
 */
function cyclePath(graph: Graph, component: readonly string[]): string {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map<string, { from: string; edge: Edge }>();
  const queue = [start];
  let closing: { from: string; edge: Edge } | null = null;
  for (let i = 0; i < queue.length && closing === null; i++) {
    const v = queue[i];
    for (const edge of graph.get(v) ?? []) {
      if (!members.has(edge.to)) continue;
      if (edge.to === start) {
        closing = { from: v, edge };
        break;
      }
      if (!previous.has(edge.to)) {
        previous.set(edge.to, { from: v, edge });
        queue.push(edge.to);
      }
    }
  }
  const steps: { from: string; edge: Edge }[] = [closing!];
  for (let v = closing!.from; v !== start; v = previous.get(v)!.from) steps.unshift(previous.get(v)!);
  const path = steps.reduce(
    (text, { edge }) =>
      `${text} → ${edge.to}${edge.typeOnly ? " (type-only)" : ""}${edge.dynamic ? " (dynamic)" : ""}`,
    start,
  );
  const others = component.filter((v) => v !== start && !steps.some((s) => s.edge.to === v));
  return others.length ? `${path}; other modules in cycles with these: ${others.join(", ")}` : path;
}

/** Imports of an entry point by a `pipeline/` module that may not import it. */
function entryImports(graph: Graph): { from: string; to: string }[] {
  const found: { from: string; to: string }[] = [];
  for (const [from, edges] of graph) {
    if (!from.startsWith("pipeline/")) continue;
    const inCli = from.startsWith("pipeline/cli/");
    for (const { to } of edges) {
      if (to === "serve.ts" || (!inCli && to.startsWith("pipeline/cli/"))) found.push({ from, to });
    }
  }
  return found.sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`));
}

const { entries, graph } = await projectGraph();

Deno.test("the checks themselves: cycles and entry-point imports of a hand-made graph", () => {
  const edge = (to: string, typeOnly = false): Edge => ({ to, typeOnly, dynamic: false });
  const made: Graph = new Map([
    ["pipeline/a.ts", [edge("pipeline/b.ts"), edge("pipeline/e.ts")]],
    ["pipeline/b.ts", [edge("pipeline/c.ts", true)]],
    ["pipeline/c.ts", [edge("pipeline/a.ts"), edge("pipeline/b.ts")]],
    ["pipeline/d.ts", [edge("pipeline/d.ts", true)]],
    ["pipeline/e.ts", [edge("serve.ts")]],
    ["pipeline/cli/x.ts", [edge("pipeline/cli/run_cli.ts"), edge("serve.ts")]],
    ["pipeline/cli/run_cli.ts", []],
    ["pipeline/f.ts", [edge("pipeline/cli/run_cli.ts")]],
    ["bench/g.ts", [edge("serve.ts"), edge("pipeline/cli/x.ts")]],
    ["serve.ts", [edge("pipeline/a.ts")]],
  ]);
  assert.deepEqual(
    cyclicComponents(made).map((c) => cyclePath(made, c)),
    [
      "pipeline/a.ts → pipeline/b.ts → pipeline/c.ts (type-only) → pipeline/a.ts; " +
      "other modules in cycles with these: pipeline/e.ts, serve.ts",
      "pipeline/d.ts → pipeline/d.ts (type-only)",
    ],
  );
  assert.deepEqual(entryImports(made), [
    { from: "pipeline/cli/x.ts", to: "serve.ts" },
    { from: "pipeline/e.ts", to: "serve.ts" },
    { from: "pipeline/f.ts", to: "pipeline/cli/run_cli.ts" },
  ]);
});

Deno.test("the module graph covers every entry point and every pipeline module", async () => {
  for (const entry of ["serve.ts", "pipeline/cli/run_cli.ts"]) assert.ok(graph.has(entry), entry);
  for (const path of await tsFiles("pipeline")) assert.ok(graph.has(path), `${path} was not walked`);
  console.log(`    ${entries.length} entry points walked, ${graph.size} project modules`);
});

Deno.test("no import cycle among the project's modules (type-only imports included)", () => {
  const cycles = cyclicComponents(graph).map((component) => cyclePath(graph, component));
  assert.deepEqual(cycles, [], `import cycles:\n  ${cycles.join("\n  ")}`);
});

Deno.test("no pipeline/ module imports serve.ts, and only pipeline/cli/ imports pipeline/cli/", () => {
  const key = (x: { from: string; to: string }) => `${x.from} → ${x.to}`;
  const found = entryImports(graph);
  const allowed = new Set(ALLOWED_ENTRY_IMPORTS.map(key));
  const violations = found.filter((x) => !allowed.has(key(x))).map(key);
  assert.deepEqual(violations, [], `library modules importing entry points:\n  ${violations.join("\n  ")}`);
  const stale = ALLOWED_ENTRY_IMPORTS.filter((x) => !found.some((f) => key(f) === key(x))).map(key);
  assert.deepEqual(stale, [], `allow-list entries whose import is gone (delete them): ${stale.join(", ")}`);
  for (const x of ALLOWED_ENTRY_IMPORTS) console.log(`    allowed for now: ${key(x)}: ${x.why}`);
});
