// compose.yaml cannot run on this machine (no Docker Hub, no `podman run`): these tests parse it with a
// YAML parser and check what `docker compose up` would trip over — services, their images or builds,
// ports, depends_on, networks and volumes — against the Dockerfile, deploy/nginx.conf and the tree.
import assert from "node:assert/strict";
import { parseDocument } from "yaml";

const root = new URL("../../", import.meta.url).pathname;
const text = await Deno.readTextFile(`${root}compose.yaml`);
const dockerfile = await Deno.readTextFile(`${root}Dockerfile`);
const nginx = await Deno.readTextFile(`${root}deploy/nginx.conf`);

/** Bind-mounted folders the operator provides: the TLS certificate and key are never committed. */
const OPERATOR_PROVIDED = ["deploy/tls"];

const SERVICE_KEYS = new Set([
  "build",
  "image",
  "environment",
  "expose",
  "ports",
  "volumes",
  "networks",
  "depends_on",
  "healthcheck",
  "restart",
  "read_only",
  "tmpfs",
]);

// deno-lint-ignore no-explicit-any
type Json = any;

function load(source: string): Json {
  // Compose reads YAML 1.1 merge keys (`<<: *api`).
  const document = parseDocument(source, { uniqueKeys: true, prettyErrors: true, merge: true });
  assert.deepEqual(document.errors.map((e) => e.message), [], "compose.yaml is valid YAML");
  return document.toJS();
}

const compose = load(text);
const services: Record<string, Json> = compose.services;
const apis = Object.keys(services).filter((name) => /^api-\d+$/.test(name)).sort();
const exposed = dockerfile.match(/^EXPOSE (\d+)$/m)![1];

Deno.test("compose.yaml parses, with known keys, API replicas, PostgreSQL and nginx", () => {
  for (const key of Object.keys(compose)) {
    assert.ok(["name", "services", "volumes", "networks"].includes(key) || key.startsWith("x-"), key);
  }
  assert.deepEqual(Object.keys(services).sort(), [...apis, "nginx", "postgres"]);
  assert.ok(apis.length >= 2, "the API is scaled out");
  for (const [name, service] of Object.entries(services)) {
    for (const key of Object.keys(service)) assert.ok(SERVICE_KEYS.has(key), `${name}.${key}`);
  }
  // The merge key gave every replica the shared settings.
  for (const api of apis) assert.deepEqual(services[api].environment, services[apis[0]].environment);
});

Deno.test("the parser refuses what compose would: a duplicate key, a bad indent", () => {
  assert.throws(() => load("services:\n  api:\n    image: a\n    image: b\n"));
  assert.throws(() => load("services:\n  api:\n    image: a\n   ports: []\n"));
});

Deno.test("each service has an image or a build; the replicas build the Dockerfile's runtime stage", () => {
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  assert.equal(stages.at(-1), "runtime", "runtime is also what `docker build .` builds");
  for (const [name, service] of Object.entries(services)) {
    assert.ok(service.image || service.build, `${name} has neither image nor build`);
    if (service.build) {
      assert.equal(service.build.context, ".");
      assert.ok(stages.includes(service.build.target), `target ${service.build.target} is not in ${stages}`);
    } else {
      assert.match(service.image, /^[\w./-]+:\d[\w.-]*$/, `${name}'s image is pinned to a version`);
    }
  }
  for (const api of apis) assert.equal(services[api].build.target, "runtime");
});

Deno.test("nginx.conf's upstream servers are the replicas, at their addresses on the port the image exposes", () => {
  const upstream = nginx.match(/upstream credit_risk \{([\s\S]*?)\}/)![1];
  const servers = [...upstream.matchAll(/^\s*server (\S+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
  const replicas = apis.map((api) => `${services[api].networks.backend.ipv4_address}:${exposed}`);
  assert.deepEqual(servers.sort(), replicas.sort());
  for (const api of apis) assert.deepEqual(services[api].expose, [exposed]);
  const subnet = compose.networks.backend.ipam.config[0].subnet as string;
  const [network, bits] = subnet.split("/");
  const toInt = (ip: string) => ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  for (const server of servers) {
    const ip = server.split(":")[0];
    assert.equal((toInt(ip) & mask) >>> 0, (toInt(network) & mask) >>> 0, `${ip} is in ${subnet}`);
  }
});

Deno.test("ports: only nginx publishes, exactly the ports nginx.conf listens on", () => {
  for (const [name, service] of Object.entries(services)) {
    if (name !== "nginx") assert.equal(service.ports, undefined, `${name} publishes no port`);
  }
  const listens = [...nginx.matchAll(/^\s*listen (\d+)/gm)].map((m) => m[1]).sort();
  const published = services.nginx.ports.map((p: string) => p.split(":"));
  for (const [host, container] of published) {
    assert.ok(Number(host) > 0 && Number(host) < 65536, host);
    assert.match(container, /^\d+$/);
  }
  assert.deepEqual(published.map(([, container]: string[]) => container).sort(), listens);
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
    edges.set(name, entries.map(([target]) => target).sort());
  }
  const visiting = new Set<string>();
  const visit = (name: string, path: string[]) => {
    assert.ok(!visiting.has(name), `cycle: ${[...path, name].join(" → ")}`);
    visiting.add(name);
    for (const next of edges.get(name)!) visit(next, [...path, name]);
    visiting.delete(name);
  };
  for (const name of edges.keys()) visit(name, []);
  assert.deepEqual(edges.get("nginx"), apis);
  for (const api of apis) assert.deepEqual(edges.get(api), ["postgres"]);
});

Deno.test("networks and volumes: declared and used; bind mounts exist, but the operator's TLS folder", async () => {
  const declaredNetworks = Object.keys(compose.networks ?? {});
  const declaredVolumes = Object.keys(compose.volumes ?? {});
  const used = new Set<string>();
  const mounts = new Map<string, string>();
  for (const [name, service] of Object.entries(services)) {
    const networks = Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {});
    for (const network of networks) {
      assert.ok(declaredNetworks.includes(network), `${name}: network ${network}`);
    }
    for (const volume of service.volumes ?? []) {
      const [source, target, mode] = volume.split(":");
      assert.ok(target?.startsWith("/"), `${name}: ${volume} mounts at an absolute path`);
      assert.ok(mode === undefined || ["ro", "rw"].includes(mode), `${name}: ${volume}`);
      if (source.startsWith(".") || source.startsWith("/")) {
        const path = source.replace(/^\.\//, "");
        const exists = await Deno.stat(`${root}${path}`).then(() => true, () => false);
        assert.ok(
          exists || OPERATOR_PROVIDED.includes(path),
          `${name} mounts ${source}, which does not exist`,
        );
        if (name === "nginx") mounts.set(target, path);
      } else {
        assert.ok(declaredVolumes.includes(source), `${name} uses volume ${source}, not declared`);
        used.add(source);
      }
    }
  }
  assert.deepEqual([...used].sort(), declaredVolumes.sort(), "every declared volume is used");
  // nginx runs deploy/nginx.conf as its main configuration, and finds its certificate where it says.
  assert.equal(mounts.get("/etc/nginx/nginx.conf"), "deploy/nginx.conf");
  for (const [, path] of nginx.matchAll(/^\s*ssl_certificate(?:_key)? (\S+);/gm)) {
    assert.ok([...mounts.keys()].some((target) => path.startsWith(`${target}/`)), `${path} is mounted`);
  }
});

Deno.test("each replica's AUDIT_URL points at the postgres service, with its user and database", () => {
  const db = services.postgres.environment;
  for (const api of apis) {
    const url = new URL(services[api].environment.AUDIT_URL.replace(/\$\{[^}]+\}/, "secret"));
    assert.equal(url.protocol, "postgres:");
    assert.equal(url.hostname, "postgres");
    assert.equal(url.port, "5432");
    assert.equal(url.username, db.POSTGRES_USER);
    assert.equal(url.pathname, `/${db.POSTGRES_DB}`);
  }
});

Deno.test("no secret is written in compose.yaml: passwords and tokens come from the environment", () => {
  const interpolation = /^\$\{\w+(:[?-][^}]*)?\}$/;
  for (const [name, service] of Object.entries(services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      const text = String(value);
      if (/PASSWORD|TOKEN|SECRET/.test(key)) assert.match(text, interpolation, `${name}.${key}`);
      const credentials = text.match(/\/\/[^:/]+:([^@]+)@/)?.[1];
      if (credentials) assert.match(credentials, interpolation, `${name}.${key} embeds a password`);
    }
  }
});
