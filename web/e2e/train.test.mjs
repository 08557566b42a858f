// The Train step end to end in headless Chromium: espeak-ng clips of two words and generated
// background noise dropped as WAVs (then recorded from the fake microphone, and dropped as a zip
// of folders) → the trainer's own wasm module (fetched only when the step
// opens) trains in a Web Worker → the int8 model equals `mote train`'s bytes for the same clips
// and seed → it becomes the page's model and detects one of the words on the fake microphone.
// Training time in the worker goes to bench.json (train_worker_ms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { artifacts, isCI, serve, launch, open, foreign, readWav, writeWav, screenshot, bench, moteCli } from './harness.mjs';

// Enough epochs for the word to pass the sidecar's 0.8 cut-off live (~30 s in the worker here).
const EPOCHS = 40;
const SEED = 3;
// Alphabetical: `mote train` orders its word folders by name, the page by the order added.
const WORDS = ['no', 'yes'];
const VOICES = [['en-us', 'm1'], ['en-gb', 'f4'], ['en-gb-scotland', 'm3'], ['en-029', 'f2'], ['en-us-nyc', 'klatt'], ['en-gb-x-gbclan', 'm7']];
const SPEEDS = [140, 175];

const sha256 = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

function have(cmd) {
  try { execFileSync(cmd, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Brown-ish noise at 16 kHz from a fixed-seed generator, `seconds` long. */
function noise(seconds, seed) {
  let x = seed >>> 0, brown = 0;
  const out = new Int16Array(16000 * seconds);
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const w = x / 2 ** 31 - 1;
    brown = 0.98 * brown + 0.2 * w;
    out[i] = Math.round(1500 * (brown + 0.3 * w));
  }
  return out;
}

test('Train step: clips → worker → int8 model (= `mote train`) → live detection', { timeout: 300_000 }, async (t) => {
  if (!have('espeak-ng')) {
    if (isCI) throw new Error('CI is set but espeak-ng is missing (scripts/setup.sh installs it)');
    t.skip('espeak-ng not installed');
    return;
  }
  // The training folder, as `mote train` reads it.
  const dir = fs.mkdtempSync('/tmp/mote-e2e-train-');
  const clips = {};
  for (const word of WORDS) {
    fs.mkdirSync(path.join(dir, word));
    clips[word] = [];
    for (const [lang, variant] of VOICES) for (const speed of SPEEDS) {
      const f = path.join(dir, word, `${lang}_${variant}_${speed}.wav`);
      execFileSync('espeak-ng', ['-v', `${lang}+${variant}`, '-s', String(speed), '-w', f, word]);
      clips[word].push(f);
    }
    clips[word].sort(); // the CLI reads a folder's files in name order
  }
  fs.mkdirSync(path.join(dir, '_background_'));
  const bg = [0, 1].map((k) => writeWav(path.join(dir, '_background_', `noise${k}.wav`), 16000, noise(12, 7 + k)));

  // The fake microphone: low noise, then "yes" in a training voice, looped.
  const yes = readWav(clips.yes[0]);
  const quiet = noise(2, 99).map((v) => v >> 3);
  const mic = new Int16Array(Math.round(1.5 * yes.rate) + yes.samples.length);
  const step = 16000 / yes.rate;
  for (let i = 0; i < mic.length; i++) mic[i] = quiet[Math.floor(i * step) % quiet.length];
  for (let i = 0; i < yes.samples.length; i++) mic[Math.round(0.75 * yes.rate) + i] += yes.samples[i];
  const micWav = writeWav(path.join(dir, 'mic.wav'), yes.rate, mic);

  const srv = await serve();
  const b = await launch(micWav);
  try {
    const { page, requests, errors } = await open(b.context, srv.origin);
    await page.getByTestId('model-name').waitFor({ timeout: 60_000 });
    const worker = () => requests.filter((u) => u.includes('mote-train-worker'));
    assert.deepEqual(worker(), [], 'the trainer is fetched on first load');

    await page.getByTestId('train-open').click();
    await page.waitForFunction(() => /Trainer loaded/.test(document.querySelector('[data-testid=train-status]')?.textContent || ''), null, { timeout: 60_000 });
    assert.ok(worker().some((u) => u.endsWith('_bg.wasm')), 'the trainer wasm was not fetched when the step opened');

    for (const word of WORDS) {
      await page.getByTestId('train-word-name').fill(word);
      await page.getByTestId('train-add-word').click();
    }
    await page.getByTestId('train-files-0').setInputFiles(bg);
    for (const [i, word] of WORDS.entries()) await page.getByTestId(`train-files-${i + 1}`).setInputFiles(clips[word]);
    for (const [i, n] of [[0, 2], [1, clips.no.length], [2, clips.yes.length]]) {
      await page.waitForFunction(([i, n]) => (document.querySelector(`[data-testid=train-count-${i}]`)?.textContent || '').includes(` ${n} clip(s)`), [i, n]);
    }
    assert.equal(await page.locator('canvas.clip-spectrogram').count(), 2 + clips.no.length + clips.yes.length);
    await page.getByTestId('train-epochs').fill(String(EPOCHS));
    await page.getByTestId('train-epochs').dispatchEvent('change');
    await page.getByTestId('train-seed').fill(String(SEED));
    await page.getByTestId('train-seed').dispatchEvent('change');
    await page.getByTestId('train-start').click();

    // Progress while the page stays responsive (the workshop toggle still answers).
    await page.waitForFunction(() => /epoch \d+\/\d+ · loss/.test(document.querySelector('[data-testid=train-progress]')?.textContent || ''), null, { timeout: 120_000 });
    await page.getByTestId('workshop-toggle').check();
    assert.ok((await page.locator('aside.explain').count()) >= 4);
    await screenshot(page, 'train-progress');
    await page.getByTestId('train-result').waitFor({ timeout: 240_000 });
    const ms = Number(await page.getByTestId('train-result').getAttribute('data-ms'));
    const float = await page.getByTestId('train-float').textContent();
    const int8 = await page.getByTestId('train-int8').textContent();
    bench({ train_worker_ms: ms, train_epochs: EPOCHS, train_clips: clips.no.length + clips.yes.length, train_float_accuracy: float, train_int8_accuracy: int8 });
    t.diagnostic(`trained ${EPOCHS} epochs in ${ms} ms in the worker; held-out float ${float}, int8 ${int8}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=model-name]')?.textContent === 'trained.tflite');
    assert.ok(Number(await page.getByTestId('arena-peak-bytes').textContent()) > 0);
    assert.match(await page.getByTestId('fit-verdict').textContent(), /^✔ Fits/);

    // The same bytes as the CLI for the same clips and seed.
    const downloads = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByTestId('train-download').click();
    while (downloads.length < 2) await new Promise((ok) => setTimeout(ok, 100));
    const model = path.join(artifacts, 'trained.tflite');
    await downloads.find((d) => d.suggestedFilename() === 'trained.tflite').saveAs(model);
    const cli = moteCli();
    if (!cli) {
      if (isCI) throw new Error('no mote CLI build (cargo build --release -p mote-exporter)');
      t.diagnostic('no mote CLI build found: byte comparison skipped');
    } else {
      const out = path.join(dir, 'cli.tflite');
      const started = Date.now();
      execFileSync(cli, ['train', dir, '-o', out, '--epochs', String(EPOCHS), '--seed', String(SEED)], { stdio: 'pipe' });
      bench({ train_cli_ms: Date.now() - started });
      assert.equal(sha256(model), sha256(out), 'the page trained other bytes than `mote train`');
    }

    // Recording from the microphone: a word clip stops itself and is trimmed to the 1 s around
    // the word; the background records until stopped (level meter meanwhile).
    await page.getByTestId('train-record-2').click();
    await page.locator('meter.level').waitFor();
    const n = clips.yes.length + 1;
    await page.waitForFunction((n) => (document.querySelector('[data-testid=train-count-2]')?.textContent || '').includes(` ${n} clip(s)`), n, { timeout: 15_000 });
    assert.match(await page.locator('[data-testid=train-class-2] li').last().textContent(), /^recording \d+ \(1\.00 s\)/);
    await page.getByTestId('train-record-0').click();
    await page.waitForTimeout(1500);
    await page.getByTestId('train-stop-0').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid=train-count-0]')?.textContent || '').includes(' 3 clip(s)'), null, { timeout: 15_000 });
    await screenshot(page, 'train-recorded');

    // Live: "yes" on the microphone.
    await page.getByTestId('mic-start').click();
    await page.locator('[data-testid=detections] li').filter({ hasText: 'yes' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'train-detects-yes');

    // A zip of the same folders adds the same clips to the classes named by its folders.
    const zip = path.join(dir, 'clips.zip');
    execFileSync('python3', ['-m', 'zipfile', '-c', zip, ...['_background_', ...WORDS].map((d) => path.join(dir, d))]);
    await page.getByTestId('train-zip').setInputFiles(zip);
    for (const [i, n] of [[0, 5], [1, 2 * clips.no.length], [2, 2 * clips.yes.length + 1]]) {
      await page.waitForFunction(([i, n]) => (document.querySelector(`[data-testid=train-count-${i}]`)?.textContent || '').includes(` ${n} clip(s)`), [i, n]);
    }
    assert.deepEqual(foreign(requests, srv.origin), [], 'requests outside the page origin');
    assert.deepEqual(errors, [], 'page errors');
  } finally {
    await b.close();
    await srv.close();
  }
});
