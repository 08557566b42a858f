// End-to-end tests of the built playground (target/web-dist; scripts/web-test.sh builds it) in
// Debian's headless Chromium with a fake microphone playing a WAV file in a loop.
// Screenshots and benchmark numbers go to target/e2e-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  repo, dist, reference, artifacts, serve, launch, open, foreign, padded, writeWav, screenshot, bench,
  needReference, liveStats, moteCli,
} from './harness.mjs';

const fixture = (name) => path.join(repo, 'engine/tests/fixtures/audio', name);
const detections = (page) => page.locator('[data-testid=detections] li');

/** Loads `files` (the .tflite first, then any sidecar) and waits until the page names the model. */
async function loadModel(page, files) {
  const list = [files].flat();
  await page.getByTestId('model-input').setInputFiles(list);
  const name = path.basename(list[0]);
  await page.waitForFunction((n) => document.querySelector('[data-testid=model-name]')?.textContent === n, name);
}

/** Starts the fake microphone, waits for a detection of `label`; every detection must be `label`. */
async function detectsOnly(page, label) {
  await page.getByTestId('mic-start').click();
  await detections(page).filter({ hasText: label }).first().waitFor({ timeout: 30_000 });
  const labels = await detections(page).locator('strong').allTextContents();
  assert.ok(labels.every((l) => l === label), labels.join(','));
}

/** Serves, launches with `audio` on the fake microphone, opens the page; always cleans up. */
async function withPage(audio, body, launchOpts) {
  const srv = await serve();
  const b = await launch(audio, launchOpts);
  try {
    const p = await open(b.context, srv.origin);
    await p.page.getByTestId('model-name').waitFor({ timeout: 60_000 });
    await body({ ...p, origin: srv.origin });
    assert.deepEqual(foreign(p.requests, srv.origin), [], 'requests outside the page origin');
    assert.deepEqual(p.errors, [], 'page errors');
  } finally {
    await b.close();
    await srv.close();
  }
}

test('the build fits the wasm budget (first-load wasm ≤ 500 KB gzipped; the trainer counted apart)', () => {
  // The Train step's worker (mote-train-worker_bg.wasm) is fetched only when the step opens.
  const all = fs.readdirSync(dist).filter((f) => f.endsWith('.wasm'));
  const size = (files) => files.reduce((acc, f) => {
    const bytes = fs.readFileSync(path.join(dist, f));
    return { raw: acc.raw + bytes.length, gz: acc.gz + zlib.gzipSync(bytes, { level: 9 }).length };
  }, { raw: 0, gz: 0 });
  const worker = all.filter((f) => f.startsWith('mote-train-worker'));
  const wasm = all.filter((f) => !worker.includes(f));
  assert.ok(wasm.length > 0, `no .wasm in ${dist}`);
  assert.equal(worker.length, 1, `the trainer's wasm: ${worker}`);
  const first = size(wasm), trainer = size(worker);
  bench({ wasm_files: wasm.length, wasm_raw_bytes: first.raw, wasm_gzip_bytes: first.gz,
    trainer_wasm_raw_bytes: trainer.raw, trainer_wasm_gzip_bytes: trainer.gz });
  assert.ok(first.gz <= 500 * 1024, `first-load wasm is ${first.gz} bytes gzipped`);
  // The export zip's firmware sources are served beside the page, not in its wasm.
  assert.equal(fs.readdirSync(dist).filter((f) => /^firmware-sources-[0-9a-f]{16}\.lzma$/.test(f)).length, 1);
});

test('first load: okay_nabu runs, memory and fit are shown, nothing leaves the origin', async () => {
  await withPage(null, async ({ page }) => {
    const interactive = await page.evaluate(() => performance.now());
    const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
    bench({ first_model_ready_ms: Math.round(interactive), first_contentful_paint_ms: fcp && Math.round(fcp) });

    assert.equal(await page.getByTestId('model-name').textContent(), 'okay_nabu.tflite');
    const arena = Number(await page.getByTestId('arena-peak-bytes').textContent());
    assert.ok(Number.isInteger(arena) && arena > 1000 && arena < 256 * 1024, `arena ${arena}`);
    assert.match(await page.getByTestId('fit-verdict').textContent(), /^✔ Fits B-L475E-IOT01A/);
    await page.getByTestId('board-picker').selectOption('nucleo-l432kc');
    assert.match(await page.getByTestId('fit-verdict').textContent(), /^✔ Fits NUCLEO-L432KC \(STM32L432KC\): RAM [\d,.]+ (B|KB) free, flash [\d,.]+ (B|KB) free$/);
    assert.equal(await page.getByTestId('export-button').isEnabled(), true);
    assert.equal(await page.getByTestId('mic-start').isEnabled(), true);

    // Hovering a tensor names it.
    await page.locator('svg.arena rect.tensor').first().hover();
    assert.match(await page.getByTestId('tensor-hover').textContent(), /shape \[.*\] int8 — [\d,]+ bytes at offset/);

    // Another board; workshop mode.
    await page.getByTestId('board-picker').selectOption('nucleo-l4r5zi');
    assert.match(await page.getByTestId('fit-verdict').textContent(), /^✔ Fits NUCLEO-L4R5ZI/);
    assert.equal(await page.getByTestId('export-button').isDisabled(), true); // comparison chip
    await page.getByTestId('workshop-toggle').check();
    assert.ok((await page.locator('aside.explain').count()) >= 4);
    await screenshot(page, 'first-load-workshop');

    // The other default models load too.
    for (const [id, name] of [['hey_jarvis', 'hey_jarvis.tflite'], ['alexa', 'alexa.tflite'], ['hey_mycroft', 'hey_mycroft.tflite']]) {
      await page.getByTestId(`default-${id}`).click();
      await page.waitForFunction((n) => document.querySelector('[data-testid=model-name]')?.textContent === n, name);
      assert.ok(Number(await page.getByTestId('arena-peak-bytes').textContent()) > 0);
    }
  });
});

test('"okay nabu" on the microphone fires a detection', async () => {
  const wav = padded(fixture('okay_nabu.wav'), 1.0, 'okay_nabu_padded.wav');
  await withPage(wav, async ({ page }) => {
    await page.getByTestId('mic-start').click();
    await detections(page).filter({ hasText: 'Okay Nabu' }).first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(500);
    const stats = await liveStats(page);
    assert.ok(stats && stats.inferences > 10, JSON.stringify(stats));
    assert.ok(stats.rtf < 1, `real-time factor ${stats.rtf}`);
    bench({ okay_nabu_ms_per_inference: stats.msPerInference, okay_nabu_rtf: stats.rtf });
    assert.match(await page.getByTestId('live-status').textContent(), /Listening: microphone at \d+ Hz/);
    await screenshot(page, 'okay-nabu-detected');
    // Tab hidden: capture pauses; shown again: it resumes.
    const setHidden = (hidden) => page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { value: h, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await setHidden(true);
    assert.match(await page.getByTestId('live-status').textContent(), /Paused while the tab is hidden/);
    await setHidden(false);
    assert.match(await page.getByTestId('live-status').textContent(), /Listening: microphone/);
    await page.getByTestId('stop').click();
    assert.match(await page.getByTestId('live-status').textContent(), /Stopped/);
  });
});

test('silence on the microphone fires nothing', async () => {
  const dir = fs.mkdtempSync('/tmp/mote-e2e-wav-');
  const wav = writeWav(path.join(dir, 'silence.wav'), 16000, new Int16Array(2 * 16000));
  await withPage(wav, async ({ page }) => {
    await page.getByTestId('mic-start').click();
    // About 6 s of audio: 200 streaming inferences of 30 ms.
    await page.waitForFunction(() => {
      const m = /\((\d+) inferences\)/.exec(document.querySelector('[data-testid=live-stats]')?.textContent || '');
      return m && Number(m[1]) >= 200;
    }, null, { timeout: 30_000 });
    assert.equal(await detections(page).count(), 0);
    await screenshot(page, 'silence-no-detection');
  });
});

test('micro_speech with "yes" looped shows yes', async (t) => {
  if (!needReference(t, 'tflm/micro_speech_quantized.tflite', 'tflm/micro_speech_quantized.json', 'tflm/yes_1000ms.wav')) return;
  await withPage(path.join(reference, 'tflm/yes_1000ms.wav'), async ({ page }) => {
    await loadModel(page, [
      path.join(reference, 'tflm/micro_speech_quantized.tflite'),
      path.join(reference, 'tflm/micro_speech_quantized.json'),
    ]);
    await detectsOnly(page, 'yes');
    const stats = await liveStats(page);
    bench({ micro_speech_ms_per_inference: stats?.msPerInference, micro_speech_rtf: stats?.rtf });
    await screenshot(page, 'micro-speech-yes');
  });
});

test('a WAV file plays through the same pipeline', async () => {
  const wav = padded(fixture('okay_nabu.wav'), 0.5, 'okay_nabu_file.wav');
  await withPage(null, async ({ page }) => {
    await page.getByTestId('wav-input').setInputFiles(wav);
    await detections(page).filter({ hasText: 'Okay Nabu' }).first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => /finished/.test(document.querySelector('[data-testid=live-status]')?.textContent || ''), null, { timeout: 30_000 });
  });
});

test('a model that cannot run says why', async () => {
  const dir = fs.mkdtempSync('/tmp/mote-e2e-bad-');
  const junk = path.join(dir, 'junk.tflite');
  fs.writeFileSync(junk, 'definitely not a flatbuffer');
  const floatOut = path.join(repo, 'engine/tests/golden/ops/dequantize_out_float_fc/model.tflite');
  await withPage(null, async ({ page }) => {
    await page.getByTestId('model-input').setInputFiles(junk);
    await page.getByTestId('model-error').waitFor();
    assert.match(await page.getByTestId('model-error').textContent(), /not a readable \.tflite file/);
    if (fs.existsSync(floatOut)) {
      await loadModel(page, floatOut);
      // It plans (memory is shown) but cannot be fed audio: the live demo says why.
      assert.ok(Number(await page.getByTestId('arena-peak-bytes').textContent()) > 0);
      assert.equal(await page.getByTestId('mic-start').isDisabled(), true);
      assert.match(await page.locator('.live-panel .warn').textContent(), /cannot run this model/);
    }
    await screenshot(page, 'model-errors');
  });
});

test('a denied microphone permission is explained', async () => {
  await withPage(null, async ({ page }) => {
    await page.getByTestId('mic-start').click();
    await page.waitForFunction(() => /Cannot listen/.test(document.querySelector('[data-testid=live-status]')?.textContent || ''), null, { timeout: 15_000 });
    assert.match(await page.getByTestId('live-status').textContent(), /permission was denied/);
  }, { denyMic: true });
});

const sha256 = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** `file` (the page's download) must equal what `mote ...args -o OUT` writes, byte for byte. */
function assertSameAsCli(t, file, args, env = process.env) {
  const cli = moteCli();
  if (!cli) {
    t.diagnostic('no mote CLI build found (cargo build -p mote-exporter): byte comparison skipped');
    return;
  }
  const out = path.join(fs.mkdtempSync('/tmp/mote-e2e-cli-'), path.basename(file));
  execFileSync(cli, [...args, '-o', out], { stdio: 'pipe', env });
  assert.equal(sha256(file), sha256(out), `browser ${path.basename(file)} differs from ${cli} ${args.join(' ')}`);
}

/** The export time a zip's first entry carries (its extended-timestamp field, seconds since
 * 1970), checked to be the time of the download: the page dates the files now, so a project
 * unzipped over an earlier one rebuilds. */
function zipStamp(file) {
  const z = fs.readFileSync(file);
  assert.equal(z.readUInt32LE(0), 0x04034b50, `${file}: not a zip`);
  const nameLen = z.readUInt16LE(26);
  const extraLen = z.readUInt16LE(28);
  const extra = z.subarray(30 + nameLen, 30 + nameLen + extraLen);
  assert.equal(extra.readUInt16LE(0), 0x5455, `${file}: no extended timestamp`);
  const stamp = extra.readUInt32LE(5);
  const now = Date.now() / 1000;
  assert.ok(stamp <= now + 1 && stamp > now - 600, `${file} dated ${stamp}, now ${now}`);
  return stamp;
}

/** `assertSameAsCli` for an export zip: the CLI with the page's time as SOURCE_DATE_EPOCH. */
function assertZipSameAsCli(t, zip, args) {
  assertSameAsCli(t, zip, args, { ...process.env, SOURCE_DATE_EPOCH: String(zipStamp(zip)) });
}

test('Export downloads the firmware zip, byte-identical to `mote export`', async (t) => {
  const model = path.join(repo, 'models/pip/pymicro_wakeword/models/okay_nabu.tflite');
  await withPage(null, async ({ page }) => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-button').click()]);
    assert.equal(dl.suggestedFilename(), 'okay_nabu-b-l475e-iot01a.zip');
    const zip = path.join(artifacts, dl.suggestedFilename());
    await dl.saveAs(zip);
    assert.match(await page.getByTestId('export-status').textContent(), /Downloaded okay_nabu-b-l475e-iot01a\.zip/);
    assertZipSameAsCli(t, zip, ['export', model, '--board', 'b-l475e-iot01a']);
    // Another board, another project.
    await page.getByTestId('board-picker').selectOption('nucleo-l432kc');
    const [small] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-button').click()]);
    assert.equal(small.suggestedFilename(), 'okay_nabu-nucleo-l432kc.zip');
    await screenshot(page, 'export');
  });
});

test('USB drive .bin: byte-identical to `mote export --bin`; the board log panel', async (t) => {
  const model = path.join(repo, 'models/pip/pymicro_wakeword/models/okay_nabu.tflite');
  await withPage(null, async ({ page, origin }) => {
    assert.match(await page.getByTestId('bin-fit').textContent(),
      /^Runtime B-L475E-IOT01A: model slot \d+ of \d+ B flash, arena \+ state \d+ of \d+ B RAM\.$/);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-bin').click()]);
    assert.equal(dl.suggestedFilename(), 'mote-b-l475e-iot01a.bin');
    const bin = path.join(artifacts, dl.suggestedFilename());
    await dl.saveAs(bin);
    const status = page.getByTestId('export-bin-status');
    assert.match(await status.textContent(), /Downloaded mote-b-l475e-iot01a\.bin \(\d+ bytes, made in \d+ ms\)\. .* on the DIS_L4IOT drive/);
    const ms = parseFloat(await status.getAttribute('data-ms'));
    bench({ bin_bytes: fs.statSync(bin).size, bin_build_ms: ms });
    assert.ok(ms < 1000, `.bin took ${ms} ms to make`);
    assertSameAsCli(t, bin, ['export', '--bin', model, '--board', 'b-l475e-iot01a'],
      { ...process.env, MOTE_RUNTIME_DIR: path.join(repo, 'target/runtimes') });
    // Chromium has Web Serial: the connect button (choosing a port needs a person).
    assert.equal(await page.evaluate(() => 'serial' in navigator), true);
    assert.equal(await page.getByTestId('serial-connect').isEnabled(), true);
    await screenshot(page, 'export-bin');
    // Without Web Serial: said plainly, with the terminal command.
    const p2 = await page.context().newPage();
    await p2.addInitScript(() => { delete Navigator.prototype.serial; });
    await p2.goto(origin + '/');
    await p2.getByTestId('model-name').waitFor({ timeout: 60_000 });
    assert.match(await p2.getByTestId('serial-unsupported').textContent(), /no Web Serial/);
    assert.match(await p2.getByTestId('serial-command').textContent(), /picocom -b 115200 \/dev\/ttyACM0/);
    await p2.close();
  });
});

test('latency and battery life follow the board and the clock', async () => {
  await withPage(null, async ({ page }) => {
    // okay_nabu on the B-L475E-IOT01A at the exported firmware's 64 MHz.
    const method = await page.getByTestId('latency-method').textContent();
    assert.match(method, /Instructions are counted, cycles estimated/);
    assert.match(method, /0–30 %/);
    const num = async (id) => parseFloat(await page.getByTestId(id).textContent());
    assert.equal(await page.getByTestId('clock-select').inputValue(), '64');
    const ms64 = await num('latency-estimate');
    const mA64 = await num('energy-current');
    assert.ok(ms64 > 1 && ms64 < 10, `okay_nabu at 64 MHz: ${ms64} ms`);
    assert.equal(await num('energy-latency'), ms64);
    assert.ok(mA64 > 0.6 && mA64 < 12, `average current ${mA64} mA`);
    assert.match(await page.getByTestId('energy-battery-CR2032').textContent(), /^[\d.]+ days$/);
    assert.match(await page.getByTestId('energy-realtime').textContent(), /^keeps up with real time/);

    const headroom = async () => {
      const m = (await page.getByTestId('energy-realtime').textContent()).match(/(\d+) % headroom/);
      return m ? Number(m[1]) : -1;
    };
    const head64 = await headroom();

    // 16 MHz: four times the latency, less current, less headroom (since the front end got
    // cheaper, okay_nabu still keeps up at 16 MHz).
    await page.getByTestId('clock-select').selectOption('16');
    await page.waitForFunction(() => /@16 MHz/.test(document.querySelector('.layers thead')?.textContent || ''));
    const ms16 = await num('latency-estimate');
    assert.ok(Math.abs(ms16 / ms64 - 4) < 0.02, `${ms16} ms at 16 MHz vs ${ms64} at 64`);
    assert.ok((await num('energy-current')) < mA64);
    const head16 = await headroom();
    assert.ok(head16 < head64, `headroom ${head16} % at 16 MHz vs ${head64} % at 64`);
    await page.getByTestId('energy-panel').scrollIntoViewIfNeeded();
    await screenshot(page, 'energy-16mhz');

    // 26 MHz keeps up; a compare-only chip says its figures are datasheet-only.
    await page.getByTestId('clock-select').selectOption('26');
    assert.doesNotMatch(await page.getByTestId('energy-realtime').textContent(), /cannot/);

    // A model that needs more than 16 MHz: the MFCC DS-CNN (7 M instructions every 20 ms).
    const models = path.join(repo, 'engine/tests/fixtures/models');
    await loadModel(page, [path.join(models, 'ds_cnn_mfcc.tflite'), path.join(models, 'ds_cnn_mfcc.json')]);
    await page.getByTestId('clock-select').selectOption('16');
    await page.waitForFunction(() => /cannot keep up/.test(document.querySelector('[data-testid=energy-realtime]')?.textContent || ''));
    await screenshot(page, 'energy-cannot-keep-up');

    await page.getByTestId('board-picker').selectOption('nrf52840');
    await page.getByTestId('energy-datasheet-only').waitFor();
    assert.equal(await page.getByTestId('clock-select').inputValue(), '64');
    await page.getByTestId('board-picker').selectOption('stm32h743');
    assert.match(await page.getByTestId('energy-na').textContent(), /no current figures/);
  });
});

test('an MFCC keyword model (MLPerf Tiny KWS shape) runs live: "yes" shows yes', async () => {
  const wav = padded(fixture('mfcc/yes.wav'), 0.6, 'mfcc_yes_padded.wav');
  await withPage(wav, async ({ page }) => {
    const models = path.join(repo, 'engine/tests/fixtures/models');
    await loadModel(page, [path.join(models, 'ds_cnn_mfcc.tflite'), path.join(models, 'ds_cnn_mfcc.json')]);
    await detectsOnly(page, 'yes');
    await screenshot(page, 'mfcc-yes');
  });
});



test('a model that is not a keyword model exports in infer mode, byte-identical to `mote export`', async (t) => {
  const model = path.join(repo, 'engine/tests/fixtures/models/mobilenet_025.tflite');
  await withPage(null, async ({ page }) => {
    await loadModel(page, model);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-button').click()]);
    assert.equal(dl.suggestedFilename(), 'mobilenet_025-b-l475e-iot01a.zip');
    const zip = path.join(artifacts, dl.suggestedFilename());
    await dl.saveAs(zip);
    assertZipSameAsCli(t, zip, ['export', model, '--board', 'b-l475e-iot01a']);
  });
});
