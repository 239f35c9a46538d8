// Browser end-to-end test of `govcred serve --console`, in headless Debian Chromium
// driven by playwright-core; axe-core checks every page (WCAG 2.2 AA rules) and jsQR
// decodes the printed letter's QR code from a screenshot.
//
// Run by scripts/test-browser (which installs Chromium and the npm packages, vendors
// GOV.UK Frontend and builds govcred). Environment: GOVCRED_BIN (the binary),
// GOVCRED_ASSETS (the vendored GOV.UK Frontend), CHROMIUM (default /usr/bin/chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.GOVCRED_BIN;
const ASSETS = process.env.GOVCRED_ASSETS;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery staple';
const OUT = join(import.meta.dirname, 'out');

function govcred(args, input) {
  return execFileSync(BIN, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 secret, as an authenticator app.
function totp(secret, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

async function startServer(config) {
  const child = spawn(BIN, ['serve', '--config', config, '--console', '--console-insecure-cookies',
    '--console-assets', ASSETS], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.split('\n')[0]);
    });
    child.on('exit', (code) => reject(new Error(`govcred serve exited ${code}`)));
  });
  const info = JSON.parse(line);
  return { child, base: `http://${info.listening}` };
}

// axe-core on the current page: no violations of WCAG 2.0/2.1/2.2 A and AA rules.
async function axe(page, name) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }));
  const v = result.violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  assert.deepEqual(v, [], `${name}: accessibility violations`);
}

test('counter flow: sign in with TOTP, issue, print the letter, receive, present to the verifier page (only the asked claims), revoke, verifier page says revoked', { timeout: 180_000 }, async () => {
  assert.ok(BIN, 'GOVCRED_BIN must name the govcred binary');
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'govcred-console-'));
  // The issuer URL must be known before the port: pick one from a throwaway listener.
  const net = await import('node:net');
  const port = await new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
  const url = `http://127.0.0.1:${port}`;
  govcred(['serve', '--init', join(dir, 'iss'), '--url', url]);
  const config = join(dir, 'iss', 'issuer.toml');
  const clerk = JSON.parse(govcred(['console', 'add-user', '--config', config, '--user', 'clerk', '--role', 'admin', '--password-stdin'], PASSWORD + '\n'));
  const { child, base } = await startServer(config);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    // bypassCSP lets the test inject axe-core; the pages themselves run no script.
    // A high pixel density, as a printer: the dense QR code keeps crisp modules.
    const context = await browser.newContext({ bypassCSP: true, deviceScaleFactor: 4 });
    const page = await context.newPage();

    await page.goto(`${base}/console`);
    assert.match(page.url(), /\/console\/sign-in$/);
    await axe(page, 'sign-in');
    // GOV.UK Frontend is served from /assets (no CDN).
    const css = await page.request.get(`${base}/assets/govuk-frontend.min.css`);
    assert.equal(css.status(), 200);

    // A wrong code: error summary, focusable link to the field.
    await page.getByLabel('Account name').fill('clerk');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Security code').fill('000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('There is a problem').waitFor();
    await axe(page, 'sign-in with errors');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Security code').fill(totp(clerk.totp_secret));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Credential console' }).waitFor();
    await axe(page, 'start');

    await page.getByRole('link', { name: 'Issue a credential' }).click();
    await axe(page, 'choose');
    await page.getByRole('link', { name: 'ExamplePid' }).click();
    await axe(page, 'issue form');
    await page.getByLabel('Name on the letter').fill('Sam Smith');
    await page.getByLabel('Given name').fill('Sam');
    await page.getByLabel('Family name').fill('Smith');
    await page.getByLabel('Birthdate').fill('1970-13-01');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('There is a problem').waitFor();
    await axe(page, 'issue form with errors');
    await page.getByLabel('Birthdate').fill('1970-01-01');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Check the details before you issue' }).waitFor();
    await axe(page, 'preview');
    await page.getByRole('button', { name: 'Issue and print the letter' }).click();
    await page.getByText('Waiting to be collected').waitFor();
    const reference = (await page.getByRole('heading', { level: 1 }).textContent()).replace('Credential ', '').trim();
    assert.match(reference, /^GC-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    // No personal data in any URL the console used.
    assert.ok(!page.url().includes('Smith'));
    await axe(page, 'credential');

    await page.getByRole('link', { name: 'Print the offer letter' }).click();
    await axe(page, 'letter');
    await page.emulateMedia({ media: 'print' });
    const shot = await page.locator('#offer-qr').screenshot({ path: join(OUT, 'letter-qr.png') });
    await page.screenshot({ path: join(OUT, 'letter.png'), fullPage: true });
    await page.pdf({ path: join(OUT, 'letter.pdf'), format: 'A4' });
    const png = PNG.sync.read(shot);
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    const link = await page.locator('#offer-link').getAttribute('href');
    assert.ok(decoded, 'the QR code decodes');
    assert.equal(decoded.data, link, 'the QR code carries the offer link');
    await page.emulateMedia({ media: 'screen' });
    await page.getByRole('link', { name: 'Cymraeg' }).click();
    assert.equal(await page.locator('html').getAttribute('lang'), 'cy');
    await page.getByRole('heading', { name: 'Ychwanegu eich credyd at eich ffôn' }).waitFor();
    await axe(page, 'letter (Welsh)');

    // The holder's wallet redeems the offer.
    const received = JSON.parse(govcred(['wallet', 'receive', link, '--out', join(dir, 'wallet')]));
    assert.equal(received.status.state, 'valid');

    // Flow 2: the verifier page's QR code answered by `govcred wallet present`; the
    // result shows only the requested claim (the birthdate), not the names.
    await page.goto(`${base}/verify`);
    await page.getByRole('button', { name: 'Ask a wallet' }).click();
    await page.getByRole('heading', { name: 'Scan with your wallet' }).waitFor();
    await axe(page, 'verify: request QR');
    const reqShot = await page.locator('#request-qr').screenshot({ path: join(OUT, 'verify-qr.png') });
    const reqPng = PNG.sync.read(reqShot);
    const request = jsQR(new Uint8ClampedArray(reqPng.data), reqPng.width, reqPng.height);
    assert.ok(request, 'the request QR code decodes');
    assert.equal(request.data, await page.locator('#request-link').getAttribute('href'));
    const presented = JSON.parse(govcred(['wallet', 'present', request.data,
      '--credential', join(dir, 'wallet', 'credential-ExamplePid.txt'),
      '--holder-key', join(dir, 'wallet', 'holder.jwk')]));
    assert.equal(presented.verifier_status, 200);
    await page.getByRole('link', { name: 'see the result' }).click();
    await page.locator('#outcome', { hasText: 'Valid' }).waitFor();
    const shared = await page.locator('#claims').textContent();
    assert.match(shared, /birthdate/);
    assert.match(shared, /1970-01-01/);
    const body = await page.locator('main').textContent();
    assert.ok(!body.includes('Smith') && !body.includes('Sam'), 'only the requested claims are shown');
    await axe(page, 'verify: wallet result');

    await page.goto(`${base}/console/credentials`);
    await axe(page, 'find');
    await page.getByLabel('Reference').fill('GC-0000-0000');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByText('No credential has this reference').first().waitFor();
    await axe(page, 'find with errors');
    await page.goto(`${base}/console/credentials?reference=${reference.toLowerCase()}`);
    await page.locator('#status', { hasText: 'Valid' }).waitFor();
    await page.getByLabel('Revoke (permanent)').check();
    await page.getByLabel('Reason').fill('Licence surrendered at the counter');
    await page.getByRole('button', { name: 'Change status' }).click();
    await page.locator('#status', { hasText: 'Revoked' }).waitFor();
    await axe(page, 'credential revoked');

    // The verifier page reports the received credential revoked.
    await page.goto(`${base}/verify`);
    await axe(page, 'verify');
    await page.getByLabel('Credential', { exact: true }).fill(readFileSync(join(dir, 'wallet', 'credential-ExamplePid.txt'), 'utf8'));
    await page.getByRole('button', { name: 'Check' }).click();
    await page.locator('#outcome', { hasText: 'Not valid' }).waitFor();
    assert.equal((await page.locator('#credential-status').textContent()).trim(), 'Revoked');
    await axe(page, 'verify result');
    await page.goto(`${base}/console`);

    await page.getByRole('button', { name: 'Sign out' }).click();
    assert.match(page.url(), /\/console\/sign-in$/);
    // Signed out, console pages send to sign-in; the refusal page of a form without its token.
    await page.goto(`${base}/console/credentials/GC-0000-0000`);
    assert.match(page.url(), /\/console\/sign-in$/);
    const refused = await page.request.post(`${base}/console/sign-in`, { form: { user: 'clerk' } });
    assert.equal(refused.status(), 403);
    await page.setContent(await refused.text());
    await axe(page, 'form expired');
    writeFileSync(join(OUT, 'reference.txt'), reference);
  } finally {
    await browser.close();
    child.kill('SIGTERM');
  }
});
