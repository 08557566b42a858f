//! The planner: execution timeline, tensor lifetimes, arena offsets, and the memory report.
//!
//! Timeline: subgraph 0's operators in order, with each CALL_ONCE expanded in place by its init
//! subgraph's operators (so a callee's tensors live inside the caller's step). Every operator is
//! one *step*; a tensor lives from the step that writes it to the last step that reads it
//! (subgraph-0 inputs from step 0, subgraph-0 outputs to the end).
//!
//! RESHAPE, SQUEEZE and EXPAND_DIMS never copy: their output is an *alias* of their input's
//! bytes (tensors are written once, so sharing is always safe) and the alias's reads extend the
//! root's lifetime.
//!
//! Offsets: greedy by size, like TFLM's `GreedyMemoryPlanner` — the largest unplaced buffer goes
//! to the lowest offset where it overlaps no already-placed buffer that is alive at the same time.
//! Unlike TFLM, buffers are aligned to 4 bytes, not 16 (kernels read bytes, never typed pointers).
//! The planner keeps no memory of its own: its working state is the per-tensor [`Loc`] table
//! that the interpreter keeps in the arena anyway, plus an offset-sorted id list in arena bytes
//! the interpreter has not filled yet (a speed-up only: the offsets are the same without it).

use crate::error::Error;
use crate::model::Model;

pub mod liveness;

/// Alignment of tensor buffers in the arena, in bytes.
pub const TENSOR_ALIGN: u32 = 4;
/// The deepest CALL_ONCE nesting supported.
pub const MAX_CALL_DEPTH: usize = 4;
/// The most subgraphs a model may have.
pub const MAX_SUBGRAPHS: usize = 16;

const KIND_SHIFT: u32 = 28;
const OFF_MASK: u32 = (1 << KIND_SHIFT) - 1;

/// Where a tensor's bytes live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Not used by any reachable operator.
    Unused,
    /// In the arena's tensor region at this byte offset.
    Arena(u32),
    /// Constant data in the model at this byte offset.
    Const(u32),
    /// A resource-variable handle: no data; the variable has this id.
    Resource(u32),
    /// Same bytes as global tensor `id` (RESHAPE/SQUEEZE/EXPAND_DIMS output).
    Alias(u32),
    /// Needs arena space; not placed yet (only during planning).
    Pending,
}

/// Per-tensor planning record, kept in the arena's persistent section (12 bytes).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Loc {
    tag_off: u32,
    /// Bytes of the tensor's data.
    pub len: u32,
    /// First step that needs the bytes (`u16::MAX` if none yet).
    pub first: u16,
    /// Last step that needs the bytes.
    pub last: u16,
}

crate::ops::stored::no_uninit!(Loc {
    tag_off: u32,
    len: u32,
    first: u16,
    last: u16
});

impl Default for Loc {
    fn default() -> Self {
        Loc {
            tag_off: 0,
            len: 0,
            first: u16::MAX,
            last: 0,
        }
    }
}

impl Loc {
    /// Where the bytes are.
    pub fn place(&self) -> Place {
        let off = self.tag_off & OFF_MASK;
        match self.tag_off >> KIND_SHIFT {
            1 => Place::Arena(off),
            2 => Place::Const(off),
            3 => Place::Resource(off),
            4 => Place::Alias(off),
            5 => Place::Pending,
            _ => Place::Unused,
        }
    }
    /// Set the place; an offset of 2^28 or more is `LimitExceeded` (it shares a word with the kind).
    pub(crate) fn set(&mut self, p: Place) -> Result<(), Error> {
        let (k, off) = match p {
            Place::Unused => (0, 0),
            Place::Arena(o) => (1, o),
            Place::Const(o) => (2, o),
            Place::Resource(o) => (3, o),
            Place::Alias(o) => (4, o),
            Place::Pending => (5, 0),
        };
        if off > OFF_MASK {
            return Err(Error::LimitExceeded {
                what: "bytes of offset (256 MiB)",
                limit: OFF_MASK,
            });
        }
        self.tag_off = (k << KIND_SHIFT) | off;
        Ok(())
    }
    /// True if alive at `step`.
    pub fn alive_at(&self, step: u16) -> bool {
        self.first != u16::MAX && self.first <= step && step <= self.last
    }
    fn overlaps_in_time(&self, o: &Loc) -> bool {
        self.first <= o.last && o.first <= self.last
    }
    pub(crate) fn touch(&mut self, step: u16) {
        self.first = self.first.min(step);
        self.last = self.last.max(step);
    }
}

/// Per-subgraph index bases into the global tensor and operator tables.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bases {
    /// Global id of the subgraph's tensor 0.
    pub tensor: [u32; MAX_SUBGRAPHS],
    /// Global id of the subgraph's operator 0.
    pub op: [u32; MAX_SUBGRAPHS],
    /// Number of subgraphs.
    pub count: usize,
    /// Total tensors over all subgraphs.
    pub tensors: usize,
    /// Total operators over all subgraphs.
    pub ops: usize,
}

impl Bases {
    /// Index bases for `model`.
    pub fn new(model: &Model<'_>) -> Result<Bases, Error> {
        let count = model.subgraph_count();
        if count > MAX_SUBGRAPHS {
            return Err(Error::LimitExceeded {
                what: "subgraphs",
                limit: MAX_SUBGRAPHS as u32,
            });
        }
        let mut b = Bases {
            count,
            ..Bases::default()
        };
        for s in 0..count {
            let sg = model.subgraph(s).ok_or(Error::InvalidGraph {
                what: "subgraph",
                index: s as i32,
            })?;
            b.tensor[s] = b.tensors as u32;
            b.op[s] = b.ops as u32;
            b.tensors += sg.tensor_count();
            b.ops += sg.operator_count();
        }
        Ok(b)
    }
}

/// One step of the timeline: operator `op` of subgraph `subgraph`.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// Step number.
    pub step: u16,
    /// Subgraph index.
    pub subgraph: usize,
    /// Operator index within the subgraph.
    pub op: usize,
}

/// Visit the timeline in order. `callee(subgraph, op)` returns the init subgraph a CALL_ONCE
/// operator calls (or `None`), so the walk can expand it in place.
pub fn walk(
    model: &Model<'_>,
    mut callee: impl FnMut(usize, usize) -> Result<Option<usize>, Error>,
    mut visit: impl FnMut(Step) -> Result<(), Error>,
) -> Result<u16, Error> {
    let mut stack = [(0usize, 0usize); MAX_CALL_DEPTH];
    let mut depth = 1;
    let mut step: u32 = 0;
    while depth > 0 {
        let (s, k) = stack[depth - 1];
        let n = model.subgraph(s).map_or(0, |sg| sg.operator_count());
        if k >= n {
            depth -= 1;
            continue;
        }
        stack[depth - 1].1 = k + 1;
        if step >= u16::MAX as u32 {
            return Err(Error::LimitExceeded {
                what: "operator steps",
                limit: u16::MAX as u32 - 1,
            });
        }
        visit(Step {
            step: step as u16,
            subgraph: s,
            op: k,
        })?;
        step += 1;
        if let Some(c) = callee(s, k)? {
            if c >= model.subgraph_count() || stack[..depth].iter().any(|&(x, _)| x == c) {
                return Err(Error::InvalidGraph {
                    what: "CALL_ONCE subgraph",
                    index: c as i32,
                });
            }
            if depth == MAX_CALL_DEPTH {
                return Err(Error::LimitExceeded {
                    what: "nested CALL_ONCE levels",
                    limit: MAX_CALL_DEPTH as u32,
                });
            }
            stack[depth] = (c, 0);
            depth += 1;
        }
    }
    Ok(step as u16)
}

/// Follow aliases to the tensor that owns the bytes.
pub fn root(locs: &[Loc], mut g: usize) -> usize {
    for _ in 0..locs.len() {
        match locs.get(g).map(|l| l.place()) {
            Some(Place::Alias(r)) => g = r as usize,
            _ => break,
        }
    }
    g
}

/// Place every `Pending` tensor in the arena (greedy by size, first fit in offset order).
/// Returns the tensor region's peak size in bytes.
///
/// `scratch` only changes the speed, never an offset: with room for one `u32` per arena buffer
/// (placed or pending) it keeps the placed buffers' ids sorted by offset, as TFLM's
/// `GreedyMemoryPlanner` does, and each first fit is one pass; with less, each first fit
/// re-scans the table until nothing moves (O(placed) passes per buffer for adversarial orders).
pub fn place(locs: &mut [Loc], scratch: &mut [u32]) -> Result<u32, Error> {
    let buffers = locs
        .iter()
        .filter(|l| matches!(l.place(), Place::Arena(_) | Place::Pending))
        .count();
    let mut sorted = scratch.get_mut(..buffers);
    let mut placed = 0;
    if let Some(s) = sorted.as_deref_mut() {
        for (g, l) in locs.iter().enumerate() {
            if let Place::Arena(_) = l.place() {
                s[placed] = g as u32;
                placed += 1;
            }
        }
        s[..placed].sort_unstable_by_key(|&g| arena_offset(locs, g));
    }
    let mut peak: u32 = 0;
    loop {
        // Largest pending buffer; ties go to the earlier first step, then the lower id.
        let mut best: Option<usize> = None;
        for (g, l) in locs.iter().enumerate() {
            if l.place() != Place::Pending {
                continue;
            }
            best = match best {
                Some(b)
                    if (locs[b].len, u16::MAX - locs[b].first) >= (l.len, u16::MAX - l.first) =>
                {
                    Some(b)
                }
                _ => Some(g),
            };
        }
        let Some(b) = best else { break };
        let me = locs[b];
        let size = align_up(me.len)?;
        let at = match sorted.as_deref_mut() {
            Some(s) => {
                let at = first_fit_sorted(locs, &s[..placed], &me, size)?;
                // Insert `b` after every buffer at or below `at`: the list stays sorted.
                let pos = s[..placed].partition_point(|&g| arena_offset(locs, g) <= at);
                s.copy_within(pos..placed, pos + 1);
                s[pos] = b as u32;
                placed += 1;
                at
            }
            None => first_fit_scan(locs, &me, size)?,
        };
        locs[b].set(Place::Arena(at))?;
        peak = peak.max(at.checked_add(size).ok_or(Error::LimitExceeded {
            what: "arena bytes",
            limit: u32::MAX,
        })?);
    }
    Ok(peak)
}

/// Placed buffer `l` against a candidate offset `at` for `me` (`size` bytes): the end of `l`
/// if the two meet in time and in bytes (every offset in `[at, end of l)` meets `l`, so the
/// first fit is never below it), else `None`.
fn conflict(l: &Loc, me: &Loc, at: u32, size: u32) -> Result<Option<u32>, Error> {
    let Place::Arena(o) = l.place() else {
        return Ok(None);
    };
    let end = o.saturating_add(align_up(l.len)?);
    Ok((l.overlaps_in_time(me) && o < at.saturating_add(size) && at < end).then_some(end))
}

/// Byte offset of arena tensor `g` (0 for anything else: never asked).
fn arena_offset(locs: &[Loc], g: u32) -> u32 {
    match locs.get(g as usize).map(Loc::place) {
        Some(Place::Arena(o)) => o,
        _ => 0,
    }
}

/// Lowest offset for `me` over `sorted` (placed ids, ascending offset): one pass, since once a
/// buffer starts at or above the candidate's end, so does every later one.
fn first_fit_sorted(locs: &[Loc], sorted: &[u32], me: &Loc, size: u32) -> Result<u32, Error> {
    let mut at: u32 = 0;
    for l in sorted.iter().filter_map(|&g| locs.get(g as usize)) {
        let Place::Arena(o) = l.place() else { continue };
        if o >= at.saturating_add(size) {
            break;
        }
        if let Some(end) = conflict(l, me, at, size)? {
            at = end;
        }
    }
    Ok(at)
}

/// Lowest offset for `me`, with no memory: a conflict moves the candidate to the end of the
/// buffer it met and the scan goes on; a full pass without a move ends the search at the first
/// fit, whatever the order of the moves. Passes alternate direction so that buffers placed in
/// table order or in reverse are climbed in one pass.
fn first_fit_scan(locs: &[Loc], me: &Loc, size: u32) -> Result<u32, Error> {
    let mut at: u32 = 0;
    let mut forward = true;
    loop {
        let mut moved = false;
        let mut visit = |l: &Loc| -> Result<(), Error> {
            if let Some(end) = conflict(l, me, at, size)? {
                at = end;
                moved = true;
            }
            Ok(())
        };
        if forward {
            locs.iter().try_for_each(&mut visit)?;
        } else {
            locs.iter().rev().try_for_each(&mut visit)?;
        }
        if !moved {
            return Ok(at);
        }
        forward = !forward;
    }
}

/// Round up to [`TENSOR_ALIGN`].
pub fn align_up(n: u32) -> Result<u32, Error> {
    n.checked_add(TENSOR_ALIGN - 1)
        .map(|v| v & !(TENSOR_ALIGN - 1))
        .ok_or(Error::LimitExceeded {
            what: "tensor bytes",
            limit: u32::MAX,
        })
}

/// Every byte the model needs, by purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MemoryReport {
    /// Whole arena the caller must provide (persistent + tensors + alignment slack).
    pub arena_bytes: u32,
    /// Persistent part of the arena: per-tensor records, prepared kernels, per-channel words.
    pub persistent_bytes: u32,
    /// Of which: prepared kernel parameters (one per operator).
    pub kernel_bytes: u32,
    /// Of which: per-tensor placement records.
    pub tensor_table_bytes: u32,
    /// Of which: per-channel multipliers and other precomputed words.
    pub word_bytes: u32,
    /// Peak of the planned tensor region (activations).
    pub tensor_bytes: u32,
    /// Resource-variable state (separate buffer, persists across invokes).
    pub state_bytes: u32,
    /// Constant data in the model (weights, biases, shape vectors).
    pub weights_bytes: u32,
    /// Operator steps in the timeline (CALL_ONCE subgraphs included).
    pub steps: u32,
}

/// The placement of one tensor, for reports and the visualizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorPlacement {
    /// Subgraph index.
    pub subgraph: usize,
    /// Tensor index within the subgraph.
    pub tensor: usize,
    /// Where the bytes live (aliases resolved to their root's place).
    pub place: Place,
    /// True if this tensor shares another tensor's bytes (RESHAPE/SQUEEZE/EXPAND_DIMS output).
    pub alias: bool,
    /// Bytes of data.
    pub bytes: u32,
    /// First step alive (`None` if never used).
    pub first_step: Option<u16>,
    /// Last step alive.
    pub last_step: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random lifetimes and sizes (xorshift, fixed seed): the sorted list and the table scan
    /// give the same offsets, and no two buffers alive together share a byte.
    #[test]
    fn sorted_first_fit_equals_the_scan() {
        let mut seed: u32 = 0x9e37_79b9;
        let mut next = |m: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % m
        };
        for case in 0..200 {
            let n = 1 + next(60) as usize;
            let mut locs = [Loc::default(); 60];
            for l in &mut locs[..n] {
                let first = next(20) as u16;
                l.first = first;
                l.last = first + next(8) as u16;
                l.len = next(if case % 2 == 0 { 40 } else { 5 });
                l.set(Place::Pending).unwrap();
            }
            let mut scanned = locs;
            let mut sorted = locs;
            let peak_scan = place(&mut scanned[..n], &mut []).unwrap();
            let peak_sorted = place(&mut sorted[..n], &mut [0; 60]).unwrap();
            assert_eq!(peak_scan, peak_sorted, "case {case}");
            for (a, b) in scanned[..n].iter().zip(&sorted[..n]) {
                assert_eq!(a.place(), b.place(), "case {case}");
            }
            for (i, a) in sorted[..n].iter().enumerate() {
                for b in &sorted[i + 1..n] {
                    let (Place::Arena(x), Place::Arena(y)) = (a.place(), b.place()) else {
                        panic!("unplaced");
                    };
                    let meet = x < y + align_up(b.len).unwrap() && y < x + align_up(a.len).unwrap();
                    assert!(!(a.overlaps_in_time(b) && meet), "case {case}: overlap");
                }
            }
        }
    }
}
