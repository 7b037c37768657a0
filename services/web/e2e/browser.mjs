// Debian's Chromium driven by playwright-core (which never downloads a browser), plus the
// checks every page gets: a screenshot kept as an artefact and an axe scan; and what the e2e
// scripts share (their step log, a wait for a condition, the run's verdict).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update"],
  });
}

/** One line of the script's log, with the time. */
export const step = (text) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${text}`);

/** Waits until `check()` answers true, asking every 250 ms; fails naming `what` after `timeout` ms. */
export async function assertEventually(check, timeout, what) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** The text of the element with `testId` once it shows; if the page shows an error (an alert)
 * instead, fails with that error's text, so a refusal (503 busy, 429) is named, not timed out. */
export async function outcome(page, testId, timeout = 30_000) {
  const wanted = page.getByTestId(testId);
  const alert = page.getByRole("alert");
  await wanted.or(alert).first().waitFor({ timeout });
  if (await wanted.isVisible()) return wanted.textContent();
  throw new Error(`waiting for ${testId}, the page showed an error: ${await alert.first().textContent()}`);
}

/** Screenshots and accessibility findings of every page visited, by name. */
export class Pages {
  constructor(outDir) {
    this.outDir = outDir;
    this.violations = [];
    mkdirSync(outDir, { recursive: true });
  }

  /** Saves `<name>.png` and records axe's serious and critical violations on the page. */
  async check(page, name) {
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await page.screenshot({ path: join(this.outDir, `${name}.png`), fullPage: true });
    // Evaluated through the DevTools protocol, so the page's CSP does not apply to axe itself.
    await page.evaluate(AXE_SOURCE);
    const results = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ["violations"] }));
    for (const v of results.violations) {
      if (v.impact === "serious" || v.impact === "critical") {
        this.violations.push(`${name}: ${v.id} (${v.impact}) ${v.help}: ` +
          v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
      }
    }
  }

  /** The run's verdict: no uncaught error in the page and no serious or critical axe finding. */
  assertClean(pageErrors) {
    assert.deepEqual(pageErrors, [], "uncaught errors in the page");
    assert.deepEqual(this.violations, [], "axe found serious or critical violations");
    step("all good");
  }

  /** A failed run: a screenshot of where it stopped, the error, and axe's findings so far. */
  async failed(page, error) {
    await page.screenshot({ path: join(this.outDir, "failure.png"), fullPage: true }).catch(() => undefined);
    console.error(error);
    if (this.violations.length) console.error("axe:", this.violations);
    process.exitCode = 1;
  }
}
