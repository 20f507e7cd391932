/**
 * The HTML report: escaping and self-containment checked on the page text, then the report of a
 * lab diagnose opened in Debian's Chromium (headless, through playwright-core): no console error,
 * no network request, verdict, ladder, chain and the .reg download present; a screenshot is written
 * to test-output/ for a person to look at.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { REPORT_CSP, esc, renderHtmlReport } from '../../src/report/html-report.js';
import { attemptLadder } from '../../src/report/ladder.js';
import { HAS_CLI, REPO_ROOT, tlsprobe } from '../helpers/cli.js';
import { hasTool } from '../helpers/servers.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = hasTool('chromium');
const NO_CHROMIUM = 'chromium not found on PATH (apt install chromium): the HTML report browser test is skipped';
const TEST_OUTPUT = join(REPO_ROOT, 'test-output');

describe('the HTML page', () => {
  const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'`&';
  const page = renderHtmlReport({
    title: `report ${hostile}`,
    command: `tlsprobe probe '${hostile}'`,
    generatedAt: new Date('2026-01-01T00:00:00Z'),
    raw: { name: hostile },
    sections: [
      {
        heading: hostile,
        verdict: { code: hostile, summary: hostile, ok: false },
        remediation: [{ kind: 'registry', text: hostile }],
        regFix: `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\${hostile}]\r\n"x"=dword:00000001\r\n`,
        ladders: [
          attemptLadder(hostile, {
            version: 'TLS1.0',
            outcome: 'alert',
            alert: { level: 2, description: 40, name: hostile },
            elapsedMs: 3,
            connectMs: 1,
            helloBytes: 200,
            bytesReceived: 7,
          }),
        ],
        certificates: [{ subject: hostile, issuer: hostile, sha1: 'ab', sha256: 'cd', notAfter: hostile }],
        chain: {
          verdict: hostile,
          anchor: { name: hostile, sha1: 'ab', documented: false },
          findings: [{ code: hostile, severity: 'error', message: hostile }],
        },
        tables: [{ caption: hostile, head: [hostile], rows: [[hostile]] }],
      },
    ],
  });

  // The page with attribute values blanked: `"` is escaped in data, so a value ends at the next quote.
  const tagsOnly = () => page.replace(/"[^"]*"/g, '""');

  it('escapes every piece of text: no markup from the data reaches the page', () => {
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    // No tag of the page carries an event handler (the hostile text stays text, escaped).
    expect(tagsOnly()).not.toMatch(/<[a-z][^>]*\son\w+=/i);
    expect(page.split(esc(hostile)).length).toBeGreaterThan(10);
  });

  it('loads nothing from anywhere: a CSP that forbids fetches, no src or external href', () => {
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="${esc(REPORT_CSP)}">`);
    expect(REPORT_CSP).toMatch(/default-src 'none'/);
    expect(tagsOnly()).not.toMatch(/<[a-z][^>]*\ssrc=/i);
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBe(1);
    expect(hrefs.every((h) => h.startsWith('data:'))).toBe(true);
    expect(page).not.toMatch(/@import|url\(/);
  });
});

describe.skipIf(!HAS_CLI)('the HTML report of a lab diagnose', () => {
  let lab: Lab;
  let dir: string;
  let file: string;
  let diag: { verdict: { code: string }; probe: { certificates: { sha1: string }[] } };
  beforeAll(async () => {
    lab = await startLab({ names: ['reset-legacy'] });
    dir = mkdtempSync(join(tmpdir(), 'tlsprobe-html-'));
    const rootFile = join(dir, 'lab-root.pem');
    writeFileSync(rootFile, lab.pki.root.pem);
    file = join(dir, 'case.html');
    const r = await tlsprobe([
      'diagnose',
      `127.0.0.1:${lab.endpoint('reset-legacy').port}`,
      '--sni',
      'localhost',
      '--os',
      '2008r2',
      '--roots',
      rootFile,
      '--html',
      file,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`HTML report written to ${file}`);
    diag = JSON.parse(r.stdout).results[0];
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is written by probe, clients and capture too, never over an input file', async () => {
    const port = lab.endpoint('reset-legacy').port;
    const probeFile = join(dir, 'probe.html');
    const p = await tlsprobe([
      'probe',
      `127.0.0.1:${port}`,
      '--sni',
      'localhost',
      '--roots',
      join(dir, 'lab-root.pem'),
      '--html',
      probeFile,
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(readFileSync(probeFile, 'utf8').match(/<svg /g)?.length).toBe(5);
    const clientsFile = join(dir, 'clients.html');
    const c = await tlsprobe(['clients', `127.0.0.1:${port}`, '--sni', 'localhost', '--html', clientsFile]);
    expect(c.code).toBe(1);
    const clientsHtml = readFileSync(clientsFile, 'utf8');
    expect(clientsHtml).toContain('win7-schannel');
    expect(clientsHtml).toMatch(/TCP RST/);
    const pcap = join(REPO_ROOT, 'fixtures', 'pcap', 'reset-after-hello.pcapng');
    const captureFile = join(dir, 'capture.html');
    const k = await tlsprobe(['capture', pcap, '--html', captureFile, '--ndjson']);
    expect(k.code).toBe(0);
    expect(k.stdout.trim().split('\n')).toHaveLength(1);
    const captureHtml = readFileSync(captureFile, 'utf8');
    expect(captureHtml).toContain('failed-handshakes');
    expect(captureHtml).toMatch(/client_hello<\/text>/);
    expect(captureHtml).toMatch(/TCP RST by server \(Windows: error 10054\)/);
    const before = readFileSync(pcap);
    const over = await tlsprobe(['capture', pcap, '--html', pcap]);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/that is an input file/);
    expect(readFileSync(pcap).equals(before)).toBe(true);
  }, 180_000);

  it('holds the verdict, the ladders, the chain and the .reg fix', () => {
    const html = readFileSync(file, 'utf8');
    expect(diag.verdict.code).toBe('legacy-version-reset');
    expect(html).toContain('legacy-version-reset');
    expect(html.match(/<svg /g)?.length).toBe(5);
    expect(html).toContain(diag.probe.certificates[0]!.sha1);
    expect(html).toContain('tlsprobe Lab Root CA');
    expect(html.indexOf('id="verdict"')).toBeLessThan(html.indexOf('<svg'));
    expect(html.indexOf('id="raw"')).toBeGreaterThan(html.indexOf('Certificate chain'));
  });

  it.skipIf(!HAS_CHROMIUM)(
    `renders in headless Chromium with no console error and no network request (${HAS_CHROMIUM ? 'chromium found' : NO_CHROMIUM})`,
    async () => {
      const { chromium } = await import('playwright-core');
      const profile = mkdtempSync(join(tmpdir(), 'tlsprobe-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        acceptDownloads: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = await context.newPage();
        const url = pathToFileURL(file).href;
        const errors: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        context.on('request', (r) => {
          if (r.url() !== url && !r.url().startsWith('data:')) requests.push(r.url());
        });
        await page.goto(url, { waitUntil: 'load' });
        // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText (the rendered text a reader sees), not the DOM property
        expect(await page.locator('#verdict').innerText()).toContain('legacy-version-reset');
        expect(await page.locator('svg.ladder').count()).toBe(5);
        expect(await page.locator('svg.ladder').first().getAttribute('aria-label')).toBe('SSL3.0: reset');
        expect(await page.getByText('TCP RST', { exact: false }).count()).toBeGreaterThan(0);
        expect(await page.locator('h3', { hasText: 'Certificate chain' }).count()).toBe(1);
        expect(await page.locator('details#raw').getAttribute('open')).toBeNull();
        mkdirSync(TEST_OUTPUT, { recursive: true });
        const shot = join(TEST_OUTPUT, 'html-report-diagnose.png');
        await page.screenshot({ path: shot, fullPage: true });
        expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
        const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#reg-download').click()]);
        expect(download.suggestedFilename()).toBe('tlsprobe-enable-tls12.reg');
        const reg = readFileSync(await download.path());
        expect([reg[0], reg[1]]).toEqual([0xff, 0xfe]);
        const text = reg.subarray(2).toString('utf16le');
        expect(text).toMatch(/^Windows Registry Editor Version 5\.00\r\n/);
        expect(text).toContain('"DisabledByDefault"=dword:00000000');
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
      } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
