// The account, sign-in and model-admin surfaces end to end (started by
// tests/e2e/test_web_account.py, whose stack has SMTP, a local OAuth provider and a platform
// administrator configured): OAuth sign-in through the real redirect flow, forgot/reset password
// with the link from the e-mail, members (a role change, a removal after its confirmation; each
// ends the member's sessions), sign out everywhere (another device signed out too), MFA's new
// recovery codes and turning it off, the organisation's model endpoints (the key never shown
// back), defaults and usage, and the platform's models. Every page screenshotted and axe-scanned.
//   BASE_URL=... OUT=var/web-e2e-account MAILDIR=... ADMIN_EMAIL=... OAUTH_EMAIL=... node e2e/account.e2e.mjs
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TOTP } from "otpauth";
import { assertEventually, launch, outcome, Pages, step } from "./browser.mjs";

const BASE = process.env.BASE_URL;
const MAILDIR = process.env.MAILDIR;
const ADMIN = process.env.ADMIN_EMAIL;
const OAUTH_EMAIL = process.env.OAUTH_EMAIL;
const pages = new Pages(process.env.OUT ?? "var/web-e2e-account");
const PASSWORD = "a long and uncommon passphrase 7";
const NEW_PASSWORD = "another long and uncommon passphrase 8";
const KEY = process.env.PROVIDER_KEY; // the key of the test's OpenAI-compatible server
const PROVIDER = process.env.PROVIDER_URL;

const browser = await launch();
const newContext = () => browser.newContext({ baseURL: BASE, viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
const context = await newContext();
const page = await context.newPage();
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(String(error)));

try {
  step("the sign-in page offers the configured provider; its button completes the real redirect flow");
  await page.goto("/login");
  const github = page.getByRole("button", { name: "Continue with GitHub" });
  await github.waitFor();
  assert.equal(await github.getAttribute("data-start-url"), "/api/v1/auth/oauth/github/start");
  // Google is configured too (the same local provider): the administrator links it below.
  await page.getByRole("button", { name: "Continue with Google" }).waitFor();
  await pages.check(page, "a01-login-oauth");
  await github.click();
  await page.waitForURL("**/collections");
  await page.getByTestId("signed-in-as").waitFor();
  const me = await page.evaluate(async () => (await fetch("/api/v1/auth/refresh", {
    method: "POST", headers: { "X-Chatlens-Session": "cookie" } })).status);
  assert.equal(me, 200, "the OAuth sign-in left a working refresh cookie");
  assert.equal((await context.cookies()).some((c) => c.name === "chatlens_oauth"), false, "the state cookie is spent");
  await page.getByTestId("signed-in-as").click();
  await page.waitForURL("**/account");
  assert.match(await page.getByTestId("signed-in-as").getAttribute("aria-label"), new RegExp(OAUTH_EMAIL));
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.waitForURL("**/login");

  step("register the platform administrator");
  await page.goto("/register");
  await page.getByLabel("Email").fill(ADMIN);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/collections");

  step("link Google to the signed-in account; its button then signs that account in");
  await page.goto("/account");
  const linking = page.getByRole("region", { name: "Sign in with another account" });
  await linking.getByRole("button", { name: "Link Google" }).click();
  await page.waitForURL("**/account?linked=google");
  await linking.getByRole("status").filter({ hasText: "Your Google account is linked" }).waitFor();
  await pages.check(page, "a01b-account-linked");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.waitForURL("**/login");
  await page.getByRole("button", { name: "Continue with Google" }).click();
  await page.waitForURL("**/collections");
  await assertEventually(async () => (await page.getByTestId("signed-in-as").getAttribute("aria-label")) === `Account of ${ADMIN}`,
    30_000, "signed in as the administrator through the linked provider");

  step("forgot password: the link arrives by e-mail, sets the new password once");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.waitForURL("**/login");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.waitForURL("**/forgot-password");
  await page.getByLabel("Email").fill(ADMIN);
  await pages.check(page, "a02-forgot-password");
  await page.getByRole("button", { name: "Send the link" }).click();
  assert.match(await outcome(page, "reset-requested"), /If an account has this address/);
  const link = await mailedLink(ADMIN);
  assert.ok(link.startsWith(`${BASE}/reset-password#token=`), link);
  await page.goto(link);
  await page.getByLabel(/^New password(?! again)/).fill(NEW_PASSWORD);
  await page.getByLabel(/^New password again/).fill(NEW_PASSWORD);
  assert.equal(new URL(page.url()).hash, "", "the token left the address bar");
  await pages.check(page, "a03-reset-password");
  await page.getByRole("button", { name: "Set the password" }).click();
  await page.getByTestId("reset-done").waitFor();
  await page.goto("/login");
  await page.goto(link);  // the same link again (a new document: not a same-page fragment change)
  await page.getByLabel(/^New password(?! again)/).fill(NEW_PASSWORD + "!");
  await page.getByLabel(/^New password again/).fill(NEW_PASSWORD + "!");
  await page.getByRole("button", { name: "Set the password" }).click();
  assert.match(await page.getByRole("alert").textContent(), /invalid, used or expired/);
  await page.goto("/login");
  await page.getByLabel("Email").fill(ADMIN);
  await page.getByLabel("Password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/collections");

  step("two-step sign-in: new recovery codes, then off (recovery codes as the codes)");
  await page.goto("/account");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  const totp = new TOTP({ secret: (await page.getByTestId("totp-secret").textContent()).trim(), digits: 6, period: 30, algorithm: "SHA1" });
  await page.getByLabel("Code from the app").fill(totp.generate());
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.getByTestId("recovery-codes").waitFor();
  const first = (await page.getByTestId("recovery-codes").locator("p").allTextContents()).map((c) => c.trim());
  await page.getByRole("button", { name: "I have saved them" }).click();
  await page.getByLabel("Code from the app").fill(first[0]);
  await page.getByRole("button", { name: "New recovery codes" }).click();
  await page.getByTestId("recovery-codes").waitFor();
  const second = (await page.getByTestId("recovery-codes").locator("p").allTextContents()).map((c) => c.trim());
  assert.ok(second.length >= 8 && second.every((c) => !first.includes(c)), "new codes, none of the old");
  await pages.check(page, "a04-new-recovery-codes");
  await page.getByRole("button", { name: "I have saved them" }).click();
  await page.getByLabel("Code from the app").fill(second[0]);
  await page.getByLabel("Password (to turn it off)").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Turn off two-step sign-in" }).click();
  await page.getByRole("button", { name: "Set up an authenticator app" }).waitFor();

  step("the linked Google account is listed; unlinking it takes the password");
  const signInWays = page.getByRole("region", { name: "Sign in with another account" });
  const google = signInWays.getByTestId("linked-provider").filter({ hasText: "Google" });
  await google.getByText("linked", { exact: true }).waitFor();
  await google.getByRole("button", { name: "Unlink Google" }).click();
  const unlinkDialog = page.getByRole("dialog");
  await unlinkDialog.getByLabel(/Your password/).fill(NEW_PASSWORD);
  await pages.check(page, "a04b-unlink-provider");
  await unlinkDialog.getByRole("button", { name: "Unlink Google" }).click();
  await google.getByRole("button", { name: "Link Google", exact: true }).waitFor();
  assert.match(await google.textContent(), /Not linked/);

  step("the organisation's models: an endpoint whose key is never shown back, tested, deleted; defaults; usage");
  await page.goto("/organisation");
  await page.getByRole("link", { name: "Models: endpoints, defaults, usage" }).click();
  await page.waitForURL("**/organisation/models");
  const form = page.getByRole("form", { name: "Add an endpoint" });
  await form.getByLabel("Name").fill("local-vllm");
  await form.getByLabel("Base URL").fill(PROVIDER);
  await form.getByLabel("Model").fill("echo");
  await form.getByLabel("API key").fill(KEY);
  await form.getByRole("button", { name: "Add endpoint" }).click();
  const row = page.getByTestId("endpoint-row").filter({ hasText: "local-vllm" });
  await row.waitFor();
  assert.match(await row.textContent(), /stored/);
  assert.equal(await form.getByLabel("API key").inputValue(), "");
  assert.equal((await page.content()).includes(KEY), false, "the key is never in the page");
  await row.getByRole("button", { name: "Test endpoint local-vllm" }).click();
  const tested = page.getByTestId("endpoint-test");
  await tested.waitFor({ timeout: 60_000 });
  step(`  test: ${await tested.textContent()}`);
  assert.match(await tested.textContent(), /^local-vllm answered: its model is there/, "the key reached the provider");
  await page.getByRole("textbox", { name: "Answers" }).waitFor({ timeout: 120_000 });
  await pages.check(page, "a05-org-models");
  await row.getByRole("button", { name: "Delete endpoint local-vllm" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("No endpoints yet.").waitFor();
  await page.getByRole("textbox", { name: "Answers" }).click();
  const model = "SmolLM2-135M-Instruct"; // the registry's LLM (its embedding model is listed too)
  await page.getByRole("option", { name: model }).click();
  await page.getByRole("button", { name: "Save defaults" }).click();
  await page.getByText("Saved.").waitFor();
  const defaults = await page.evaluate(async () => {
    const token = await (await fetch("/api/v1/auth/refresh", { method: "POST", headers: { "X-Chatlens-Session": "cookie" } })).json();
    return (await fetch("/api/v1/models/defaults", { headers: { Authorization: `Bearer ${token.access_token}` } })).json();
  });
  assert.equal(defaults.answers, model);
  await page.getByRole("region", { name: "Usage" }).waitFor();

  step("the platform's models, for its administrator");
  await page.goto("/organisation");
  await page.getByRole("link", { name: "Platform models" }).click();
  await page.waitForURL("**/admin/models");
  await page.getByTestId("platform-model-row").first().waitFor({ timeout: 120_000 });
  assert.match(await page.getByTestId("platform-model-row").filter({ hasText: "default" }).first().textContent(), /llm/);
  await pages.check(page, "a06-platform-models");

  step("members: an invitee joins; the owner makes them an analyst after a confirmation (their sessions end), then removes them after another");
  const MEMBER = `member-${Date.now()}@example.com`;
  await page.goto("/organisation");
  await page.getByTestId("my-role").filter({ hasText: "owner" }).waitFor();
  await page.getByLabel("Invite by e-mail").fill(MEMBER);
  await page.getByRole("button", { name: "Invite" }).click();
  const invitation = (await page.getByTestId("invitation-token").textContent()).trim();
  const memberContext = await newContext();
  const member = await memberContext.newPage();
  member.on("pageerror", (error) => pageErrors.push(`member: ${error}`));
  await member.goto("/register");
  await member.getByLabel("Name").fill("Mia Member");
  await member.getByLabel("Email").fill(MEMBER);
  await member.getByLabel("Password").fill(PASSWORD);
  await member.getByRole("button", { name: "Create account" }).click();
  await member.waitForURL("**/collections");
  await member.goto("/account");
  await member.getByLabel("Invitation token").fill(invitation);
  await member.getByRole("button", { name: "Join" }).click();
  await member.getByText(/You joined .* as viewer/).waitFor();
  await member.getByRole("combobox", { name: "Organisation" }).locator("option", { hasText: "(viewer)" }).waitFor({ state: "attached" });
  await page.reload();
  const memberRow = page.getByTestId("member-row").filter({ hasText: MEMBER });
  await memberRow.waitFor({ timeout: 30_000 });
  const role = page.getByRole("textbox", { name: `Role of ${MEMBER}` });
  assert.equal(await role.inputValue(), "Viewer (reads, searches, asks)");
  await role.click();
  await page.getByRole("option", { name: "Analyst (uploads, changes)" }).click();
  const roleConfirm = page.getByRole("dialog", { name: `Change the role of ${MEMBER}?` });
  await roleConfirm.getByText("every session of theirs ends at once, on every device").waitFor();
  await pages.check(page, "a08-members-role-confirm");
  await roleConfirm.getByRole("button", { name: "Change role" }).click();
  await roleConfirm.waitFor({ state: "hidden" });
  await assertEventually(async () => (await role.inputValue()) === "Analyst (uploads, changes)", 30_000, "the new role listed");
  await page.getByTestId("audit-row").filter({ hasText: "role.changed" }).filter({ hasText: "role: analyst" }).first()
    .waitFor({ timeout: 30_000 });
  await pages.check(page, "a08-members-role-changed");
  await member.reload();
  await member.waitForURL("**/login"); // a role change ends the member's sessions: new tokens carry the new role
  await signIn(member, MEMBER, PASSWORD);
  await member.getByRole("combobox", { name: "Organisation" }).locator("option", { hasText: "(analyst)" }).waitFor({ state: "attached" });

  await memberRow.getByRole("button", { name: `Remove ${MEMBER}` }).click();
  let confirm = page.getByRole("dialog", { name: `Remove ${MEMBER}?` });
  await confirm.getByText("every session of theirs ends, on every device and in every organisation").waitFor();
  await pages.check(page, "a09-remove-member-confirm");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await confirm.waitFor({ state: "hidden" });
  assert.equal(await memberRow.count(), 1, "Cancel removed the member");
  await memberRow.getByRole("button", { name: `Remove ${MEMBER}` }).click();
  confirm = page.getByRole("dialog", { name: `Remove ${MEMBER}?` });
  await confirm.getByRole("button", { name: "Remove" }).click();
  await confirm.waitFor({ state: "hidden" });
  await assertEventually(async () => (await memberRow.count()) === 0, 30_000, "the member gone from the list");
  await page.getByTestId("audit-row").filter({ hasText: "member.removed" }).first().waitFor({ timeout: 30_000 });
  await member.reload();
  await member.waitForURL("**/login"); // removed: their sessions ended too
  await signIn(member, MEMBER, PASSWORD);
  const orgs = await member.evaluate(async () => {
    const token = await (await fetch("/api/v1/auth/refresh", { method: "POST", headers: { "X-Chatlens-Session": "cookie" } })).json();
    return (await fetch("/api/v1/auth/orgs", { headers: { Authorization: `Bearer ${token.access_token}` } })).json();
  });
  assert.deepEqual(orgs.orgs.map((org) => org.role), ["owner"], "the removed member keeps only their own org");
  await memberContext.close();

  step("sign out everywhere: this device and another one must sign in again");
  const other = await newContext();
  const otherPage = await other.newPage();
  await otherPage.goto("/login");
  await otherPage.getByLabel("Email").fill(ADMIN);
  await otherPage.getByLabel("Password").fill(NEW_PASSWORD);
  await otherPage.getByRole("button", { name: "Sign in" }).click();
  await otherPage.waitForURL("**/collections");
  await page.goto("/account");
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  const dialog = page.getByRole("dialog");
  assert.match(await dialog.textContent(), /this one included/);
  await pages.check(page, "a07-sign-out-everywhere");
  await dialog.getByRole("button", { name: "Sign out everywhere" }).click();
  await page.waitForURL("**/login");
  assert.match(await page.getByRole("status").textContent(), /signed out everywhere/);
  await otherPage.reload();
  await otherPage.waitForURL("**/login");
  await other.close();

  pages.assertClean(pageErrors);
} catch (error) {
  await pages.failed(page, error);
} finally {
  await browser.close();
}

/** Signs in from the login page, which then goes back to the page that was asked for. */
async function signIn(tab, email, password) {
  await tab.getByLabel("Email").fill(email);
  await tab.getByLabel("Password").fill(password);
  await tab.getByRole("button", { name: "Sign in" }).click();
  await tab.waitForURL((url) => !url.pathname.endsWith("/login"));
  await tab.getByTestId("signed-in-as").waitFor();
}


/** The reset link of the newest message to `to` that the test's SMTP server wrote to MAILDIR. */
async function mailedLink(to) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const name of readdirSync(MAILDIR).sort().reverse()) {
      const text = readFileSync(join(MAILDIR, name), "utf8");
      if (text.startsWith(`To: ${to}\n`)) return /(https?:\/\/\S+\/reset-password#token=\S+)/.exec(text)[1];
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no e-mail to ${to}`);
}
