/**
 * The first step of `deno task test`: finds what the suite needs from the machine and lacks —
 * Debian's Chromium (the browser tests drive `/usr/bin/chromium` and never download a browser of
 * their own), Jupyter's nbconvert with the Python kernel machinery (the notebook tests), and the
 * project's Deno kernelspec in `.ci/jupyter` with `deno` on the PATH to start it. As root with
 * apt-get (CI, a container) it installs the missing Debian packages; otherwise it stops, exit 1,
 * with the one command to run.
 * @module
 */

/** One thing the suite needs from the machine, and the Debian packages that provide it. */
export interface Requirement {
  readonly what: string;
  readonly neededBy: string;
  readonly packages: readonly string[];
  readonly present: () => Promise<boolean>;
}

const ROOT = new URL("..", import.meta.url).pathname;
const JUPYTER = "/usr/bin/jupyter";
const KERNEL_DIR = `${ROOT}.ci/jupyter`;

async function succeeds(command: string, args: string[], env: Record<string, string> = {}): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, env, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** What the suite needs, in the order it is checked. */
export const REQUIREMENTS: readonly Requirement[] = [
  {
    what: "Debian's Chromium (/usr/bin/chromium)",
    neededBy: "tests/e2e/browser_test.ts",
    packages: ["chromium"],
    present: () => isExecutableFile("/usr/bin/chromium"),
  },
  {
    what: "jupyter nbconvert (/usr/bin/jupyter)",
    neededBy: "tests/e2e/notebooks_test.ts and deno task eda",
    packages: ["jupyter-nbconvert", "jupyter-client", "python3-nbclient"],
    present: () => succeeds(JUPYTER, ["nbconvert", "--version"]),
  },
  {
    what: "the Python kernel machinery (python3-ipykernel)",
    neededBy: "jupyter nbconvert",
    packages: ["python3-ipykernel"],
    present: () => succeeds("/usr/bin/python3", ["-c", "import ipykernel"]),
  },
  {
    what: "Debian's python3-onnx and python3-yaml",
    neededBy: "tests/export/ (the opset-3 fallback's onnx checker, the MLmodel descriptor)",
    packages: ["python3-onnx", "python3-yaml"],
    present: () => succeeds("/usr/bin/python3", ["-c", "import onnx, yaml"]),
  },
  {
    what: "Debian's nginx",
    neededBy: "tests/e2e/nginx_test.ts (deploy/nginx.conf in front of replicas)",
    packages: ["nginx"],
    present: async () =>
      (await isExecutableFile("/usr/sbin/nginx")) || (await isExecutableFile("/usr/bin/nginx")),
  },
];

/** The Debian packages that provide `missing`, each once, in order. */
export function packagesFor(missing: readonly Requirement[]): string[] {
  return [...new Set(missing.flatMap((r) => r.packages))];
}

/** What to tell a user who cannot install: what is missing, for what, and the one command to run. */
export function instructions(missing: readonly Requirement[]): string {
  return [
    "tests/setup: this machine lacks what the test suite needs:",
    ...missing.map((r) => `  - ${r.what}, for ${r.neededBy}`),
    "Install it (the tests never download a browser of their own), then run `deno task test` again:",
    `  sudo apt-get install -y ${packagesFor(missing).join(" ")}`,
  ].join("\n");
}

async function missingOf(requirements: readonly Requirement[]): Promise<Requirement[]> {
  const present = await Promise.all(requirements.map((r) => r.present()));
  return requirements.filter((_, i) => !present[i]);
}

async function install(packages: readonly string[]): Promise<void> {
  console.error(`tests/setup: installing Debian packages: ${packages.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", ...packages]]) {
    const { success } = await new Deno.Command("apt-get", { args, env, stdout: "null" }).output();
    if (!success) throw new Error(`apt-get ${args.join(" ")} failed`);
  }
}

/** Problems with the Deno kernel the notebooks run on; empty when it is usable. */
async function kernelProblems(): Promise<string[]> {
  const problems: string[] = [];
  let argv0 = "deno";
  try {
    const spec = JSON.parse(await Deno.readTextFile(`${KERNEL_DIR}/kernels/deno/kernel.json`));
    argv0 = spec.argv?.[0] ?? "deno";
  } catch (error) {
    problems.push(
      `the Deno kernelspec .ci/jupyter/kernels/deno/kernel.json is unreadable (${
        (error as Error).message
      }); ` +
        "restore it: git checkout -- .ci/jupyter",
    );
    return problems;
  }
  if (!(await succeeds(argv0, ["--version"]))) {
    problems.push(
      `the Deno kernel starts \`${argv0}\`, which is not on the PATH; put deno on the PATH: ` +
        "npm install -g deno@2.9.6",
    );
  }
  const listed = await new Deno.Command(JUPYTER, {
    args: ["kernelspec", "list", "--json"],
    env: { JUPYTER_PATH: KERNEL_DIR },
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  const specs = listed?.success ? JSON.parse(new TextDecoder().decode(listed.stdout)).kernelspecs ?? {} : {};
  if (!("deno" in specs)) {
    problems.push(
      "jupyter does not find the deno kernelspec in .ci/jupyter (JUPYTER_PATH); check that " +
        "`JUPYTER_PATH=.ci/jupyter jupyter kernelspec list` lists deno",
    );
  }
  return problems;
}

/** Checks, installs what it can, and returns the exit code: 0 ready, 1 not. */
export async function setup(
  requirements: readonly Requirement[] = REQUIREMENTS,
  canInstall: () => Promise<boolean> = async () =>
    Deno.uid() === 0 && await succeeds("apt-get", ["--version"]),
): Promise<number> {
  let missing = await missingOf(requirements);
  if (missing.length > 0) {
    if (!(await canInstall())) {
      console.error(instructions(missing));
      return 1;
    }
    await install(packagesFor(missing));
    missing = await missingOf(requirements);
    if (missing.length > 0) {
      console.error(instructions(missing));
      return 1;
    }
  }
  const problems = await kernelProblems();
  for (const problem of problems) console.error(`tests/setup: ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await setup());
