/**
 * `pgsession prune` on a terminal draws a progress line (on stderr, see src/cli/progress.ts) instead of plain
 * lines. Run in process through runCli, with a stand-in terminal stream, on PGlite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run.js";
import { createSessions } from "../../src/index.js";
import { pgliteStore } from "../../src/store/pglite.js";

class FakeTerminal extends Writable {
  text = "";
  readonly isTTY = true;
  readonly columns = 120;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString("utf8");
    callback();
  }
  cursorTo(_x: number, _y?: number, callback?: () => void): boolean {
    callback?.();
    return true;
  }
  clearLine(_dir: number, callback?: () => void): boolean {
    callback?.();
    return true;
  }
  moveCursor(_dx: number, _dy: number, callback?: () => void): boolean {
    callback?.();
    return true;
  }
}

describe("pgsession prune on a terminal", { timeout: 120_000 }, () => {
  const cwd = mkdtempSync(join(tmpdir(), "pgsession-prune-tty-"));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it("shows a progress bar and deletes the expired sessions", async () => {
    const past = () => new Date(Date.now() - 3 * 86_400_000);
    const sessions = createSessions({ store: pgliteStore(join(cwd, ".pgsession")), now: past });
    await sessions.migrate();
    for (let i = 0; i < 5; i++) {
      const session = await sessions.resolve(undefined);
      session.set("n", i);
      await sessions.commit(session);
    }
    await sessions.close();

    const terminal = new FakeTerminal();
    let stdout = "";
    let stderr = "";
    const code = await runCli(["prune", "--batch-size", "2", "--pglite"], {
      env: {},
      cwd,
      terminal,
      signal: new AbortController().signal,
      stdout: { write: (text) => void (stdout += text) },
      stderr: { write: (text) => void (stderr += text) },
    });
    expect(code, stderr).toBe(0);
    expect(terminal.text).toMatch(/pruning \[.*\] 100% \| 5\/5 rows scanned \| 5 deleted/);
    expect(stdout).toMatch(/^deleted 5 expired sessions in 3 batches \(\d+ ms\)\n$/);
    expect(stdout).not.toContain("batch 1:");
  });
});
