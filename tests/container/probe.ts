/**
 * Copied into the image and run there by the container test, under the entrypoint's own Deno flags:
 * tries to create a file at each path given (as a JSON array) and prints, as JSON, what happened:
 * `written` (then removed), `deno` (refused by Deno's permissions) or `os` (refused by the filesystem).
 * No imports: it must run inside the image with nothing but the deno binary.
 * @module
 */

const outcomes: Record<string, string> = {};
for (const path of JSON.parse(Deno.args[0]) as string[]) {
  try {
    const file = await Deno.open(path, { createNew: true, write: true });
    file.close();
    await Deno.remove(path);
    outcomes[path] = "written";
  } catch (error) {
    outcomes[path] = error instanceof Deno.errors.NotCapable
      ? "deno"
      : error instanceof Deno.errors.PermissionDenied
      ? "os"
      : `${(error as Error).name}: ${(error as Error).message}`;
  }
}
console.log(JSON.stringify(outcomes));
