/**
 * Provenance of the code that produced a figure: the git commit checked out and whether the work
 * tree differed from it (`git status --porcelain` not empty). Without git, or outside a repository,
 * both are null rather than a guess.
 * @module
 */

/** The commit and dirty flag of the working tree; nulls when git cannot tell. */
export interface GitProvenance {
  git_commit: string | null;
  git_dirty: boolean | null;
}

/** Asks git for the commit and the dirty flag of the current folder's work tree. */
export async function gitProvenance(): Promise<GitProvenance> {
  const commit = await git(["rev-parse", "HEAD"]);
  const status = commit === null ? null : await git(["status", "--porcelain", "--untracked-files=no"]);
  return { git_commit: commit, git_dirty: status === null ? null : status.length > 0 };
}

async function git(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    // No git binary, or no permission to run it.
    return null;
  }
}
