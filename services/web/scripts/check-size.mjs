// The JavaScript a first visit downloads (index.html's entry script and its modulepreloads),
// gzipped, against the budget: pages load later as their own chunks.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET = 250 * 1024;
const dist = resolve(dirname(fileURLToPath(import.meta.url)), "../dist");
const html = readFileSync(resolve(dist, "index.html"), "utf8");
const files = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="([^"]+\.js)"/g)]
  .map((match) => match[1]);
if (files.length === 0) throw new Error("no script in dist/index.html");
let total = 0;
for (const file of files) {
  const size = gzipSync(readFileSync(resolve(dist, "." + file)), { level: 9 }).length;
  total += size;
  console.log(`${(size / 1024).toFixed(1).padStart(7)} KB  ${file}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(7)} KB  initial JavaScript, gzipped (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error("over budget: split the new code into a lazily loaded route");
  process.exit(1);
}
