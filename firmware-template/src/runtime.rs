//! Runtime mode: the prebuilt firmware behind `mote export --bin` and the playground's ".bin"
//! download. The interpreter and every operator are linked in; the model, its settings and its
//! labels come from the flash model slot (`mote_engine::slot`) at boot, so one build per board
//! serves every model: a `.bin` is this image followed by a slot, dropped on the ST-LINK drive.
//!
//! At boot, at the reset clock (4 MHz MSI, where the log UART already runs at 115200):
//! 1. the slot's header (magic, version, kind, board code, length), CRC-32 and settings are
//!    checked, `Model::parse` reads the model, `PipelineConfig::for_model` derives the pipeline
//!    exactly as `mote detect` does (and must agree with the preset the exporter stored), and
//!    the planner's arena and state must fit [`MODEL_MEMORY`];
//! 2. one `{"event":"start",...}` line (board, model bytes and CRC, arena, state, labels);
//! 3. with a replay slot (tests only: QEMU has no microphone), the pipeline runs over its
//!    samples and prints the JSON Lines of `mote detect --json` on the log UART, then a
//!    `{"event":"replay_done",...}` line, and exits through semihosting; otherwise the clock
//!    goes to 64 MHz and mic mode's loop ([`crate::live::listen`]) runs forever.
//!
//! Any failure prints one `{"event":"error","code":N,"message":...}` line and blinks the LED
//! N times every 2 s ([`BlinkCode`]); nothing here can fault on a bad slot (every read is
//! bounds-checked, the engine validates the model once). In a test (a replay slot present) it
//! exits through semihosting with status 1 instead.

use core::mem::MaybeUninit;

use mote_engine::pipeline::{write_json_line, Output, Pipeline, PipelineConfig, PipelineMemory};
use mote_engine::slot::{self, Kind, Layout, SlotError};
use mote_engine::Model;

use crate::board::{self, pac, Led};
use crate::log::{self, Buf, JsonStr};
use crate::{build, say, uart, Aligned, Fail};

/// Bytes for the model's tensor arena and variable state together: the layout table's
/// `model_memory` (the exporter's fit check reads the same number).
const MODEL_MEMORY: usize = model_memory();

const fn model_memory() -> usize {
    #[cfg(mote_board = "b-l475e-iot01a")]
    let l = slot::LAYOUTS[0];
    #[cfg(mote_board = "nucleo-l476rg")]
    let l = slot::LAYOUTS[1];
    #[cfg(mote_board = "nucleo-l432kc")]
    let l = slot::LAYOUTS[2];
    l.model_memory as usize
}

/// Marks the image as a Mote runtime for this board: `mote export --bin` and the page check it
/// (`mote_exporter::export::bin::RUNTIME_MARKER`, then the board id, then NUL).
#[cfg(mote_board = "b-l475e-iot01a")]
#[used]
static RUNTIME_ID: &[u8] = b"MOTE-RUNTIME slot-v1 b-l475e-iot01a\0";
#[cfg(mote_board = "nucleo-l476rg")]
#[used]
static RUNTIME_ID: &[u8] = b"MOTE-RUNTIME slot-v1 nucleo-l476rg\0";
#[cfg(mote_board = "nucleo-l432kc")]
#[used]
static RUNTIME_ID: &[u8] = b"MOTE-RUNTIME slot-v1 nucleo-l432kc\0";

/// Samples per push in replay: 10 ms at 16 kHz, as the microphone delivers them.
const CHUNK: usize = 160;

/// What the LED blinks on a failure: this many short flashes, then a pause.
#[derive(Clone, Copy)]
enum BlinkCode {
    /// Nothing flashed in the slot.
    Empty = 1,
    /// The slot is damaged, truncated or from another exporter version.
    BadSlot = 2,
    /// The slot was made for another board.
    WrongBoard = 3,
    /// The engine refuses the model (unsupported operator, bad file, settings).
    Model = 4,
    /// The model's arena and state do not fit the runtime's RAM.
    TooBig = 5,
}

/// Why the runtime cannot run.
struct Failure {
    code: BlinkCode,
    fail: Fail,
    slot: Option<SlotError>,
    /// Too big: the arena and state bytes the model needs.
    need: Option<(u32, u32)>,
}

impl Failure {
    fn slot(e: SlotError) -> Self {
        let code = match e {
            SlotError::Empty => BlinkCode::Empty,
            SlotError::WrongBoard { .. } => BlinkCode::WrongBoard,
            _ => BlinkCode::BadSlot,
        };
        Failure {
            code,
            fail: Fail::Msg(""),
            slot: Some(e),
            need: None,
        }
    }

    fn engine(e: mote_engine::Error) -> Self {
        Failure {
            code: BlinkCode::Model,
            fail: Fail::Engine(e),
            slot: None,
            need: None,
        }
    }
}

/// The board's layout row.
fn layout() -> Option<&'static Layout> {
    slot::layout(build::BOARD)
}

/// A slot region of flash.
fn region(l: &Layout, offset: u32, len: u32) -> &'static [u8] {
    // SAFETY: the region lies inside the chip's flash (`Layout` keeps every slot within
    // `flash_bytes`, checked by the engine's tests), which is always mapped, readable and never
    // written while the firmware runs, so a shared `'static` slice of it is sound.
    unsafe { core::slice::from_raw_parts((l.flash_base + offset) as *const u8, len as usize) }
}

/// Entry point: never returns.
pub fn main() -> ! {
    uart::init(uart::RESET_PCLK_HZ);
    let Some(dp) = pac::Peripherals::take() else {
        crate::exit(false)
    };
    let led = Led::init(&dp.RCC);
    let replay = layout().and_then(|l| {
        slot::payload(
            region(l, l.replay_slot, l.replay_slot_max()),
            Kind::Replay,
            l.code,
        )
        .ok()
    });
    let f = match run(dp, &led, replay) {
        Ok(never) => match never {},
        Err(f) => f,
    };
    match (f.slot, f.need) {
        (Some(e), _) => say!(
            "{{\"event\":\"error\",\"code\":{},\"message\":\"{}\"}}",
            f.code as u8,
            JsonStr(&e)
        ),
        (None, Some((arena, state))) => say!(
            "{{\"event\":\"error\",\"code\":{},\"message\":\"the model needs {arena} B of arena + {state} B of state, this runtime has {MODEL_MEMORY} B for them: use a smaller model or the project export (.zip)\"}}",
            f.code as u8
        ),
        (None, None) => say!(
            "{{\"event\":\"error\",\"code\":{},\"message\":\"{}\"}}",
            f.code as u8,
            JsonStr(&f.fail)
        ),
    }
    if replay.is_some() {
        semihosting_exit(false);
    }
    // The core clock is whatever it was when the error happened: 4 MHz at boot (every slot
    // and model check runs before the clock change).
    let tick = uart::RESET_PCLK_HZ / 10;
    loop {
        for _ in 0..f.code as u8 {
            led.set(true);
            cortex_m::asm::delay(tick);
            led.set(false);
            cortex_m::asm::delay(tick * 2);
        }
        cortex_m::asm::delay(tick * 15);
    }
}

type Built = Result<Pipeline<'static, 'static, 'static>, mote_engine::Error>;

fn run(
    dp: pac::Peripherals,
    led: &Led,
    replay: Option<&'static [u8]>,
) -> Result<core::convert::Infallible, Failure> {
    let l = layout().ok_or(Failure {
        code: BlinkCode::BadSlot,
        fail: Fail::Msg("no slot layout for this board"),
        slot: None,
        need: None,
    })?;
    let s = slot::read_model_slot(region(l, l.model_slot, l.model_slot_max()), l.code)
        .map_err(Failure::slot)?;
    let settings = s.settings;
    let model = Model::parse(s.model).map_err(Failure::engine)?;
    let sidecar = settings.sidecar();
    let cfg = PipelineConfig::for_model(&model, sidecar.as_ref()).map_err(Failure::engine)?;
    if cfg.preset.kind != settings.preset {
        return Err(Failure {
            code: BlinkCode::Model,
            fail: Fail::Msg(
                "the slot's front-end preset differs from the model's (export the .bin again)",
            ),
            slot: None,
            need: None,
        });
    }
    // The planner's exact sizes, each rounded to 16 bytes (the state starts aligned).
    let arena_bytes = (settings.arena_bytes as usize).div_ceil(16) * 16;
    let state_bytes = (settings.state_bytes as usize).div_ceil(16) * 16;
    if arena_bytes + state_bytes > MODEL_MEMORY {
        return Err(Failure {
            code: BlinkCode::TooBig,
            fail: Fail::Msg("the model's arena + state do not fit this runtime's RAM"),
            slot: None,
            need: Some((settings.arena_bytes, settings.state_bytes)),
        });
    }
    let pipeline = build_pipeline(&model, &cfg, arena_bytes, state_bytes)?;
    let labels = settings.labels();
    say!(
        "{{\"event\":\"start\",\"runtime\":true,\"board\":\"{}\",\"model_bytes\":{},\"model_crc32\":\"{:08x}\",\"arena\":{},\"state\":{},\"model_memory\":{},\"labels\":{},\"audio\":\"{}\"}}",
        JsonStr(build::BOARD),
        s.model.len(),
        slot::crc32(s.model),
        settings.arena_bytes,
        settings.state_bytes,
        MODEL_MEMORY,
        labels.len(),
        if replay.is_some() { "replay" } else { "mic" }
    );
    if let Some(samples) = replay {
        let r = replay_run(pipeline, labels, samples);
        match r {
            Ok(()) => semihosting_exit(true),
            Err(e) => Err(Failure {
                code: BlinkCode::Model,
                fail: e,
                slot: None,
                need: None,
            }),
        }
    } else {
        board::clock_64mhz(&dp.RCC, &dp.FLASH);
        uart::init(board::SYSCLK_HZ);
        if let Some(mut cp) = cortex_m::Peripherals::take() {
            cp.DCB.enable_trace();
            cp.DWT.enable_cycle_counter();
        }
        crate::live::listen(dp, led, pipeline, labels).map_err(|fail| Failure {
            code: BlinkCode::Model,
            fail,
            slot: None,
            need: None,
        })
    }
}

/// The pipeline in statics: the arena and state split from one [`MODEL_MEMORY`] buffer.
#[inline(never)]
fn build_pipeline(
    model: &Model<'static>,
    cfg: &PipelineConfig,
    arena_bytes: usize,
    state_bytes: usize,
) -> Result<&'static mut Pipeline<'static, 'static, 'static>, Failure> {
    let taken = |what| Failure {
        code: BlinkCode::Model,
        fail: Fail::Msg(what),
        slot: None,
        need: None,
    };
    let memory = cortex_m::singleton!(: Aligned<[u8; MODEL_MEMORY]> = Aligned([0; MODEL_MEMORY]))
        .ok_or(taken("model memory already taken"))?;
    let (arena, rest) = memory.0.split_at_mut(arena_bytes.min(MODEL_MEMORY));
    let state = rest
        .get_mut(..state_bytes)
        .ok_or(taken("state does not fit"))?;
    let mem = cortex_m::singleton!(: PipelineMemory = PipelineMemory::EMPTY)
        .ok_or(taken("pipeline memory already taken"))?;
    let slot = cortex_m::singleton!(: MaybeUninit<Built> = MaybeUninit::uninit())
        .ok_or(taken("pipeline already built"))?;
    // Built in place in the static (no 16 KB temporary on the stack), as `crate::pipeline`.
    match slot.write(Pipeline::new(model, arena, state, mem, cfg)) {
        Ok(p) => Ok(p),
        Err(e) => Err(Failure::engine(*e)),
    }
}

/// The pipeline over the replay slot's samples in 10 ms chunks; every output as `mote detect
/// --json` prints it, on the log UART.
fn replay_run(
    pipeline: &mut Pipeline<'_, '_, '_>,
    labels: &[&str],
    pcm: &[u8],
) -> Result<(), Fail> {
    let floor = crate::stack::paint_stack();
    let mut text: Buf<2048> = Buf::new();
    let (mut invocations, mut detections) = (0u32, 0u32);
    let mut samples = [0i16; CHUNK];
    for bytes in pcm.chunks(2 * CHUNK) {
        let mut n = 0;
        for (dst, b) in samples.iter_mut().zip(bytes.chunks_exact(2)) {
            *dst = i16::from_le_bytes([b[0], b[1]]);
            n += 1;
        }
        text.clear();
        pipeline.push(samples.get(..n).unwrap_or(&[]), |out| {
            match out {
                Output::Invocation { .. } => invocations += 1,
                Output::Detection { .. } => detections += 1,
            }
            let _ = write_json_line(&mut text, &out, labels);
        })?;
        if text.overflow {
            return Err(Fail::Msg("replay: output line buffer overflow"));
        }
        log::write_all(text.bytes());
    }
    // Stack depth (from the stack's start) at its deepest during the replay loop: the
    // pipeline's push, as the microphone loop runs it (interrupt frames not included).
    let used = crate::stack::stack_used(floor, crate::stack::stack_top());
    say!(
        "{{\"event\":\"replay_done\",\"samples\":{},\"invocations\":{invocations},\"detections\":{detections},\"stack_bytes\":{used}}}",
        pcm.len() / 2
    );
    Ok(())
}

/// Ends a test run in QEMU (semihosting SYS_EXIT: status 0 or 1). Only reached with a replay
/// slot, which only tests flash: on a board without a debugger the call would stop the core.
fn semihosting_exit(ok: bool) -> ! {
    // ADP_Stopped_ApplicationExit / ADP_Stopped_RunTimeErrorUnknown.
    let reason = if ok { 0x2_0026 } else { 0x2_0023 };
    // SAFETY: SYS_EXIT (0x18) takes the reason code itself as its argument on 32-bit ARM and
    // touches no memory.
    unsafe {
        cortex_m::asm::semihosting_syscall(0x18, reason);
    }
    crate::exit(ok)
}
