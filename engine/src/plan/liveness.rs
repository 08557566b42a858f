//! Liveness: the per-tensor records ([`Loc`]) filled while the timeline is walked once.
//!
//! A tensor lives from the step that writes it to the last step that reads it; an alias's reads
//! extend its root's life; constants live in the model and never take arena space. Each call
//! below is one fact about one operand of the operator at `step`; `index` is the tensor's index
//! in its subgraph, for error messages. Offsets are decided afterwards by [`super::place`].

use super::{root, Loc, Place};
use crate::error::Error;

/// Subgraph 0's input `g` (`len` bytes): alive from step 0.
pub fn model_input(locs: &mut [Loc], g: usize, len: u32) -> Result<(), Error> {
    let l = &mut locs[g];
    l.len = len;
    l.set(Place::Pending)?;
    l.touch(0);
    Ok(())
}

/// Constant operand `g`: its bytes are the model's, at byte `offset`.
pub fn constant(locs: &mut [Loc], g: usize, offset: u32, len: u32) -> Result<(), Error> {
    locs[g].len = len;
    locs[g].set(Place::Const(offset))
}

/// Operand `g` read at `step`: it must be written already (or be a model input or constant),
/// and stays alive through `step`.
pub fn read(locs: &mut [Loc], g: usize, index: i32, step: u16) -> Result<(), Error> {
    let r = root(locs, g);
    match locs[r].place() {
        Place::Pending => locs[r].touch(step),
        Place::Const(_) => {}
        _ => {
            return Err(Error::InvalidGraph {
                what: "tensor read before any operator writes it",
                index,
            })
        }
    }
    if r != g {
        locs[g].touch(step);
    }
    Ok(())
}

/// Operand `g` (`len` bytes) written at `step`: tensors are written once.
pub fn write(locs: &mut [Loc], g: usize, index: i32, len: u32, step: u16) -> Result<(), Error> {
    let l = &mut locs[g];
    if l.place() != Place::Unused {
        return Err(Error::InvalidGraph {
            what: "tensor written twice",
            index,
        });
    }
    l.len = len;
    l.set(Place::Pending)?;
    l.touch(step);
    Ok(())
}

/// `dst` (`len` bytes, written at `step`) shares `src`'s bytes (RESHAPE, SQUEEZE, EXPAND_DIMS).
pub fn alias(
    locs: &mut [Loc],
    dst: usize,
    index: i32,
    src: usize,
    len: u32,
    step: u16,
) -> Result<(), Error> {
    if locs[dst].place() != Place::Unused {
        return Err(Error::InvalidGraph {
            what: "tensor written twice",
            index,
        });
    }
    let r = root(locs, src) as u32;
    locs[dst].len = len;
    locs[dst].set(Place::Alias(r))?;
    locs[dst].touch(step);
    Ok(())
}

/// Subgraph 0's output `g`: alive to the last step `end`.
pub fn model_output(locs: &mut [Loc], g: usize, end: u16) {
    let r = root(locs, g);
    if matches!(locs[r].place(), Place::Pending) {
        locs[r].touch(end);
    }
}

/// Every arena tensor alive for the whole timeline (TFLM's `kPreserveAllTensors`).
pub fn preserve_all(locs: &mut [Loc], end: u16) {
    for l in locs.iter_mut().filter(|l| l.place() == Place::Pending) {
        l.first = 0;
        l.last = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locs<const N: usize>() -> [Loc; N] {
        [Loc::default(); N]
    }

    #[test]
    fn lifetimes_span_write_to_last_read() {
        let mut l = locs::<3>();
        model_input(&mut l, 0, 8).unwrap();
        write(&mut l, 1, 1, 4, 0).unwrap();
        read(&mut l, 0, 0, 0).unwrap();
        read(&mut l, 1, 1, 2).unwrap();
        assert_eq!((l[0].first, l[0].last), (0, 0));
        assert_eq!((l[1].first, l[1].last), (0, 2));
        assert_eq!(l[2].place(), Place::Unused);
    }

    #[test]
    fn alias_reads_extend_the_root() {
        let mut l = locs::<3>();
        write(&mut l, 0, 0, 16, 0).unwrap();
        alias(&mut l, 1, 1, 0, 16, 1).unwrap();
        alias(&mut l, 2, 2, 1, 16, 2).unwrap();
        assert_eq!(l[2].place(), Place::Alias(0), "aliases point at the root");
        read(&mut l, 2, 2, 5).unwrap();
        assert_eq!(l[0].last, 5);
        model_output(&mut l, 2, 9);
        assert_eq!(l[0].last, 9);
    }

    #[test]
    fn bad_graphs_are_errors() {
        let mut l = locs::<2>();
        assert!(matches!(
            read(&mut l, 0, 7, 0),
            Err(Error::InvalidGraph { index: 7, .. })
        ));
        write(&mut l, 1, 1, 4, 0).unwrap();
        assert!(write(&mut l, 1, 1, 4, 1).is_err());
        assert!(alias(&mut l, 1, 1, 0, 4, 1).is_err());
        constant(&mut l, 0, 100, 4).unwrap();
        read(&mut l, 0, 0, 3).unwrap();
        assert_eq!(l[0].place(), Place::Const(100));
    }

    #[test]
    fn planned_buffers_never_overlap_while_alive() {
        let mut l = locs::<4>();
        model_input(&mut l, 0, 10).unwrap();
        write(&mut l, 1, 1, 6, 0).unwrap();
        read(&mut l, 0, 0, 0).unwrap();
        write(&mut l, 2, 2, 10, 1).unwrap();
        read(&mut l, 1, 1, 1).unwrap();
        write(&mut l, 3, 3, 3, 2).unwrap();
        read(&mut l, 2, 2, 2).unwrap();
        let peak = super::super::place(&mut l, &[], &mut [0; 4]).unwrap();
        let span = |x: &Loc| match x.place() {
            Place::Arena(o) => (o, o + x.len),
            p => panic!("{p:?}"),
        };
        for i in 0..4 {
            for j in i + 1..4 {
                let (a, b) = (l[i], l[j]);
                let t = a.first <= b.last && b.first <= a.last;
                let (a0, a1) = span(&a);
                let (b0, b1) = span(&b);
                assert!(!(t && a0 < b1 && b0 < a1), "{i} and {j} clash");
            }
        }
        // 0 and 2 (10 bytes each) can share; 1 lives alongside both.
        assert_eq!(peak, 20);
    }
}
