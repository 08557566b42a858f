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
//! One exception ([`Overlap`]): an operator that runs in place (`ops::in_place_gap`) may have
//! its output overlap the input it reads last, if the input starts at least `gap` bytes above
//! the output's start.
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

/// Permission for an operator's output to share bytes with an input that dies at that
/// operator: allowed when `input offset − output offset >= gap`, and only if the input's last
/// step is the output's first (the operator's step), so nothing else sees the shared bytes.
/// Kept in the arena bytes the kernel table later fills (12 bytes, like a kernel slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Overlap {
    /// Global id of the output tensor (`u32::MAX`: no permission).
    pub output: u32,
    /// Global id of the input tensor (its root: aliases resolved).
    pub input: u32,
    /// Least `input offset − output offset`, in bytes.
    pub gap: i32,
}

crate::ops::stored::no_uninit!(Overlap {
    output: u32,
    input: u32,
    gap: i32
});

impl Overlap {
    /// No permission.
    pub const NONE: Overlap = Overlap {
        output: u32::MAX,
        input: u32::MAX,
        gap: 0,
    };
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

/// The order in which [`place`] takes buffers (each goes to its first fit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Largest first; ties to the earlier first step, then the lower id (TFLM's order).
    Size,
    /// Latest-born first; ties to the larger, then the lower id. An in-place operator's output
    /// is then placed before its input, which can start inside it ([`Overlap`]): a chain of
    /// in-place layers stacks up by its gaps instead of alternating between two buffers.
    LatestFirst,
}

impl Order {
    /// Sort key: the pending buffer with the greatest key goes next.
    fn key(self, l: &Loc) -> (u32, u32) {
        match self {
            Order::Size => (l.len, (u16::MAX - l.first) as u32),
            Order::LatestFirst => (l.first as u32, l.len),
        }
    }
}

/// Place every arena tensor (`Pending`, or `Arena` from an earlier plan: planned again),
/// letting the pairs in `overlaps` share bytes as far as each permits. Returns the tensor
/// region's peak size in bytes.
///
/// Greedy: each buffer in turn goes to the lowest offset where it meets no placed buffer
/// alive at the same time. By size ([`Order::Size`]) when no overlap is permitted; else
/// also latest-born first ([`Order::LatestFirst`]), keeping the order with the lower peak
/// (by size on a tie), so a model without in-place operators plans exactly as before.
///
/// `scratch` only changes the speed, never an offset: with room for one `u32` per arena buffer
/// it keeps the placed buffers' ids sorted by offset, as TFLM's `GreedyMemoryPlanner` does,
/// and each first fit is one pass (plus one to confirm when an overlap permission moved the
/// candidate); with less, each first fit re-scans the table until nothing moves (O(placed)
/// passes per buffer for adversarial orders).
pub fn place(locs: &mut [Loc], overlaps: &[Overlap], scratch: &mut [u32]) -> Result<u32, Error> {
    if !overlaps.iter().any(|v| v.output != u32::MAX) {
        return place_in_order(locs, &[], scratch, Order::Size);
    }
    let by_size = place_in_order(locs, overlaps, scratch, Order::Size)?;
    let latest = place_in_order(locs, overlaps, scratch, Order::LatestFirst)?;
    if latest < by_size {
        return Ok(latest);
    }
    place_in_order(locs, overlaps, scratch, Order::Size)
}

/// [`place`] in one order.
pub fn place_in_order(
    locs: &mut [Loc],
    overlaps: &[Overlap],
    scratch: &mut [u32],
    order: Order,
) -> Result<u32, Error> {
    let mut buffers = 0;
    for l in locs.iter_mut() {
        if matches!(l.place(), Place::Arena(_) | Place::Pending) {
            l.set(Place::Pending)?;
            buffers += 1;
        }
    }
    let mut sorted = scratch.get_mut(..buffers);
    let mut placed = 0;
    let mut peak: u32 = 0;
    loop {
        let mut best: Option<usize> = None;
        for (g, l) in locs.iter().enumerate() {
            if l.place() != Place::Pending {
                continue;
            }
            best = match best {
                Some(b) if order.key(&locs[b]) >= order.key(l) => Some(b),
                _ => Some(g),
            };
        }
        let Some(b) = best else { break };
        let size = align_up(locs[b].len)?;
        let at = match sorted.as_deref_mut() {
            Some(s) => {
                let at = first_fit_sorted(locs, overlaps, &s[..placed], b, size)?;
                // Insert `b` after every buffer at or below `at`: the list stays sorted.
                let pos = s[..placed].partition_point(|&g| arena_offset(locs, g) <= at);
                s.copy_within(pos..placed, pos + 1);
                s[pos] = b as u32;
                placed += 1;
                at
            }
            None => first_fit_scan(locs, overlaps, b, size)?,
        };
        locs[b].set(Place::Arena(at))?;
        peak = peak.max(at.checked_add(size).ok_or(Error::LimitExceeded {
            what: "arena bytes",
            limit: u32::MAX,
        })?);
    }
    Ok(peak)
}

/// Placed buffer `g` against a candidate offset `at` for buffer `me` (`size` bytes): where
/// the next candidate must start if the two meet in time and in bytes (every offset from `at`
/// up to it meets `g` too, so the first fit is never below it), else `None`. Normally that is
/// the end of `g`; if `me` is an input allowed to overlap output `g` from `gap` bytes above
/// its start, it is that point.
fn conflict(
    locs: &[Loc],
    overlaps: &[Overlap],
    g: usize,
    me: usize,
    at: u32,
    size: u32,
) -> Result<Option<u32>, Error> {
    let (Some(l), Some(m)) = (locs.get(g), locs.get(me)) else {
        return Ok(None);
    };
    let Place::Arena(o) = l.place() else {
        return Ok(None);
    };
    let end = o.saturating_add(align_up(l.len)?);
    if !(l.overlaps_in_time(m) && o < at.saturating_add(size) && at < end) {
        return Ok(None);
    }
    let rel = at as i64 - o as i64;
    Ok(match permitted(locs, overlaps, me, g) {
        // `me` is the input: allowed from `o + gap` on (below `end`: see `permitted`).
        Some((true, gap)) if rel >= gap as i64 => None,
        Some((true, gap)) => Some(align_up((o as i64 + gap as i64) as u32)?),
        // `me` is the output: allowed up to `o - gap`; above that, past the input's end.
        Some((false, gap)) if -rel >= gap as i64 => None,
        _ => Some(end),
    })
}

/// The overlap permission between buffers `me` and `other`, if any: (`me` is the input, gap).
/// Only while the input's last step is the output's first, and only for a gap below the
/// output's length (otherwise the two could not share a byte anyway).
fn permitted(locs: &[Loc], overlaps: &[Overlap], me: usize, other: usize) -> Option<(bool, i32)> {
    let pair = |out: usize, inp: usize| {
        overlaps
            .iter()
            .find(|v| v.output as usize == out && v.input as usize == inp)
    };
    let (v, me_is_input) = match pair(other, me) {
        Some(v) => (v, true),
        None => (pair(me, other)?, false),
    };
    let (out, inp) = (locs.get(v.output as usize)?, locs.get(v.input as usize)?);
    let ok = inp.last == out.first && (v.gap as i64) < out.len as i64;
    ok.then_some((me_is_input, v.gap))
}

/// Byte offset of arena tensor `g` (0 for anything else: never asked).
fn arena_offset(locs: &[Loc], g: u32) -> u32 {
    match locs.get(g as usize).map(Loc::place) {
        Some(Place::Arena(o)) => o,
        _ => 0,
    }
}

/// Lowest offset for `me` over `sorted` (placed ids, ascending offset): one pass, since once a
/// buffer starts at or above the candidate's end, so does every later one; repeated until a
/// pass moves nothing, since an output's permission to overlap an input can end when the
/// candidate moves up past it (without permissions the second pass only confirms).
fn first_fit_sorted(
    locs: &[Loc],
    overlaps: &[Overlap],
    sorted: &[u32],
    me: usize,
    size: u32,
) -> Result<u32, Error> {
    let mut at: u32 = 0;
    loop {
        let start = at;
        for &g in sorted {
            let Some(Place::Arena(o)) = locs.get(g as usize).map(Loc::place) else {
                continue;
            };
            if o >= at.saturating_add(size) {
                break;
            }
            if let Some(next) = conflict(locs, overlaps, g as usize, me, at, size)? {
                at = next;
            }
        }
        if at == start || overlaps.is_empty() {
            return Ok(at);
        }
    }
}

/// Lowest offset for `me`, with no memory: a conflict moves the candidate up to where it
/// could fit and the scan goes on; a full pass without a move ends the search at the first
/// fit, whatever the order of the moves. Passes alternate direction so that buffers placed in
/// table order or in reverse are climbed in one pass.
fn first_fit_scan(locs: &[Loc], overlaps: &[Overlap], me: usize, size: u32) -> Result<u32, Error> {
    let mut at: u32 = 0;
    let mut forward = true;
    loop {
        let mut moved = false;
        let mut visit = |g: usize| -> Result<(), Error> {
            if let Some(next) = conflict(locs, overlaps, g, me, at, size)? {
                at = next;
                moved = true;
            }
            Ok(())
        };
        if forward {
            (0..locs.len()).try_for_each(&mut visit)?;
        } else {
            (0..locs.len()).rev().try_for_each(&mut visit)?;
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

    /// Random lifetimes and sizes (xorshift, fixed seed), with and without in-place
    /// permissions between buffers that hand over at one step: the sorted list and the table
    /// scan give the same offsets, in both orders, and no two buffers alive together share a
    /// byte unless a permission allows exactly that layout.
    #[test]
    fn sorted_first_fit_equals_the_scan() {
        let mut seed: u32 = 0x9e37_79b9;
        let mut next = |m: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % m
        };
        let mut shared = 0;
        for case in 0..400 {
            let n = 1 + next(60) as usize;
            let mut locs = [Loc::default(); 60];
            for l in &mut locs[..n] {
                let first = next(20) as u16;
                l.first = first;
                l.last = first + next(8) as u16;
                l.len = next(if case % 2 == 0 { 40 } else { 5 });
                l.set(Place::Pending).unwrap();
            }
            let mut overlaps = [Overlap::NONE; 8];
            if case % 4 >= 2 {
                for v in overlaps.iter_mut() {
                    let (i, o) = (next(n as u32), next(n as u32));
                    let (li, lo) = (locs[i as usize], locs[o as usize]);
                    if i != o && li.last == lo.first && lo.len > 0 {
                        let gap = next(2 * lo.len) as i32 - lo.len as i32;
                        *v = Overlap {
                            output: o,
                            input: i,
                            gap,
                        };
                    }
                }
            }
            for order in [Order::Size, Order::LatestFirst] {
                let mut scanned = locs;
                let mut sorted = locs;
                let peak_scan =
                    place_in_order(&mut scanned[..n], &overlaps, &mut [], order).unwrap();
                let peak_sorted =
                    place_in_order(&mut sorted[..n], &overlaps, &mut [0; 60], order).unwrap();
                assert_eq!(peak_scan, peak_sorted, "case {case}");
                for (a, b) in scanned[..n].iter().zip(&sorted[..n]) {
                    assert_eq!(a.place(), b.place(), "case {case}");
                }
                for (i, a) in sorted[..n].iter().enumerate() {
                    for (j, b) in sorted[..n].iter().enumerate().skip(i + 1) {
                        let (Place::Arena(x), Place::Arena(y)) = (a.place(), b.place()) else {
                            panic!("unplaced");
                        };
                        let meet =
                            x < y + align_up(b.len).unwrap() && y < x + align_up(a.len).unwrap();
                        if !(a.overlaps_in_time(b) && meet) {
                            continue;
                        }
                        // Only a permitted pair, input at least `gap` above the output.
                        let ok = overlaps.iter().any(|v| {
                            let fits = |inp: usize, out: usize, at_in: u32, at_out: u32| {
                                v.input as usize == inp
                                    && v.output as usize == out
                                    && at_in as i64 - at_out as i64 >= v.gap as i64
                            };
                            fits(i, j, x, y) || fits(j, i, y, x)
                        });
                        assert!(ok, "case {case}: overlap");
                        shared += 1;
                    }
                }
            }
            // The orders tried keep the better plan: never worse than TFLM's order alone.
            let mut by_size = locs;
            let peak = place(&mut locs[..n], &overlaps, &mut [0; 60]).unwrap();
            let size_only = place_in_order(&mut by_size[..n], &overlaps, &mut [], Order::Size);
            assert!(peak <= size_only.unwrap(), "case {case}");
        }
        assert!(shared >= 10, "{shared} permitted overlaps used");
    }
}
