// Debian's Chromium driven by playwright-core (which never downloads a browser), plus the
// checks every page gets: a screenshot kept as an artefact and an axe scan.
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
}
