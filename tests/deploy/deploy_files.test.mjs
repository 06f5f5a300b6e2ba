// Offline checks of docs/deploy (what docs/deploy.md says was and was not checked):
// - every manifest in docs/deploy/k8s parses as YAML (npm yaml: strict, duplicate keys refused);
// - every built-in Kubernetes object validates against the schema npm kubernetes-models bundles
//   (types, required fields, enums; it does not refuse unknown fields), and so does the pod
//   template inside the Agones Fleet's GameServer template;
// - the Agones objects (no schema available offline) are checked by hand for what this project
//   relies on: kinds and API groups, port names the game server reads ("game",
//   "game-websocket"), port policies and protocols Agones knows, health settings, --agones;
// - references hold: secrets, config maps and services named where they are used, selectors
//   matching pod labels, named target ports, the autoscaler's fleet; the lobby's capacity and
//   room limits fit the fleet's servers;
// - every flag passed to tickwire-server is one it has (its --help);
// - the Dockerfile passes dockerfile-utils' validator, and its runtime stage installs the Debian
//   package of every shared library the built tickwire-server links (ldd, dpkg-query).
//
//   node deploy_files.test.mjs REPOSITORY_ROOT TICKWIRE_SERVER
// Exits 77 (skipped) when npm packages are missing (scripts/test.sh installs them).

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const SKIP = 77;
const [root, server] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, "package.json"));
let YAML, validateDockerfile;
try {
  YAML = require("yaml");
  ({ validate: validateDockerfile } = require("dockerfile-utils"));
  require.resolve("kubernetes-models/v1/PodTemplateSpec");
} catch {
  console.log("SKIP: npm packages missing in tests/deploy (npm ci --prefix tests/deploy)");
  process.exit(SKIP);
}

const failures = [];
const fail = (message) => failures.push(message);
const k8sDir = path.join(root, "docs/deploy/k8s");

// ---- YAML
const objects = [];
for (const file of fs.readdirSync(k8sDir).filter((name) => name.endsWith(".yaml")).sort()) {
  const documents = YAML.parseAllDocuments(fs.readFileSync(path.join(k8sDir, file), "utf8"), {
    uniqueKeys: true,
    strict: true,
  });
  for (const document of documents) {
    if (document.errors.length > 0) {
      fail(`${file}: ${document.errors.map((error) => error.message).join("; ")}`);
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    objects.push({ file, object });
  }
}
console.log(`parsed ${objects.length} objects from docs/deploy/k8s`);

// ---- schemas of built-in kinds
const builtIn = (apiVersion) => !apiVersion.includes(".") || apiVersion.includes(".k8s.io/");
async function modelFor(apiVersion, kind) {
  const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
  return module[kind];
}
function schemaErrors(Model, value) {
  try {
    new Model(value).validate();
    return null;
  } catch (error) {
    return error.message;
  }
}
for (const { file, object } of objects) {
  const { apiVersion, kind } = object;
  const where = `${file}: ${kind} ${object.metadata?.name}`;
  if (!apiVersion || !kind || !object.metadata?.name) {
    fail(`${file}: an object without apiVersion, kind or metadata.name`);
    continue;
  }
  if (!builtIn(apiVersion)) continue;
  let Model;
  try {
    Model = await modelFor(apiVersion, kind);
  } catch {
    fail(`${where}: no schema for ${apiVersion} ${kind} (a kind Kubernetes does not have?)`);
    continue;
  }
  const problem = schemaErrors(Model, object);
  if (problem) fail(`${where}: ${problem}`);
  else console.log(`schema ok: ${where}`);
}

// ---- Agones objects, by hand
const PodTemplateSpec = await modelFor("v1", "PodTemplateSpec");
const byKind = (kind) => objects.filter(({ object }) => object.kind === kind);
const fleets = byKind("Fleet");
if (fleets.length !== 1) fail(`expected one Fleet, found ${fleets.length}`);
const serverArgsByWorkload = [];
for (const { file, object } of fleets) {
  const where = `${file}: Fleet ${object.metadata.name}`;
  if (object.apiVersion !== "agones.dev/v1") fail(`${where}: apiVersion is not agones.dev/v1`);
  const gameServer = object.spec?.template?.spec;
  if (!gameServer) {
    fail(`${where}: no GameServer template (spec.template.spec)`);
    continue;
  }
  const ports = gameServer.ports ?? [];
  for (const port of ports) {
    if (!["Dynamic", "Static", "Passthrough", "None"].includes(port.portPolicy ?? "Dynamic"))
      fail(`${where}: port ${port.name}: portPolicy ${port.portPolicy} is not Agones'`);
    if (!["UDP", "TCP", "TCPUDP"].includes(port.protocol ?? "UDP"))
      fail(`${where}: port ${port.name}: protocol ${port.protocol} is not Agones'`);
    if (!Number.isInteger(port.containerPort))
      fail(`${where}: port ${port.name}: no containerPort`);
  }
  const portNamed = (name) => ports.find((port) => port.name === name);
  // The names tickwire-server --agones looks for in the GameServer record.
  if (portNamed("game")?.protocol !== "UDP") fail(`${where}: no UDP port named "game"`);
  if (portNamed("game-websocket")?.protocol !== "TCP")
    fail(`${where}: no TCP port named "game-websocket"`);
  const health = gameServer.health ?? {};
  for (const field of ["initialDelaySeconds", "periodSeconds", "failureThreshold"]) {
    if (!Number.isInteger(health[field]) || health[field] <= 0)
      fail(`${where}: health.${field} is not a positive integer`);
  }
  // The server pings Health every 2 s: the window must leave room for a lost ping or two.
  if (health.disabled || health.periodSeconds * health.failureThreshold < 6)
    fail(`${where}: the health window is under 6 s (the server pings every 2 s)`);
  const podTemplate = gameServer.template;
  const problem = schemaErrors(PodTemplateSpec, podTemplate);
  if (problem) fail(`${where}: pod template: ${problem}`);
  else console.log(`schema ok: ${where}: its pod template (core v1 PodTemplateSpec)`);
  const containers = podTemplate?.spec?.containers ?? [];
  const container =
    containers.find((candidate) => candidate.name === gameServer.container) ?? containers[0];
  const args = container?.args ?? [];
  serverArgsByWorkload.push({ where, args });
  const flag = (name) => args.find((arg) => arg === name || arg.startsWith(`${name}=`));
  const value = (name) => flag(name)?.split("=")[1];
  if (!flag("--agones")) fail(`${where}: the game server runs without --agones`);
  if (value("--role") !== "game") fail(`${where}: the game server is not --role=game`);
  if (Number(value("--game-port")) !== portNamed("game")?.containerPort)
    fail(`${where}: --game-port is not the "game" port's containerPort`);
  if (Number(value("--game-websocket-port")) !== portNamed("game-websocket")?.containerPort)
    fail(`${where}: --game-websocket-port is not the "game-websocket" port's containerPort`);
}
for (const { file, object } of byKind("FleetAutoscaler")) {
  const where = `${file}: FleetAutoscaler ${object.metadata.name}`;
  if (object.apiVersion !== "autoscaling.agones.dev/v1") fail(`${where}: wrong apiVersion`);
  if (!fleets.some(({ object: fleet }) => fleet.metadata.name === object.spec?.fleetName))
    fail(`${where}: fleetName ${object.spec?.fleetName} names no Fleet here`);
  const buffer = object.spec?.policy?.buffer;
  if (object.spec?.policy?.type !== "Buffer" || !buffer)
    fail(`${where}: not a Buffer policy`);
  else if (!(buffer.minReplicas <= buffer.maxReplicas) || buffer.maxReplicas <= 0)
    fail(`${where}: minReplicas/maxReplicas out of order`);
}

// ---- references
const named = (kind, name) =>
  objects.some(({ object }) => object.kind === kind && object.metadata.name === name);
const podSpecs = [];
for (const { file, object } of objects) {
  const where = `${file}: ${object.kind} ${object.metadata.name}`;
  if (["Deployment", "StatefulSet"].includes(object.kind)) {
    podSpecs.push({ where, template: object.spec.template });
    const selector = object.spec.selector?.matchLabels ?? {};
    const labels = object.spec.template?.metadata?.labels ?? {};
    for (const [key, wanted] of Object.entries(selector)) {
      if (labels[key] !== wanted) fail(`${where}: its selector does not match its pod labels`);
    }
    if (object.kind === "Deployment") {
      const container = object.spec.template.spec.containers[0];
      if (container.image.startsWith("registry.example.com/tickwire-server"))
        serverArgsByWorkload.push({ where, args: container.args ?? [] });
    }
  }
  if (object.kind === "Fleet")
    podSpecs.push({ where, template: object.spec.template.spec.template });
}
for (const { where, template } of podSpecs) {
  for (const volume of template?.spec?.volumes ?? []) {
    if (volume.secret && !named("Secret", volume.secret.secretName))
      fail(`${where}: volume ${volume.name}: no Secret ${volume.secret.secretName}`);
    if (volume.configMap && !named("ConfigMap", volume.configMap.name))
      fail(`${where}: volume ${volume.name}: no ConfigMap ${volume.configMap.name}`);
  }
  for (const container of template?.spec?.containers ?? []) {
    const mounts = new Set((template.spec.volumes ?? []).map((volume) => volume.name));
    for (const mount of container.volumeMounts ?? []) {
      if (!mounts.has(mount.name)) fail(`${where}: mount ${mount.name} has no volume`);
    }
  }
}
for (const { file, object } of byKind("Service")) {
  const where = `${file}: Service ${object.metadata.name}`;
  const pods = podSpecs.filter(({ template }) =>
    Object.entries(object.spec.selector ?? {}).every(
      ([key, wanted]) => template?.metadata?.labels?.[key] === wanted,
    ),
  );
  if (pods.length === 0) {
    fail(`${where}: its selector matches no pod template here`);
    continue;
  }
  const portNames = new Set(
    pods.flatMap(({ template }) =>
      template.spec.containers.flatMap((container) => (container.ports ?? []).map((p) => p.name)),
    ),
  );
  for (const port of object.spec.ports ?? []) {
    if (typeof port.targetPort === "string" && !portNames.has(port.targetPort))
      fail(`${where}: targetPort ${port.targetPort} is no container port's name`);
  }
}
// Hosts the servers are told to reach must be Services here (host:port, or the Service's DNS
// name host.namespace.svc).
for (const { where, args } of serverArgsByWorkload) {
  for (const arg of args) {
    const match = /^--(lobby|redis)=([^:]+):\d+$/.exec(arg);
    if (!match) continue;
    const service = match[2].split(".")[0];
    if (!named("Service", service)) fail(`${where}: ${arg}: no Service ${service} here`);
  }
}

// The lobby and the fleet agree: a game server registers with capacity --max-players, which the
// lobby refuses over its --max-game-server-capacity, and a room must fit on one server.
const flagValue = (args, name) => {
  const arg = args.find((candidate) => candidate.startsWith(`${name}=`));
  return arg === undefined ? undefined : Number(arg.split("=")[1]);
};
const lobbyArgs = serverArgsByWorkload.find(({ args }) => args.includes("--role=lobby"))?.args;
const fleetArgs = serverArgsByWorkload.find(({ args }) => args.includes("--role=game"))?.args;
if (!lobbyArgs || !fleetArgs) {
  fail("expected a --role=lobby Deployment and a --role=game Fleet");
} else {
  const serverCapacity = flagValue(fleetArgs, "--max-players");
  const lobbyCap = flagValue(lobbyArgs, "--max-game-server-capacity");
  const roomSize = flagValue(lobbyArgs, "--max-players");
  if (!(serverCapacity <= lobbyCap))
    fail(
      `the fleet's --max-players (${serverCapacity}) is over the lobby's ` +
        `--max-game-server-capacity (${lobbyCap}): registrations would be refused`,
    );
  if (!(roomSize <= serverCapacity))
    fail(`the lobby's rooms (--max-players ${roomSize}) do not fit a server (${serverCapacity})`);
}

// ---- tickwire-server's flags
let help = "";
try {
  help = execFileSync(server, ["--help"], { encoding: "utf8" });
} catch (error) {
  fail(`${server} --help failed: ${error.message}`);
}
for (const { where, args } of serverArgsByWorkload) {
  for (const arg of args) {
    if (!arg.startsWith("--")) continue;
    const name = arg.split("=")[0];
    if (new RegExp(`(^|[\\s,])${name}([\\s,={[]|$)`, "m").test(help)) continue;
    fail(`${where}: tickwire-server has no flag ${name}`);
  }
}

// ---- Dockerfile
const dockerfilePath = path.join(root, "docs/deploy/Dockerfile");
const dockerfile = fs.readFileSync(dockerfilePath, "utf8");
for (const diagnostic of validateDockerfile(dockerfile)) {
  fail(`Dockerfile line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
}
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages[stages.length - 1] ?? "";
const installed = new Set(
  [...runtime.matchAll(/apt-get install ([^&]*)/g)].flatMap((match) =>
    match[1].split(/[\s\\]+/).filter((word) => word && !word.startsWith("-")),
  ),
);
// In every Debian image already (essential or required by apt itself).
const inBaseImage = new Set(["libc6", "libgcc-s1", "libstdc++6"]);
try {
  const linked = execFileSync("ldd", [server], { encoding: "utf8" });
  for (const line of linked.split("\n")) {
    const library = /=>\s+(\/\S+)/.exec(line)?.[1];
    if (!library) continue;
    // dpkg knows a library by the path its package ships it at: /lib or /usr/lib (merged /usr).
    let owner = "";
    for (const candidate of [library, fs.realpathSync(library)]) {
      try {
        owner = execFileSync("dpkg-query", ["-S", candidate], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        })
          .split(":")[0]
          .trim();
        break;
      } catch {}
    }
    if (!owner) {
      fail(`Dockerfile: ${library} (linked by tickwire-server) belongs to no Debian package`);
      continue;
    }
    // A sanitizer build (scripts/test.sh --sanitize) links its runtime; the image's is Release.
    const sanitizerRuntime = /^lib(asan|ubsan|lsan|tsan)\d*$/.test(owner);
    if (!installed.has(owner) && !inBaseImage.has(owner) && !sanitizerRuntime)
      fail(`Dockerfile: the runtime stage does not install ${owner} (${path.basename(library)})`);
  }
  const packages = [...installed].join(" ");
  console.log(`Dockerfile: runtime packages ${packages} cover tickwire-server's libraries`);
} catch (error) {
  fail(`ldd ${server}: ${error.message}`);
}

for (const failure of failures) console.log(`FAIL: ${failure}`);
if (failures.length > 0) process.exit(1);
console.log("PASS: docs/deploy manifests and Dockerfile check out offline");
