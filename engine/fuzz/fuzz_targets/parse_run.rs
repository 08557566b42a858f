//! Fuzz the whole engine: parse → plan/prepare in a bounded arena → fill inputs → invoke.
//! Property: no panic, no sanitizer report, no hang, whatever the bytes; every failure is an
//! `Error` whose message is non-empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::{Error, Interpreter, Model};

/// The largest arena or state buffer the harness grants (a hostile model may ask for more:
/// that must be a clean `ArenaTooSmall`, which it is when the first attempt is refused).
const CAP: usize = 1 << 20;

fn check(e: Error) {
    assert!(!e.to_string().is_empty());
}

fuzz_target!(|data: &[u8]| {
    let model = match Model::parse(data) {
        Ok(m) => m,
        Err(e) => return check(e),
    };
    // Grow the arena and state from what the errors say is needed, up to CAP.
    let (mut arena_len, mut state_len) = (0usize, 0usize);
    for _ in 0..6 {
        let mut arena = vec![0u8; arena_len];
        let mut state = vec![0u8; state_len];
        // Odd-length inputs also exercise the no-sharing plan (`preserve_all_tensors`).
        let options = InterpreterOptions { preserve_all_tensors: data.len() % 2 == 1 };
        match Interpreter::with_options(&model, &mut arena, &mut state, options) {
            Ok(mut interp) => {
                run(&mut interp, data);
                return;
            }
            Err(Error::ArenaTooSmall { needed, available }) => {
                match grow(arena_len, needed as usize, available as usize) {
                    Some(n) => arena_len = n,
                    None => return,
                }
            }
            Err(Error::StateTooSmall { needed, available }) => {
                match grow(state_len, needed as usize, available as usize) {
                    Some(n) => state_len = n,
                    None => return,
                }
            }
            Err(e) => return check(e),
        }
    }
});

/// The next length of a buffer of `len` bytes refused as too small (`needed`, `available`): the
/// error must report the length given and ask for more; `None` past `CAP`.
fn grow(len: usize, needed: usize, available: usize) -> Option<usize> {
    assert_eq!(available, len);
    assert!(needed > len, "a buffer too small needs no more than given");
    (needed <= CAP).then_some(needed)
}

fn run(interp: &mut Interpreter<'_, '_>, data: &[u8]) {
    let m = interp.memory();
    assert!(m.arena_bytes as usize <= CAP);
    // Inputs from the fuzz bytes themselves (cycled from the end, so they vary with mutations).
    for round in 0..3usize {
        for i in 0..interp.input_count() {
            if let Ok(buf) = interp.input_mut(i) {
                for (k, b) in buf.iter_mut().enumerate() {
                    *b = data
                        .get(
                            data.len()
                                .wrapping_sub(1 + (k + round * 7) % data.len().max(1)),
                        )
                        .copied()
                        .unwrap_or(0);
                }
            }
        }
        match interp.invoke() {
            Ok(()) => {
                for i in 0..interp.output_count() {
                    let _ = interp.output(i);
                }
            }
            Err(e) => return check(e),
        }
    }
    interp.reset_state();
    if let Err(e) = interp.invoke() {
        check(e);
    }
    let _ = interp.timeline(|_| Ok(()));
    for t in 0..64 {
        let _ = interp.placement(0, t);
        let _ = interp.tensor_data(0, t);
    }
}
