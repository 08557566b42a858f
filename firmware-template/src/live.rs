//! Mic mode: microphone → pipeline → LED and a JSON line per detection, forever.
//!
//! Log lines (UART only, 115200 8N1): a `start` line; after the first second of audio one
//! `mic_level` line (RMS and peak of that second, as the pipeline sees it: after DC removal
//! and gain; or `no_data` when no sample arrived within 2 s), so a dead or mis-wired
//! microphone shows at once; each detection exactly as `mote
//! detect --json` prints it; and every 100 invocations a `cycles` line with the DWT cycle count
//! of the pipeline per invocation (front-end frame + model + detector) and the microphone
//! overruns.

use cortex_m::peripheral::DWT;
use mote_engine::pdm::LevelMeter;
use mote_engine::pipeline::{write_json_line, Output};

use crate::board::{self, pac, Led};
#[cfg(mote_mode = "mic")]
use mote_engine::text::Piece;

use crate::log::{self, Buf};
#[cfg(mote_mode = "mic")]
use crate::{build, config, uart};
use crate::{mic, Fail};

/// Invocations per `cycles` line.
const REPORT_EVERY: u32 = 100;
/// LED on-time after a detection, in samples (0.5 s).
const LED_SAMPLES: u32 = 8000;
/// Samples measured for the start-up `mic_level` line (1 s).
const LEVEL_SAMPLES: u32 = 16_000;
/// Seconds without a single microphone sample before `mic_level` reports `no_data`.
const NO_DATA_S: u32 = 2;
/// Below this RMS (after gain) the microphone is reported `silent`: a stuck data line (all ones
/// or zeros, or nothing connected) decimates to a constant that the DC block removes.
const SILENT_RMS: u32 = 2;

/// Runs mic mode; on an error, reports it and blinks the LED.
#[cfg(mote_mode = "mic")] // the runtime has its own start
pub fn main() -> ! {
    let Some(dp) = pac::Peripherals::take() else {
        crate::exit(false)
    };
    board::clock_64mhz(&dp.RCC, &dp.FLASH);
    uart::init(board::SYSCLK_HZ);
    let led = Led::init(&dp.RCC);
    if let Some(mut cp) = cortex_m::Peripherals::take() {
        cp.DCB.enable_trace();
        cp.DWT.enable_cycle_counter();
    }
    let e = match run(dp, &led) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    log::error_line(&e);
    loop {
        led.set(true);
        cortex_m::asm::delay(board::SYSCLK_HZ / 8);
        led.set(false);
        cortex_m::asm::delay(board::SYSCLK_HZ / 8);
    }
}

#[cfg(mote_mode = "mic")]
fn run(dp: pac::Peripherals, led: &Led) -> Result<core::convert::Infallible, Fail> {
    let pipeline = crate::pipeline()?;
    log::line(
        &[
            "{\"event\":\"start\",\"board\":\"",
            "\",\"sysclk_hz\":",
            ",\"model_bytes\":",
            ",\"arena\":",
            ",\"state\":",
            ",\"labels\":",
            "}",
        ],
        &[
            Piece::Json(build::BOARD),
            board::SYSCLK_HZ.into(),
            build::MODEL_LEN.into(),
            build::ARENA_BYTES.into(),
            build::STATE_BYTES.into(),
            config::LABELS.len().into(),
        ],
    );
    listen(dp, led, pipeline, config::LABELS)
}

/// Starts the microphone and runs `pipeline` on it forever: LED and detection lines (with
/// `labels`), the `mic_level` line, `cycles` lines. Shared with the runtime (`crate::runtime`).
/// Generic over the model: interpreted ([`mote_engine::Interpreter`]) or compiled ahead of
/// time (the `aot` feature's `Compiled`).
pub fn listen<N: mote_engine::aot::Net>(
    dp: pac::Peripherals,
    led: &Led,
    pipeline: &mut mote_engine::pipeline::Pipeline<'_, '_, '_, N>,
    labels: &[&str],
) -> Result<core::convert::Infallible, Fail> {
    #[cfg(any(mote_board = "b-l475e-iot01a", mote_board = "nucleo-l476rg"))]
    mic::start(&dp.RCC, dp.DFSDM, dp.DMA1)?;
    #[cfg(mote_board = "nucleo-l432kc")]
    mic::start(&dp.RCC, dp.SPI1, dp.DMA1)?;

    let mut block = [0i16; 160];
    let mut text: Buf<{ log::PUSH_TEXT }> = Buf::new();
    let (mut samples, mut led_until) = (0u32, 0u32);
    // Σ dt over REPORT_EVERY invocations as Σ(dt / N) + Σ(dt % N): the same floor(Σ dt / N),
    // in u32 (no 64-bit division or formatting linked).
    let (mut cycles_q, mut cycles_r, mut invocations) = (0u32, 0u32, 0u32);
    let mut level = Some(LevelMeter::new());
    let started = DWT::cycle_count();
    loop {
        let n = mic::read(&mut block);
        if n == 0 {
            if level.as_ref().is_some_and(|m| m.count() == 0) {
                // No sample yet: poll (no WFI: if the DMA never runs, no interrupt would wake
                // the core) and give up after NO_DATA_S seconds with a `no_data` line.
                if DWT::cycle_count().wrapping_sub(started) > NO_DATA_S * board::SYSCLK_HZ {
                    log::line(
                        &["{\"event\":\"mic_level\",\"samples\":0,\"status\":\"no_data\"}"],
                        &[],
                    );
                    level = None;
                }
                continue;
            }
            // The DMA interrupt wakes the core.
            cortex_m::asm::wfi();
            continue;
        }
        samples = samples.wrapping_add(n as u32);
        if let Some(m) = level.as_mut() {
            m.add(block.get(..n).unwrap_or(&[]));
            if m.count() >= LEVEL_SAMPLES {
                report_level(m);
                level = None;
            }
        }
        text.clear();
        let mut invoked = false;
        let mut detected = false;
        let t0 = DWT::cycle_count();
        pipeline.push(block.get(..n).unwrap_or(&[]), |out| match out {
            Output::Invocation { .. } => invoked = true,
            Output::Detection { .. } => {
                detected = true;
                let _ = write_json_line(&mut text, &out, labels);
            }
        })?;
        let dt = DWT::cycle_count().wrapping_sub(t0);
        if detected {
            led.set(true);
            led_until = samples.wrapping_add(LED_SAMPLES);
            log::write_all(text.bytes());
        } else if samples.wrapping_sub(led_until) < u32::MAX / 2 {
            led.set(false);
        }
        if invoked {
            cycles_q = cycles_q.saturating_add(dt / REPORT_EVERY);
            cycles_r += dt % REPORT_EVERY;
            invocations += 1;
            if invocations % REPORT_EVERY == 0 {
                log::line(
                    &[
                        "{\"event\":\"cycles\",\"per_invocation\":",
                        ",\"invocations\":",
                        ",\"overruns\":",
                        "}",
                    ],
                    &[
                        cycles_q.saturating_add(cycles_r / REPORT_EVERY).into(),
                        invocations.into(),
                        mic::overruns().into(),
                    ],
                );
                (cycles_q, cycles_r) = (0, 0);
            }
        }
    }
}

/// `{"event":"mic_level","rms":R,"peak":P,"dbfs":-42.3,"samples":N,"status":"ok"}`; status
/// `silent` (RMS < 2: dead or mis-wired microphone), `clipping` (peak at full scale) or `ok`.
fn report_level(m: &LevelMeter) {
    let tenths = m.dbfs_tenths();
    let status = if m.rms() < SILENT_RMS {
        "silent"
    } else if m.peak() >= i16::MAX as u16 {
        "clipping"
    } else {
        "ok"
    };
    log::line(
        &[
            "{\"event\":\"mic_level\",\"rms\":",
            ",\"peak\":",
            ",\"dbfs\":",
            "",
            ".",
            ",\"samples\":",
            ",\"status\":\"",
            "\"}",
        ],
        &[
            m.rms().into(),
            m.peak().into(),
            if tenths < 0 { "-" } else { "" }.into(),
            (tenths.unsigned_abs() / 10).into(),
            (tenths.unsigned_abs() % 10).into(),
            m.count().into(),
            status.into(),
        ],
    );
}
