// The web app end to end against the real stack (started by tests/e2e/test_web_app.py):
// register, create a collection, upload two exports and watch them, search, open a hit in its
// chat, survive a reload, ask and open a citation, dashboards with search analytics, restore a
// version, webhooks, an export full of XSS payloads that executes nothing, sign out. Every page
// is screenshotted and scanned by axe.
//   BASE_URL=http://127.0.0.1:18080 OUT=var/web-e2e SAMPLE=samples/whatsapp-demo.txt \
//   XSS=path/to/xss.txt node e2e/app.e2e.mjs
import assert from "node:assert/strict";
import { TOTP } from "otpauth";
import { assertEventually, launch, Pages, step } from "./browser.mjs";

const BASE = process.env.BASE_URL;
const SAMPLE = process.env.SAMPLE;
const XSS = process.env.XSS;
const pages = new Pages(process.env.OUT ?? "var/web-e2e");
const LONG = 300_000; // the LLM answers on CPU
const EMAIL = `web-${Date.now()}@example.com`;
// Port 9 (discard) on loopback: nothing listens there, so deliveries fail and are retried.
const HOOK_URL = "http://127.0.0.1:9/chatlens-hook";
const PASSWORD = "a long and uncommon passphrase 7";

const browser = await launch();
const context = await browser.newContext({
  baseURL: BASE, viewport: { width: 1280, height: 900 }, reducedMotion: "reduce",
});
// A payload that ran would set one of these; a CSP refusal is recorded too.
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
});
const page = await context.newPage();
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(String(error)));
let dialogs = 0;
page.on("dialog", (dialog) => { dialogs += 1; void dialog.dismiss(); });

try {
  step("a protected page sends a stranger to sign in");
  await page.goto("/collections");
  await page.waitForURL("**/login");
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await pages.check(page, "01-login");

  step("register");
  await page.getByRole("link", { name: "Create one" }).click();
  await page.getByLabel("Name").fill("Web E2E");
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await pages.check(page, "02-register");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/collections");

  step("the refresh token is an HttpOnly, Secure, SameSite=Strict cookie on the refresh path");
  const cookie = (await context.cookies()).find((c) => c.name === "chatlens_refresh");
  assert.ok(cookie, "no refresh cookie");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/api/v1/auth/refresh");
  assert.equal(await page.evaluate(() => document.cookie.includes("chatlens_refresh")), false);

  step("create a collection");
  await page.getByLabel("New collection").fill("Team chats");
  await page.getByLabel("Description").fill("e2e");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("link", { name: "Team chats" }).waitFor();
  await pages.check(page, "03-collections");
  await page.getByRole("link", { name: "Team chats" }).click();
  await page.waitForURL("**/search");
  const collectionUrl = page.url().replace(/\/search$/, "");

  step("upload two exports and watch their progress");
  await page.getByRole("tab", { name: "Upload" }).click();
  await page.locator("input[type=file]").setInputFiles([SAMPLE, XSS]);
  const items = page.getByTestId("upload-item");
  await assertEventually(async () => (await items.count()) === 2, 10_000, "two upload rows");
  await page.locator('[data-phase="processing"], [data-phase="done"]').first().waitFor({ timeout: LONG });
  await pages.check(page, "04-upload-progress");
  await assertEventually(async () =>
    (await page.locator('[data-testid="upload-item"][data-phase="done"]').count()) === 2, LONG,
  "both jobs done");
  const outcomes = await page.getByTestId("job-outcome").allTextContents();
  step(`  ${outcomes.join(" | ")}`);
  assert.equal(outcomes.length, 2);
  for (const outcome of outcomes) assert.match(outcome, /^Indexed as version \d+: \d+ new, \d+ already there$/);

  step("the same export again adds nothing");
  await page.locator("input[type=file]").setInputFiles([SAMPLE]);
  await assertEventually(async () =>
    (await page.locator('[data-testid="upload-item"][data-phase="done"]').count()) === 3, LONG, "re-upload done");
  const again = await page.getByTestId("job-outcome").first().textContent();
  assert.match(again, /: 0 new, [1-9]\d* already there$/);

  step("a refusal is shown with its reason");
  await page.locator("input[type=file]").setInputFiles([{ name: "notes.bin", mimeType: "application/octet-stream",
    buffer: Buffer.from([0, 1, 2, 3, 255, 254, 0, 0]) }]);
  const refused = page.getByTestId("upload-refused");
  await refused.waitFor({ timeout: 30_000 });
  assert.ok((await refused.textContent()).length > 10);
  await pages.check(page, "05-upload-done");

  step("a reload while a job runs: the table follows it to the end");
  await page.locator("input[type=file]").setInputFiles([XSS]);
  await page.locator('[data-testid="upload-item"]').first().and(page.locator('[data-phase="processing"], [data-phase="done"]')).waitFor({ timeout: LONG });
  await page.reload();
  const jobRows = page.getByRole("row").filter({ has: page.getByRole("cell") });
  await assertEventually(async () => {
    const texts = await jobRows.allTextContents();
    return texts.length === 4 && texts.every((row) => /succeeded/i.test(row));
  }, LONG, "four succeeded uploads in the table");

  step("search, with marks from the spans and neighbours");
  await page.getByRole("tab", { name: "Search" }).click();
  await page.getByRole("textbox", { name: "Search" }).waitFor();
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "search-box", "/ focuses search");
  await page.keyboard.type("offsite in Lisbon");
  await page.keyboard.press("Enter");
  const hits = page.getByTestId("search-hit");
  await hits.first().waitFor({ timeout: 60_000 });
  assert.ok(await page.locator("mark.hit", { hasText: /lisbon/i }).count() > 0, "no highlighted match");
  await pages.check(page, "06-search");

  step("infinite scroll fetches the next page; only the hits near the viewport are in the DOM");
  const summary = page.getByTestId("search-summary");
  assert.match(await summary.textContent(), /^20\+ messages/);
  await assertEventually(async () => {
    await page.mouse.wheel(0, 4000);
    return /^(4\d|[5-9]\d|\d{3,})\+? messages/.test(await summary.textContent());
  }, 30_000, "a second page of hits");
  assert.ok(await hits.count() < 40, "the list is not virtualised");
  await page.evaluate(() => window.scrollTo(0, 0));

  step("the version picker searches an older version");
  await page.getByRole("textbox", { name: "Version" }).click();
  await page.getByRole("option", { name: /^v1 · / }).click();
  await assertEventually(async () => /version 1$/.test(await summary.textContent()), 30_000,
    "results of version 1");
  await page.getByRole("textbox", { name: "Version" }).click();
  await page.getByRole("option", { name: /^v3 · / }).click();

  step("filter chips and the keyword mode");
  await page.locator("label", { hasText: /^Keywords$/ }).click();
  await page.getByLabel("Filter value").fill("Marta");
  await page.getByRole("button", { name: "Add filter" }).click();
  await page.getByText("From: Marta").waitFor();
  await assertEventually(async () => {
    const senders = await page.getByTestId("hit-sender").allTextContents();
    return senders.length > 0 && senders.every((s) => s.startsWith("Marta"));
  }, 30_000, "hits only from Marta");
  await pages.check(page, "07-search-filtered");

  step("open a hit in its chat");
  await hits.first().getByRole("button", { name: "Open in chat" }).click();
  await page.getByTestId("opened-message").waitFor({ timeout: 30_000 });
  await pages.check(page, "08-message-in-context");
  await page.keyboard.press("Escape");

  step("dashboards: every report under one set of filters");
  await page.getByRole("tab", { name: "Dashboard" }).click();
  await page.waitForURL("**/dashboard**");
  const overviewCard = page.getByRole("region", { name: "Overview" });
  await overviewCard.getByText("Busiest weekday").waitFor({ timeout: 60_000 });
  await page.getByTestId("heatmap").waitFor();
  await page.locator("[data-testid=people-chart] .recharts-bar-rectangle").first().waitFor({ timeout: 60_000 });
  const peopleRows = page.getByTestId("people-table").locator("tbody tr");
  assert.ok(await peopleRows.count() >= 5, "the sample's five people and the XSS export's two");
  const heatTotal = await page.getByTestId("heatmap").locator("td").evaluateAll((cells) =>
    cells.reduce((sum, cell) => sum + Number(cell.textContent || 0), 0));
  const messagesFigure = Number((await overviewCard.getByTestId("overview-figure").first().locator("p").last()
    .textContent()).replace(/\D/g, ""));
  step(`  ${messagesFigure} messages; the heatmap's cells add up to ${heatTotal}`);
  assert.ok(messagesFigure > 100 && heatTotal === messagesFigure, "the heatmap does not add up to the overview");
  await pages.check(page, "19-dashboard");

  step("a CSV of what the people card shows");
  const [download] = await Promise.all([page.waitForEvent("download"),
    page.getByRole("button", { name: "Download People as CSV" }).click()]);
  const csv = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
  assert.match(csv, /^sender,messages,share,/);
  assert.match(csv, /\r\nMarta,\d+,/);
  assert.equal(download.suggestedFilename(), "people.csv");

  step("a heatmap cell lists the messages of its hour and weekday");
  const slot = page.getByTestId("heatmap").getByRole("button").first();
  const slotCount = Number((await slot.getAttribute("aria-label")).match(/the (\d+) messages/)[1]);
  await slot.click();
  const drilled = page.getByTestId("drill-messages");
  await drilled.waitFor({ timeout: 60_000 });
  const drilledSummary = await drilled.locator("p").first().textContent();
  step(`  ${await slot.getAttribute("aria-label")}: ${drilledSummary}`);
  assert.ok(drilledSummary.startsWith(`${slotCount} messages`) || drilledSummary.includes(`of ${slotCount} messages`),
    `the slot's ${slotCount} messages, listed: ${drilledSummary}`);
  await pages.check(page, "19a-heatmap-drill-down");
  await page.keyboard.press("Escape");
  await drilled.waitFor({ state: "detached" });

  step("a PNG of the heatmap, drawn in the page");
  const [png] = await Promise.all([page.waitForEvent("download"),
    page.getByRole("button", { name: "Download Hour × weekday as PNG" }).click()]);
  const pngBytes = await (await import("node:fs/promises")).readFile(await png.path());
  assert.equal(png.suggestedFilename(), "hour-by-weekday.png");
  assert.equal(pngBytes.subarray(1, 4).toString(), "PNG");
  assert.ok(pngBytes.length > 2000, `a PNG of ${pngBytes.length} bytes`);

  step("interaction: who answers whom, and how fast");
  await page.getByRole("tab", { name: "Interaction" }).click();
  await page.waitForURL(/tab=interaction/);
  await page.getByText("Turn-taking").first().click();
  const matrix = page.getByTestId("interaction-matrix");
  await matrix.waitFor({ timeout: 90_000 });
  const pairs = await matrix.getByRole("button").count();
  step(`  ${pairs} pairs in the turn-taking matrix`);
  assert.ok(pairs >= 2, "the sample's people answer one another");
  await page.getByTestId("replies-chart").waitFor();
  await pages.check(page, "19b-interaction");

  step("language: top words, sentiment; a word searches for itself");
  await page.getByRole("tab", { name: "Language" }).click();
  await page.getByTestId("terms-table").waitFor({ timeout: 120_000 });
  await page.getByTestId("sentiment-chart").waitFor();
  await pages.check(page, "19c-language");
  const word = (await page.getByTestId("terms-table").getByRole("link").first().textContent()).trim();
  await page.getByTestId("terms-table").getByRole("link").first().click();
  await page.waitForURL(/\/search\?.*q=/);
  await assertEventually(async () => (await page.getByTestId("hit-sender").count()) > 0, 60_000,
    `hits for the top word ${word}`);
  await page.goBack();
  await page.waitForURL(/tab=language/);

  step("calendar: a day opens its messages");
  await page.getByRole("tab", { name: "Calendar" }).click();
  await page.getByTestId("calendar").waitFor({ timeout: 60_000 });
  const day = page.locator("[data-testid=calendar] .calendar-day").first();
  const dayCount = Number((await day.getAttribute("aria-label")).match(/: (\d+) messages/)[1]);
  await day.click();
  await drilled.waitFor({ timeout: 60_000 });
  const daySummary = await drilled.locator("p").first().textContent();
  assert.ok(daySummary.startsWith(`${dayCount} messages`), `the day's ${dayCount} messages, listed: ${daySummary}`);
  await pages.check(page, "19d-calendar-drill-down");
  await page.keyboard.press("Escape");
  await drilled.waitFor({ state: "detached" });

  step("people across platforms: suggestions with their evidence");
  await page.getByRole("tab", { name: "People across platforms" }).click();
  const identities = page.getByRole("region", { name: "People across platforms" });
  await identities.getByText(/suggestions among \d+ senders/).waitFor({ timeout: 60_000 });
  await pages.check(page, "19e-people-across-platforms");

  step("topics: computed as a job with progress, then labels, representatives, over time, the map");
  await page.getByRole("tab", { name: "Topics" }).click();
  await page.getByRole("button", { name: "Compute topics" }).click();
  await page.getByTestId("topics-list").waitFor({ timeout: LONG });
  const topicCount = await page.getByTestId("topic").count();
  step(`  ${await page.getByRole("region", { name: "Topics job" }).textContent()}`);
  assert.ok(topicCount >= 2, `${topicCount} topics`);
  await page.getByTestId("topics-chart").waitFor();
  const mapPoints = page.getByTestId("map-point");
  assert.ok(await mapPoints.count() > 50, "the map shows the messages");
  await mapPoints.nth(3).hover();
  await assertEventually(async () => !/Reading the message/.test(await page.getByTestId("map-hover").textContent()),
    30_000, "the hovered point's message");
  await pages.check(page, "19f-topics");
  await page.getByRole("button", { name: "Zoom in" }).click();
  // A point that stays inside the map once zoomed (the layout differs run to run; a point the
  // zoom pushed past the map's edge is clipped and cannot be clicked).
  const inView = await page.getByTestId("topic-map").evaluate((svg) => {
    const box = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('[data-testid="map-point"]')].findIndex((point) => {
      const r = point.getBoundingClientRect();
      return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
    });
  });
  assert.ok(inView >= 0, "a point stays in view after zooming in");
  await mapPoints.nth(inView).click();
  await page.getByTestId("opened-message").waitFor({ timeout: 30_000 });
  await page.keyboard.press("Escape");

  step("searches: what members searched, per day, the top queries and those with no hits");
  await page.getByRole("tab", { name: "Queries" }).click();
  await page.waitForURL(/tab=queries/);
  await page.getByRole("region", { name: "Searches over time" }).getByText(/\d+ searches and questions from/)
    .waitFor({ timeout: 60_000 });
  await page.getByTestId("search-volume-chart").waitFor();
  const topQueries = page.getByTestId("top-queries");
  await topQueries.getByRole("link", { name: "Search for offsite in lisbon" }).waitFor();
  step(`  ${await page.getByRole("region", { name: "Searches over time" }).locator("p").first().textContent()}`);
  await pages.check(page, "19g-search-analytics");
  await page.getByRole("tab", { name: "Activity" }).click();
  await page.getByTestId("people-table").waitFor({ timeout: 60_000 });

  step("filtering by a sender narrows every card");
  await page.getByRole("textbox", { name: "Sender" }).fill("Marta");
  await page.keyboard.press("Enter");
  await page.waitForURL(/sender=Marta/);
  await assertEventually(async () => (await peopleRows.count()) === 1, 30_000, "only Marta in the people table");
  await pages.check(page, "20-dashboard-filtered");

  step("drill down: Marta's bar opens the search for her messages");
  await page.locator("[data-testid=people-chart] .recharts-bar-rectangle").first().click();
  await page.waitForURL(/\/search\?.*sender=Marta/);
  await page.getByText("From: Marta").waitFor();
  await page.getByTestId("drill-down-hint").waitFor();
  await page.getByRole("textbox", { name: "Search" }).fill("offsite");
  await page.keyboard.press("Enter");
  await assertEventually(async () => {
    const senders = await page.getByTestId("hit-sender").allTextContents();
    return senders.length > 0 && senders.every((s) => s.startsWith("Marta"));
  }, 60_000, "drilled-down hits only from Marta");
  await pages.check(page, "21-drill-down-search");
  await page.goBack();
  await page.waitForURL(/dashboard\?.*sender=Marta/);
  await page.getByRole("tab", { name: "Search" }).click();
  await page.waitForURL(/\/search$/);

  step("a reload keeps the session (the cookie, not storage)");
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length <= 1), true);
  await page.reload();
  await page.getByRole("tab", { name: "Search" }).waitFor();
  assert.ok(page.url().endsWith("/search"), `reload went to ${page.url()}`);

  step("three new tabs at once share the session: one refresh at a time, nobody signed out");
  const tabs = await Promise.all([0, 1, 2].map(() => context.newPage()));
  await Promise.all(tabs.map((tab) => tab.goto(collectionUrl + "/versions")));
  for (const tab of tabs) {
    await tab.getByTestId("version-row").first().waitFor({ timeout: 30_000 });
    assert.ok(tab.url().endsWith("/versions"), `a tab ended at ${tab.url()}`);
  }
  await Promise.all(tabs.map((tab) => tab.close()));
  await page.reload();
  await page.getByRole("tab", { name: "Search" }).waitFor();
  assert.ok(page.url().endsWith("/search"), "the first tab lost its session");

  step("an export full of XSS payloads executes nothing");
  await page.getByRole("textbox", { name: "Search" }).fill("script onerror javascript");
  await page.locator("label", { hasText: /^Keywords$/ }).click();
  await page.keyboard.press("Enter");
  await page.locator("mark.hit").first().waitFor({ timeout: 60_000 });
  await page.getByText("<script>", { exact: false }).first().waitFor();
  await pages.check(page, "09-xss-search");
  await hits.first().getByRole("button", { name: "Open in chat" }).click();
  await page.getByTestId("opened-message").waitFor({ timeout: 30_000 });
  const planted = await page.evaluate(() => ({
    fired: window.__xss ?? null,
    images: document.querySelectorAll("img[src='x'], img[src='x:'], svg[onload], iframe").length,
    scripts: [...document.querySelectorAll("script")].filter((s) => !s.src).length,
    jsLinks: document.querySelectorAll("a[href^='javascript:']").length,
    csp: window.__cspViolations,
  }));
  assert.deepEqual(planted, { fired: null, images: 0, scripts: 0, jsLinks: 0, csp: [] });
  assert.equal(dialogs, 0, "a payload opened a dialog");
  await pages.check(page, "10-xss-message");
  await page.keyboard.press("Escape");

  step("a question can be stopped while it streams");
  await page.getByRole("tab", { name: "Ask" }).click();
  await page.getByLabel("Ask a question").fill("What did Tom say about the monitors?");
  await page.getByRole("button", { name: "Ask" }).click();
  await page.getByRole("button", { name: "Stop" }).click();
  await page.getByRole("alert").filter({ hasText: "Stopped." }).waitFor();

  step("ask, streamed, and open a citation");
  await page.getByLabel("Ask a question").fill("When is the offsite in Lisbon?");
  await page.getByRole("button", { name: "Ask" }).click();
  await page.getByRole("button", { name: "Stop" }).waitFor({ timeout: 10_000 });
  const citation = page.getByTestId("citation").first();
  await citation.waitFor({ timeout: LONG });
  const answer = await page.getByTestId("answer-text").textContent();
  step(`  answer: ${answer}`);
  assert.ok(answer.trim().length > 0);
  await pages.check(page, "11-ask");
  await citation.click();
  await page.getByTestId("opened-message").waitFor({ timeout: 30_000 });
  await pages.check(page, "12-citation");
  await page.keyboard.press("Escape");

  step("summarise a person's messages; a citation opens the message");
  await page.getByRole("tab", { name: "Summaries" }).click();
  await page.getByRole("textbox", { name: "Sender" }).fill("Mallory");
  await page.keyboard.press("Enter");
  await page.getByRole("button", { name: "Summarise" }).click();
  await page.getByTestId("summary-scope").waitFor({ timeout: LONG });
  const cited = await page.getByTestId("summary-citation").count();
  step(`  summary (${cited} citations): ${await page.getByTestId("summary-text").textContent()}`);
  assert.match(await page.getByTestId("summary-scope").textContent(), /^4 messages summarised/);
  await pages.check(page, "22-summary");
  // The small model seldom cites; the service then cites a message only if the summary shares words with it.
  if (cited > 0) {
    await page.getByTestId("summary-citation").first().click();
    await page.getByTestId("opened-message").getByText("Mallory").waitFor({ timeout: 30_000 });
    await page.keyboard.press("Escape");
  }
  assert.equal(await page.evaluate(() => window.__xss ?? null), null, "a payload ran in the summary");

  step("versions: delete the XSS chat and purge it from every version, after a confirmation");
  await page.getByRole("tab", { name: "Versions" }).click();
  const versionRows = page.getByTestId("version-row");
  await versionRows.first().waitFor();
  const latestBefore = (await versionRows.first().textContent()).trim().match(/^\d+/)[0];
  const deletion = page.getByRole("form", { name: "Delete messages" });
  await deletion.getByLabel("Chat name").fill("xss-chat");
  await deletion.getByLabel("Also purge it from every older version").check();
  await deletion.getByRole("button", { name: "Delete…" }).click();
  const purgeDialog = page.getByRole("dialog", { name: "Delete the messages of chat “xss-chat”?" });
  await purgeDialog.getByText("rewritten out of every older version too: no restore brings it back").waitFor();
  await pages.check(page, "34-purge-confirm");
  await purgeDialog.getByRole("button", { name: "Cancel" }).click();
  await purgeDialog.waitFor({ state: "hidden" });
  assert.ok((await versionRows.first().textContent()).trim().startsWith(latestBefore), "Cancel deleted something");
  await deletion.getByRole("button", { name: "Delete…" }).click();
  await purgeDialog.getByRole("button", { name: "Delete and purge" }).click();
  const purged = page.getByRole("status")
    .filter({ hasText: /\d+ messages removed; the collection is now at version \d+, and \d+ purged from \d+ older versions/ });
  await purged.waitFor({ timeout: 60_000 });
  step(`  ${await purged.textContent()}`);
  const purgedAs = (await purged.textContent()).match(/now at version (\d+)/)[1];
  assert.equal(Number(purgedAs), Number(latestBefore) + 1);
  await assertEventually(async () => (await versionRows.first().textContent()).trim().startsWith(purgedAs),
    30_000, "the version list has the purge's version");
  await pages.check(page, "35-purged");
  // Neither the new version nor the one before it (which held the chat) finds its messages.
  for (const version of [purgedAs, latestBefore]) {
    await page.goto(`${collectionUrl}/search?mode=keyword&q=onerror&version=${version}`);
    await page.getByTestId("search-summary").filter({ hasText: "No messages match." }).waitFor({ timeout: 60_000 });
  }
  await pages.check(page, "36-purged-search");

  // The version before the purge: the purge rewrote it, and it still holds the demo's messages
  // (the first version may have held only the XSS chat, which is gone from every version now).
  step(`versions: restore version ${latestBefore} with a confirmation`);
  await page.getByRole("tab", { name: "Versions" }).click();
  const rows = page.getByTestId("version-row");
  await rows.first().waitFor();
  assert.ok((await rows.count()) >= 2);
  await pages.check(page, "13-versions");
  await page.getByRole("button", { name: `Restore version ${latestBefore}` }).click();
  await page.getByRole("dialog").getByText("as a new version").waitFor();
  await pages.check(page, "14-restore-confirm");
  await page.getByRole("dialog").getByRole("button", { name: "Restore" }).click();
  const restoredText = page.getByText(new RegExp(`Restored version ${latestBefore} as version \\d+`));
  await restoredText.waitFor({ timeout: 60_000 });
  const restoredAs = (await restoredText.textContent()).match(/as version (\d+)/)[1];

  step("versions: compare the two latest, tag one");
  // The form's defaults are the two latest versions of the list it has: wait for the list to have
  // the restored one, so that it is the one compared (the form keeps its state across refetches).
  await assertEventually(async () => (await rows.first().textContent()).trim().startsWith(restoredAs),
    30_000, "the version list has the restored version");
  await page.getByRole("button", { name: "Compare" }).click();
  const comparison = page.getByTestId("comparison");
  await comparison.waitFor({ timeout: 30_000 });
  assert.match(await comparison.textContent(),
    new RegExp(`Version ${restoredAs} has \\d+ messages that version \\d+ lacks, and lacks \\d+`));
  await page.getByLabel("Tag name").fill("e2e-tag");
  await page.getByRole("button", { name: "Tag", exact: true }).click();
  await page.getByTestId("tag").filter({ hasText: "e2e-tag" }).waitFor();
  await pages.check(page, "30-versions-compare-tag");

  step("? lists the keyboard shortcuts");
  await page.locator("body").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("?");
  await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
  await pages.check(page, "26-shortcuts");
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });

  step("dark theme");
  await page.getByRole("button", { name: /Switch to the dark theme/ }).click();
  await page.goto(collectionUrl + "/search");
  await page.getByRole("textbox", { name: "Search" }).fill("offsite");
  await page.keyboard.press("Enter");
  await hits.first().waitFor({ timeout: 60_000 });
  await pages.check(page, "15-search-dark");

  step("a phone-sized screen");
  await page.setViewportSize({ width: 390, height: 844 });
  await pages.check(page, "16-search-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  step("delete a collection, after a confirmation naming what is lost");
  await page.getByRole("link", { name: "Collections" }).click();
  await page.getByLabel("New collection").fill("Scratch");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("button", { name: "Delete Scratch" }).click();
  const confirm = page.getByRole("dialog");
  await confirm.getByText("every message indexed in it").waitFor();
  assert.match(await confirm.textContent(), /Scratch/);
  await pages.check(page, "17-delete-confirm");
  await confirm.getByRole("button", { name: "Delete for good" }).click();
  await page.getByRole("button", { name: "Delete Scratch" }).waitFor({ state: "detached" });
  assert.equal(await page.getByTestId("collection-card").count(), 1);

  step("account: enrol an authenticator from the QR code drawn in the page; recovery codes once");
  await page.getByTestId("signed-in-as").click();
  await page.waitForURL("**/account");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await page.getByRole("img", { name: "QR code of the authenticator secret" }).waitFor();
  assert.match(await page.getByTestId("totp-qr").getAttribute("src"), /^data:image\/svg\+xml/);
  const totp = new TOTP({ secret: (await page.getByTestId("totp-secret").textContent()).trim(),
    digits: 6, period: 30, algorithm: "SHA1" });
  await page.getByLabel("Code from the app").fill(totp.generate());
  await pages.check(page, "23-account-mfa-enrol");
  await page.getByRole("button", { name: "Turn on" }).click();
  const codesBox = page.getByTestId("recovery-codes");
  await codesBox.waitFor();
  const recoveryCodes = (await codesBox.locator("p").allTextContents()).map((code) => code.trim());
  assert.ok(recoveryCodes.length >= 8, `recovery codes: ${recoveryCodes}`);
  await page.getByRole("button", { name: "I have saved them" }).click();
  await page.getByTestId("mfa-status").waitFor();
  assert.equal(await codesBox.count(), 0, "the recovery codes are shown only once");

  step("the session carries on with the pair MFA's confirmation returned, across a reload");
  await page.reload();
  await page.getByTestId("mfa-status").filter({ hasText: /^On/ }).waitFor();
  await page.getByTestId("session-row").filter({ hasText: "this device" }).waitFor();

  step("an API key: shown once, works, revoked after a confirmation");
  await page.getByLabel("Key name").fill("e2e script");
  await page.getByRole("button", { name: "Create key" }).click();
  const apiKey = (await page.getByTestId("new-api-key").textContent()).trim();
  assert.match(apiKey, /^clk_/);
  const withKey = () => fetch(new URL("/api/v1/collections", BASE), { headers: { Authorization: `Bearer ${apiKey}` } });
  assert.equal((await withKey()).status, 200);
  await pages.check(page, "24-account-api-key");
  await page.getByRole("button", { name: "I have saved it" }).click();
  await page.getByRole("button", { name: "Revoke key e2e script" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await page.getByTestId("api-key-row").getByText("revoked").waitFor();
  await assertEventually(async () => (await withKey()).status === 401, 30_000, "the revoked key refused");

  step("change the password: this session carries on");
  const NEW_PASSWORD = "another long and uncommon passphrase 8";
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("New password again").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("Password changed.").waitFor({ timeout: 30_000 });
  await pages.check(page, "25-account");

  step("organisation: invite a viewer, the token shown once, the audit log records it");
  await page.getByRole("link", { name: "Organisation" }).click();
  await page.waitForURL("**/organisation");
  await page.getByTestId("my-role").filter({ hasText: "owner" }).waitFor();
  // The day's quotas: the files uploaded above and the tokens the answers and summaries generated.
  const quotas = page.getByRole("region", { name: "Daily quotas" }).getByTestId("quota");
  await quotas.first().waitFor();
  const used = async (n) => Number((await quotas.nth(n).textContent()).match(/([\d,]+) of [\d,]+ used today/)[1].replace(/,/g, ""));
  assert.ok(await used(0) >= 3, `files uploaded today: ${await quotas.nth(0).textContent()}`);
  assert.ok(await used(1) > 0, `tokens generated today: ${await quotas.nth(1).textContent()}`);
  step(`  ${await quotas.nth(0).textContent()} | ${await quotas.nth(1).textContent()}`);
  const VIEWER_EMAIL = `viewer-${Date.now()}@example.com`;
  await page.getByLabel("Invite by e-mail").fill(VIEWER_EMAIL);
  await page.getByRole("button", { name: "Invite" }).click();
  const invitationToken = (await page.getByTestId("invitation-token").textContent()).trim();
  await page.getByTestId("invitation-row").filter({ hasText: VIEWER_EMAIL }).waitFor();
  await page.getByTestId("audit-row").filter({ hasText: "invitation.created" }).first().waitFor({ timeout: 30_000 });
  await pages.check(page, "27-organisation");

  step("webhooks: add one (the secret shown once), ping it, its deliveries listed, delete it after a confirmation");
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.waitForURL("**/organisation/webhooks");
  await page.getByRole("textbox", { name: "Collection" }).waitFor();
  await page.getByText("No webhooks on this collection yet.").waitFor({ timeout: 30_000 });
  // The stack's gateway allows private addresses and plain http (test_web_app.py): a closed port.
  await page.getByLabel("Payload URL").fill(HOOK_URL);
  await page.getByRole("checkbox", { name: /^job.failed/ }).check();
  await page.getByRole("button", { name: "Add webhook" }).click();
  const hookSecret = (await page.getByTestId("webhook-secret").textContent()).trim();
  assert.ok(hookSecret.length >= 20, `a signing secret: ${hookSecret.length} characters`);
  const hookRow = page.getByTestId("webhook-row").filter({ hasText: HOOK_URL });
  await hookRow.waitFor();
  for (const event of ["job.succeeded", "job.failed", "version.created"]) {
    assert.ok((await hookRow.textContent()).includes(event), `the webhook receives ${event}`);
  }
  await pages.check(page, "31-webhooks-secret-once");
  await page.getByRole("button", { name: "I have saved it" }).click();
  assert.equal(await page.getByTestId("webhook-secret").count(), 0, "the secret is shown only once");
  await page.getByRole("button", { name: `Ping ${HOOK_URL}` }).click();
  const deliveryRow = page.getByTestId("delivery-row").filter({ hasText: "ping" });
  await deliveryRow.waitFor({ timeout: 30_000 });
  // Nothing listens on the port: the dispatcher's first attempt fails and a retry is planned.
  await assertEventually(async () => /connect|refused|error|no answer|HTTP/i.test(await deliveryRow.textContent())
    && !/not tried yet/.test(await deliveryRow.textContent()), 60_000, "the ping's first attempt recorded");
  step(`  ${await deliveryRow.textContent()}`);
  await pages.check(page, "32-webhook-deliveries");
  await page.getByRole("button", { name: `Delete the webhook to ${HOOK_URL}` }).click();
  const hookDialog = page.getByRole("dialog", { name: "Delete this webhook?" });
  await hookDialog.getByText("Its delivery log goes with it").waitFor();
  await pages.check(page, "33-webhook-delete-confirm");
  await hookDialog.getByRole("button", { name: "Delete webhook" }).click();
  await page.getByText("No webhooks on this collection yet.").waitFor({ timeout: 30_000 });
  await page.getByRole("link", { name: "Back to the organisation" }).click();
  await page.waitForURL("**/organisation");

  step("the invitee joins with the token, switches to the org, and as a viewer is offered no admin action");
  const viewerContext = await browser.newContext({ baseURL: BASE, viewport: { width: 1280, height: 900 },
    reducedMotion: "reduce" });
  const viewer = await viewerContext.newPage();
  viewer.on("pageerror", (error) => pageErrors.push(`viewer: ${error}`));
  await viewer.goto("/register");
  await viewer.getByLabel("Name").fill("Vera Viewer");
  await viewer.getByLabel("Email").fill(VIEWER_EMAIL);
  await viewer.getByLabel("Password").fill(PASSWORD);
  await viewer.getByRole("button", { name: "Create account" }).click();
  await viewer.waitForURL("**/collections");
  await viewer.getByTestId("signed-in-as").click();
  await viewer.getByLabel("Invitation token").fill(invitationToken);
  await viewer.getByRole("button", { name: "Join" }).click();
  await viewer.getByText(/You joined .* as viewer/).waitFor();
  const orgMenu = viewer.getByRole("combobox", { name: "Organisation" });
  await orgMenu.waitFor();
  await orgMenu.selectOption(await orgMenu.locator("option", { hasText: "(viewer)" }).getAttribute("value"));
  await viewer.waitForURL("**/collections");
  await viewer.getByRole("link", { name: "Team chats" }).waitFor({ timeout: 30_000 });
  assert.equal(await viewer.getByRole("form", { name: "Create a collection" }).count(), 0, "a viewer may create");
  assert.equal(await viewer.getByRole("button", { name: "Delete Team chats" }).count(), 0, "a viewer may delete");
  await pages.check(viewer, "28-viewer-collections");
  await viewer.getByRole("link", { name: "Team chats" }).click();
  await viewer.getByRole("tab", { name: "Search" }).waitFor();
  assert.equal(await viewer.getByRole("tab", { name: "Upload" }).count(), 0, "a viewer is offered uploads");
  await viewer.getByRole("link", { name: "Organisation" }).click();
  await viewer.getByTestId("my-role").filter({ hasText: "viewer" }).waitFor();
  await assertEventually(async () => (await viewer.getByTestId("member-row").count()) === 2, 30_000, "two members");
  assert.equal(await viewer.getByRole("button", { name: /^Remove / }).count(), 0);
  assert.equal(await viewer.getByRole("textbox", { name: /^Role of / }).count(), 0);
  assert.equal(await viewer.getByRole("region", { name: "Invitations" }).count(), 0);
  assert.equal(await viewer.getByRole("region", { name: "Audit log" }).count(), 0);
  assert.equal(await viewer.getByRole("link", { name: "Webhooks" }).count(), 0, "a viewer is offered webhooks");
  await pages.check(viewer, "29-viewer-organisation");
  await viewerContext.close();

  step("signing in again asks for the code, with the new password");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/login");
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  const codeBox = page.getByLabel("Authentication code");
  await codeBox.waitFor();
  await pages.check(page, "18-login-code");
  // The enrolment spent this time step's code; the next step's is within the allowed drift.
  await codeBox.fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/collections");

  step("sign out ends the session: a protected page asks to sign in again");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/login");
  assert.equal((await context.cookies()).some((c) => c.name === "chatlens_refresh"), false);
  await page.goto(collectionUrl + "/versions");
  await page.waitForURL("**/login");

  step("signing in from there (with a recovery code) goes back to the page asked for");
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Authentication code").fill(recoveryCodes[0]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/versions");
  await page.getByTestId("version-row").first().waitFor();

  pages.assertClean(pageErrors);
} catch (error) {
  await pages.failed(page, error);
} finally {
  await browser.close();
}
