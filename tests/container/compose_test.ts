// compose.yaml cannot run on this machine (no Docker Hub, no `podman run`): these tests parse it with a
// YAML parser and check what `docker compose up` would trip over — services, their images or builds,
// ports, depends_on and volumes — against the Dockerfile and the repository.
import assert from "node:assert/strict";
import { parseDocument } from "yaml";

const root = new URL("../../", import.meta.url).pathname;
const text = await Deno.readTextFile(`${root}compose.yaml`);
const dockerfile = await Deno.readTextFile(`${root}Dockerfile`);

/** Files compose.yaml mounts that another piece of work adds (see the README's Docker section). */
const PENDING_FILES = ["deploy/nginx.conf"];

const KNOWN_SERVICE_KEYS = new Set([
  "build",
  "image",
  "environment",
  "expose",
  "ports",
  "volumes",
  "depends_on",
  "deploy",
  "healthcheck",
  "restart",
  "read_only",
  "tmpfs",
]);

// deno-lint-ignore no-explicit-any
type Json = any;

function load(source: string): Json {
  const document = parseDocument(source, { uniqueKeys: true, prettyErrors: true });
  assert.deepEqual(document.errors.map((e) => e.message), [], "compose.yaml is valid YAML");
  return document.toJS();
}

const compose = load(text);
const services: Record<string, Json> = compose.services;

Deno.test("compose.yaml parses, with known top-level keys and the three services", () => {
  for (const key of Object.keys(compose)) {
    assert.ok(["name", "services", "volumes", "networks"].includes(key) || key.startsWith("x-"), key);
  }
  assert.deepEqual(Object.keys(services).sort(), ["api", "nginx", "postgres"]);
  for (const [name, service] of Object.entries(services)) {
    for (const key of Object.keys(service)) assert.ok(KNOWN_SERVICE_KEYS.has(key), `${name}.${key}`);
  }
});

Deno.test("the parser refuses what compose would: a duplicate key, a bad indent", () => {
  assert.throws(() => load("services:\n  api:\n    image: a\n    image: b\n"));
  assert.throws(() => load("services:\n  api:\n    image: a\n   ports: []\n"));
});

Deno.test("each service has an image or a build; the API builds the Dockerfile's runtime stage", () => {
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  for (const [name, service] of Object.entries(services)) {
    assert.ok(service.image || service.build, `${name} has neither image nor build`);
    if (service.build) {
      assert.equal(service.build.context, ".");
      assert.ok(stages.includes(service.build.target), `target ${service.build.target} is not in ${stages}`);
    } else {
      assert.match(service.image, /^[\w./-]+:\d[\w.-]*$/, `${name}'s image is pinned to a version`);
    }
  }
  assert.equal(services.api.build.target, "runtime");
  assert.equal(stages.at(-1), "runtime", "runtime is also what `docker build .` builds");
  assert.ok(services.api.deploy.replicas >= 2, "the API is scaled out");
});

Deno.test("ports: only nginx publishes one; it reaches the API on the port the image exposes", () => {
  const exposed = dockerfile.match(/^EXPOSE (\d+)$/m)![1];
  assert.deepEqual(services.api.expose, [exposed]);
  for (const [name, service] of Object.entries(services)) {
    if (name !== "nginx") assert.equal(service.ports, undefined, `${name} publishes no port`);
  }
  assert.equal(services.nginx.ports.length, 1);
  const [host, container] = services.nginx.ports[0].split(":").map(Number);
  assert.ok(host > 0 && host < 65536 && container > 0 && container < 65536);
});

Deno.test("depends_on names defined services, waits for health only where there is a health check, no cycle", () => {
  const healthy = (name: string) =>
    services[name].healthcheck !== undefined || (services[name].build && /^HEALTHCHECK /m.test(dockerfile));
  const edges = new Map<string, string[]>();
  for (const [name, service] of Object.entries(services)) {
    const dependsOn = service.depends_on ?? {};
    const entries: [string, Json][] = Array.isArray(dependsOn)
      ? dependsOn.map((d: string) => [d, { condition: "service_started" }])
      : Object.entries(dependsOn);
    for (const [target, { condition }] of entries) {
      assert.ok(target in services, `${name} depends on unknown ${target}`);
      assert.ok(["service_started", "service_healthy", "service_completed_successfully"].includes(condition));
      if (condition === "service_healthy") assert.ok(healthy(target), `${target} has no health check`);
    }
    edges.set(name, entries.map(([target]) => target));
  }
  const visiting = new Set<string>();
  const visit = (name: string, path: string[]) => {
    assert.ok(!visiting.has(name), `cycle: ${[...path, name].join(" → ")}`);
    visiting.add(name);
    for (const next of edges.get(name)!) visit(next, [...path, name]);
    visiting.delete(name);
  };
  for (const name of edges.keys()) visit(name, []);
  assert.deepEqual(edges.get("nginx"), ["api"]);
  assert.deepEqual(edges.get("api"), ["postgres"]);
});

Deno.test("volumes: named ones are declared, bind-mounted files exist (or are the pending nginx.conf)", async () => {
  const declared = Object.keys(compose.volumes ?? {});
  const used = new Set<string>();
  for (const [name, service] of Object.entries(services)) {
    for (const volume of service.volumes ?? []) {
      const [source, target, mode] = volume.split(":");
      assert.ok(target?.startsWith("/"), `${name}: ${volume} mounts at an absolute path`);
      assert.ok(mode === undefined || ["ro", "rw"].includes(mode), `${name}: ${volume}`);
      if (source.startsWith(".") || source.startsWith("/")) {
        const path = source.replace(/^\.\//, "");
        const exists = await Deno.stat(`${root}${path}`).then(() => true, () => false);
        assert.ok(exists || PENDING_FILES.includes(path), `${name} mounts ${source}, which does not exist`);
      } else {
        assert.ok(declared.includes(source), `${name} uses volume ${source}, not declared`);
        used.add(source);
      }
    }
  }
  assert.deepEqual([...used].sort(), declared.sort(), "every declared volume is used");
});

Deno.test("the API's AUDIT_URL points at the postgres service, with its user and database", () => {
  const url = new URL(services.api.environment.AUDIT_URL.replace(/\$\{[^}]+\}/, "secret"));
  const db = services.postgres.environment;
  assert.equal(url.protocol, "postgres:");
  assert.equal(url.hostname, "postgres");
  assert.equal(url.port, "5432");
  assert.equal(url.username, db.POSTGRES_USER);
  assert.equal(url.pathname, `/${db.POSTGRES_DB}`);
});

Deno.test("no secret is written in compose.yaml: passwords and tokens come from the environment", () => {
  for (const [name, service] of Object.entries(services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      const text = String(value);
      if (/PASSWORD|TOKEN|SECRET/.test(key)) assert.match(text, /^\$\{\w+(:[?-][^}]*)?\}$/, `${name}.${key}`);
      const credentials = text.match(/\/\/[^:/]+:([^@]+)@/)?.[1];
      if (credentials) {
        assert.match(credentials, /^\$\{\w+(:[?-][^}]*)?\}$/, `${name}.${key} embeds a password`);
      }
    }
  }
});
