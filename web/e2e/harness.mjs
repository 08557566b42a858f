// Shared pieces of the end-to-end tests: a static server for the built playground, Debian's
// Chromium through playwright-core (no browser download) with a fake microphone, WAV helpers,
// and the artifacts directory (screenshots, bench.json).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const dist = process.env.MOTE_WEB_DIST || path.join(repo, 'target/web-dist');
export const artifacts = process.env.MOTE_E2E_ARTIFACTS || path.join(repo, 'target/e2e-artifacts');
export const reference = process.env.MOTE_REFERENCE || path.join(repo, '../shared/reference');
export const isCI = ['1', 'true', 'yes'].includes(String(process.env.CI || '').toLowerCase());
fs.mkdirSync(artifacts, { recursive: true });

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json',
  '.tflite': 'application/octet-stream',
};

/** Serves `dist` on 127.0.0.1 (random port). */
export async function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = path.normalize(path.join(dist, decodeURIComponent(url.pathname)));
    if (!file.startsWith(dist)) { res.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, body) => {
      if (err) { res.writeHead(404).end('not found'); return; }
      res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' }).end(body);
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((ok) => server.close(ok)) };
}

/** Launches headless Chromium; `audio` is a WAV file the fake microphone loops; with
 * `denyMic` the permission prompt is not auto-accepted (so getUserMedia is refused). */
export async function launch(audio, { denyMic = false } = {}) {
  const dir = fs.mkdtempSync('/tmp/mote-e2e-profile-');
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-device-for-media-stream',
  ];
  if (!denyMic) args.push('--use-fake-ui-for-media-stream');
  if (audio) args.push(`--use-file-for-fake-audio-capture=${audio}`);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
    viewport: { width: 1100, height: 1400 },
    // The export zip's DOS times are the browser's local time; UTC makes them what
    // `SOURCE_DATE_EPOCH` gives the CLI, for the byte comparisons.
    timezoneId: 'UTC',
  });
  return {
    context,
    close: async () => { await context.close(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Opens the page, recording every request URL. */
export async function open(context, origin) {
  const page = context.pages()[0] || (await context.newPage());
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(origin + '/');
  return { page, requests, errors };
}

/** URLs that left the page's own origin (blob:/data: are in-page). */
export function foreign(requests, origin) {
  return requests.filter((u) => !(u.startsWith(origin + '/') || u.startsWith('blob:') || u.startsWith('data:')));
}

/** Reads a 16-bit PCM WAV: {rate, channels, samples: Int16Array}. */
export function readWav(file) {
  const b = fs.readFileSync(file);
  let off = 12, fmt = null, data = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4), len = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') data = b.subarray(off + 8, off + 8 + len);
    off += 8 + len + (len & 1);
  }
  if (!fmt || !data || fmt.bits !== 16) throw new Error(`${file}: not a 16-bit PCM WAV`);
  const samples = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  return { rate: fmt.rate, channels: fmt.channels, samples };
}

/** Writes a mono 16-bit PCM WAV. */
export function writeWav(file, rate, samples) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + samples.length * 2, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write('data', 36); h.writeUInt32LE(samples.length * 2, 40);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(samples.buffer, samples.byteOffset, samples.length * 2)]));
  return file;
}

/** `silenceS` of silence, the WAV's samples, `silenceS` again, as a new WAV in /tmp. */
export function padded(src, silenceS, name) {
  const { rate, samples } = readWav(src);
  const pad = Math.round(rate * silenceS);
  const out = new Int16Array(pad * 2 + samples.length);
  out.set(samples, pad);
  return writeWav(path.join(fs.mkdtempSync('/tmp/mote-e2e-wav-'), name), rate, out);
}

/** Saves a full-page screenshot under the artifacts directory. */
export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Merges `values` into artifacts/bench.json. */
export function bench(values) {
  const file = path.join(artifacts, 'bench.json');
  const old = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  fs.writeFileSync(file, JSON.stringify({ ...old, ...values }, null, 2) + '\n');
}

/** Whether reference data exists; without it skip (or, under CI, fail). */
export function needReference(t, ...files) {
  const missing = files.filter((f) => !fs.existsSync(path.join(reference, f)));
  if (missing.length === 0) return true;
  if (isCI) throw new Error(`CI is set but reference data is missing: ${missing.join(', ')} in ${reference}`);
  t.skip(`reference data not found in ${reference} (set MOTE_REFERENCE): ${missing.join(', ')}`);
  return false;
}

/** Parses the live stats line: ms per inference, inferences, real-time factor. */
export async function liveStats(page) {
  const text = await page.getByTestId('live-stats').textContent();
  const m = /wasm: ([\d.]+) ms per inference, front end \+ model \+ detector \((\d+) inferences\); real-time factor ([\d.]+)/.exec(text);
  return m ? { msPerInference: Number(m[1]), inferences: Number(m[2]), rtf: Number(m[3]) } : null;
}

/** The `mote` CLI build (release preferred; `CARGO_TARGET_DIR`, then the repo's target/), or null
 * (byte comparisons with the CLI are skipped then). */
export function moteCli() {
  const dirs = [process.env.CARGO_TARGET_DIR, path.join(repo, 'target')].filter(Boolean);
  for (const d of dirs) for (const p of ['release', 'debug']) {
    const f = path.join(d, p, 'mote');
    if (fs.existsSync(f)) return f;
  }
  return null;
}
