//! Robustness: no input, however malformed, truncated or hostile, makes the engine panic.
//!
//! - Property tests mutate real models (the golden op models always; the reference models when
//!   present): byte flips, truncation, inserted/deleted bytes, FlatBuffer offsets overwritten
//!   with boundary values, hostile scales and zero points. Each mutant goes through
//!   parse → prepare → invoke; the property is simply that these calls return (a panic fails the
//!   test; nothing is caught) and that every error is an `Error` with a non-empty, consistent
//!   message.
//! - Exhaustive sweeps: every truncation length of the op models, every structural boundary of
//!   the reference models, every offset field of every op model set to each boundary value.
//! - One test per named error, checking the variant and that the message names the op/tensor.
//! - Regression cases found by the fuzzer (`engine/fuzz`, `scripts/fuzz.sh`) under
//!   `tests/fixtures/malformed/`.
//!
//! Case counts: `PROPTEST_CASES` overrides the default (see `CASES`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;

use mote_engine::interpreter::InterpreterOptions;
use mote_engine::model::BuiltinOp;
use mote_engine::{Error, Interpreter, Model};
use proptest::prelude::*;
use proptest::sample::Index;

/// The largest arena or state buffer the harness grants (as the fuzz target does).
const CAP: usize = 1 << 20;

/// Default proptest cases per mutation test (each test picks models at random).
const CASES: u32 = 10_000;

// ---------------------------------------------------------------------------------------------
// The harness: the whole engine over some bytes.

/// Check what an error says about itself: a message, and numbers that agree with the claim.
fn check_error(e: &Error) {
    let msg = e.to_string();
    assert!(!msg.trim().is_empty(), "{e:?} has an empty message");
    match *e {
        Error::Truncated {
            offset,
            needed,
            available,
        } => {
            assert!(
                offset as u64 + needed as u64 > available as u64,
                "{e:?} is not a truncation"
            )
        }
        Error::ArenaTooSmall { needed, available } | Error::StateTooSmall { needed, available } => {
            assert!(needed > available, "{e:?} asks for no more than was given")
        }
        Error::UnsupportedOp { op, .. }
        | Error::UnsupportedType { op, .. }
        | Error::ShapeMismatch { op, .. } => {
            assert!(
                msg.contains(op.name()),
                "{msg:?} does not name {}",
                op.name()
            )
        }
        _ => {}
    }
}

/// Parse, prepare (growing arena and state from what the errors ask, up to [`CAP`]), fill the
/// inputs from the model's own bytes, invoke a few times. Returns the first error.
fn exercise(bytes: &[u8]) -> Result<(), Error> {
    TALLY[0].fetch_add(1, Relaxed);
    let r = exercise_inner(bytes);
    if let Err(e) = &r {
        check_error(e);
    }
    r
}

/// Mutants tried, parsed, prepared, run through every invoke (for the printed summaries).
static TALLY: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

fn tally() -> String {
    let t: Vec<usize> = TALLY.iter().map(|a| a.load(Relaxed)).collect();
    format!(
        "so far in this process: {} inputs, {} parsed, {} prepared, {} ran every invoke",
        t[0], t[1], t[2], t[3]
    )
}

fn exercise_inner(bytes: &[u8]) -> Result<(), Error> {
    let model = Model::parse(bytes)?;
    TALLY[1].fetch_add(1, Relaxed);
    let (mut arena_len, mut state_len) = (0usize, 0usize);
    for _ in 0..6 {
        let mut arena = vec![0u8; arena_len];
        let mut state = vec![0u8; state_len];
        // Odd-length inputs also exercise the no-sharing plan (`preserve_all_tensors`).
        let options = InterpreterOptions {
            preserve_all_tensors: bytes.len() % 2 == 1,
        };
        match Interpreter::with_options(&model, &mut arena, &mut state, options) {
            Ok(mut interp) => {
                TALLY[2].fetch_add(1, Relaxed);
                run(&mut interp, bytes)?;
                TALLY[3].fetch_add(1, Relaxed);
                return Ok(());
            }
            Err(e @ Error::ArenaTooSmall { needed, available }) => {
                assert_eq!(available as usize, arena_len);
                if needed as usize > CAP {
                    return Err(e);
                }
                arena_len = needed as usize;
            }
            Err(e @ Error::StateTooSmall { needed, available }) => {
                assert_eq!(available as usize, state_len);
                if needed as usize > CAP {
                    return Err(e);
                }
                state_len = needed as usize;
            }
            Err(e) => return Err(e),
        }
    }
    panic!("arena/state sizes did not converge in 6 attempts");
}

fn run(interp: &mut Interpreter<'_, '_>, bytes: &[u8]) -> Result<(), Error> {
    assert!(interp.memory().arena_bytes as usize <= CAP);
    for round in 0..3usize {
        for i in 0..interp.input_count() {
            let buf = interp.input_mut(i)?;
            for (k, b) in buf.iter_mut().enumerate() {
                *b = bytes[(k * 31 + round * 7) % bytes.len()];
            }
        }
        interp.invoke()?;
        for i in 0..interp.output_count() {
            interp.output(i)?;
        }
    }
    interp.reset_state();
    interp.invoke()
}

// ---------------------------------------------------------------------------------------------
// The models.

struct Sample {
    name: String,
    bytes: Vec<u8>,
    layout: Layout,
}

/// Reference models (third-party; never committed): used when present.
const REFERENCE: &[&str] = common::REFERENCE_MODELS;

fn golden_ops_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ops")
}

fn load(name: String, path: &Path) -> Sample {
    let bytes = common::read(path);
    let layout = Layout::of(&bytes);
    Sample {
        name,
        bytes,
        layout,
    }
}

/// The project-made single-op models (always present).
fn op_models() -> &'static [Sample] {
    static M: OnceLock<Vec<Sample>> = OnceLock::new();
    M.get_or_init(|| {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden_ops_dir())
            .expect("tests/golden/ops")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("model.tflite").exists())
            .collect();
        dirs.sort();
        assert!(
            dirs.len() > 50,
            "expected the golden op models under tests/golden/ops"
        );
        dirs.iter()
            .map(|d| {
                load(
                    format!("ops/{}", d.file_name().unwrap().to_string_lossy()),
                    &d.join("model.tflite"),
                )
            })
            .collect()
    })
}

/// The reference models that are present.
fn reference_models() -> &'static [Sample] {
    static M: OnceLock<Vec<Sample>> = OnceLock::new();
    M.get_or_init(|| {
        REFERENCE
            .iter()
            .filter_map(|r| common::resolve(Path::new("."), r).map(|p| load(r.to_string(), &p)))
            .collect()
    })
}

/// Op models, then the reference models that are present.
fn all_models() -> &'static [&'static Sample] {
    static M: OnceLock<Vec<&'static Sample>> = OnceLock::new();
    M.get_or_init(|| op_models().iter().chain(reference_models()).collect())
}

fn model_named(name: &str) -> &'static Sample {
    all_models()
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no model {name}"))
}

// ---------------------------------------------------------------------------------------------
// A schema-aware walk of a valid model, to know where its structures are.

/// Where things are in a model file (byte positions).
#[derive(Default, Debug)]
struct Layout {
    /// Every stored `u32` offset (root, table fields, vector-of-tables elements).
    offsets: Vec<usize>,
    /// Every `i32` table→vtable offset, every vtable field entry (`u16`).
    vtables: Vec<usize>,
    /// Starts and ends of tables, vtables and vectors (truncation points).
    boundaries: Vec<usize>,
    /// Each quantization scale (`f32`).
    scales: Vec<usize>,
    /// Each quantization zero point (`i64`).
    zero_points: Vec<usize>,
    /// Each vector length prefix (`u32`).
    lengths: Vec<usize>,
}

/// Field kinds of the schema tables the walk descends into (slot order of schema.fbs).
#[derive(Clone, Copy)]
enum F {
    /// A scalar (or a field the walk does not descend into).
    S,
    /// A string or a vector of scalars with this element size.
    V(usize),
    /// Quantization scales / zero points.
    Scales,
    ZeroPoints,
    /// A sub-table of this schema.
    T(&'static [F]),
    /// A vector of tables of this schema.
    Ts(&'static [F]),
    /// A table whose schema the walk does not know (builtin options): offsets only.
    Any,
}

const QUANT: &[F] = &[
    F::V(4),
    F::V(4),
    F::Scales,
    F::ZeroPoints,
    F::S,
    F::Any,
    F::S,
];
const TENSOR: &[F] = &[
    F::V(4),
    F::S,
    F::S,
    F::V(1),
    F::T(QUANT),
    F::S,
    F::Any,
    F::V(4),
];
const OPERATOR: &[F] = &[
    F::S,
    F::V(4),
    F::V(4),
    F::S,
    F::Any,
    F::V(1),
    F::S,
    F::V(1),
    F::V(4),
    F::S,
    F::S,
    F::S,
    F::Any,
];
const SUBGRAPH: &[F] = &[F::Ts(TENSOR), F::V(4), F::V(4), F::Ts(OPERATOR), F::V(1)];
const OPCODE: &[F] = &[F::S, F::V(1), F::S, F::S];
const BUFFER: &[F] = &[F::V(1), F::S, F::S];
const METADATA: &[F] = &[F::V(1), F::S];
const TENSOR_MAP: &[F] = &[F::V(1), F::S];
const SIGNATURE: &[F] = &[F::Ts(TENSOR_MAP), F::Ts(TENSOR_MAP), F::V(1), F::S, F::S];
const MODEL: &[F] = &[
    F::S,
    F::Ts(OPCODE),
    F::Ts(SUBGRAPH),
    F::V(1),
    F::Ts(BUFFER),
    F::V(4),
    F::Ts(METADATA),
    F::Ts(SIGNATURE),
];

fn rd_u16(b: &[u8], p: usize) -> usize {
    u16::from_le_bytes([b[p], b[p + 1]]) as usize
}
fn rd_u32(b: &[u8], p: usize) -> usize {
    u32::from_le_bytes(b[p..p + 4].try_into().unwrap()) as usize
}

impl Layout {
    fn of(b: &[u8]) -> Layout {
        let mut l = Layout::default();
        l.offsets.push(0);
        l.boundaries.extend([0, 4, 8]);
        l.table(b, rd_u32(b, 0), MODEL);
        for v in [
            &mut l.offsets,
            &mut l.vtables,
            &mut l.boundaries,
            &mut l.scales,
            &mut l.zero_points,
            &mut l.lengths,
        ] {
            v.sort_unstable();
            v.dedup();
        }
        l.boundaries.retain(|&p| p <= b.len());
        l
    }

    /// Position of field `slot`'s value in the table at `t`.
    fn field(b: &[u8], t: usize, slot: usize) -> Option<usize> {
        let vt = (t as i64 - i32::from_le_bytes(b[t..t + 4].try_into().unwrap()) as i64) as usize;
        let vlen = rd_u16(b, vt);
        if 4 + 2 * slot >= vlen {
            return None;
        }
        match rd_u16(b, vt + 4 + 2 * slot) {
            0 => None,
            off => Some(t + off),
        }
    }

    fn table(&mut self, b: &[u8], t: usize, schema: &[F]) {
        let vt = (t as i64 - i32::from_le_bytes(b[t..t + 4].try_into().unwrap()) as i64) as usize;
        let (vlen, tlen) = (rd_u16(b, vt), rd_u16(b, vt + 2));
        self.vtables.push(t);
        self.vtables.extend((vt..vt + vlen).step_by(2));
        self.boundaries.extend([t, t + tlen, vt, vt + vlen]);
        let slots = (vlen - 4) / 2;
        for slot in 0..slots {
            let Some(p) = Layout::field(b, t, slot) else {
                continue;
            };
            let kind = schema.get(slot).copied().unwrap_or(F::S);
            if matches!(kind, F::S) {
                continue;
            }
            self.offsets.push(p);
            let target = p + rd_u32(b, p);
            match kind {
                F::S => {}
                F::Any => self.table(b, target, &[]),
                F::T(s) => self.table(b, target, s),
                F::V(_) | F::Ts(_) | F::Scales | F::ZeroPoints => {
                    let n = rd_u32(b, target);
                    let elem = match kind {
                        F::V(e) => e,
                        F::ZeroPoints => 8,
                        _ => 4,
                    };
                    let start = target + 4;
                    self.lengths.push(target);
                    self.boundaries.extend([target, start, start + n * elem]);
                    for i in 0..n {
                        let e = start + i * elem;
                        match kind {
                            F::Scales => self.scales.push(e),
                            F::ZeroPoints => self.zero_points.push(e),
                            F::Ts(s) => {
                                self.offsets.push(e);
                                self.table(b, e + rd_u32(b, e), s);
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// Values written over a stored offset or length (`len` is the file length).
fn boundary_u32(k: usize, len: usize) -> u32 {
    let len = len as u32;
    [
        0,
        1,
        4,
        len.wrapping_sub(1),
        len,
        len + 4,
        0x7fff_ffff,
        0x8000_0000,
        u32::MAX,
        u32::MAX - 3,
    ][k % 10]
}
const N_BOUNDARY: usize = 10;

const HOSTILE_SCALES: &[f32] = &[
    0.0,
    -0.0,
    -1.0,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::MIN_POSITIVE,
    1e-45,
    1e-30,
    1e30,
    f32::MAX,
    3.0e9,
    0.5,
    1.0,
];
const HOSTILE_ZERO_POINTS: &[i64] = &[
    -129,
    128,
    255,
    256,
    -32769,
    32768,
    i32::MAX as i64,
    i32::MIN as i64,
    i32::MAX as i64 + 1,
    i64::MAX,
    i64::MIN,
    -128,
    127,
];

#[derive(Clone, Debug)]
enum Mutation {
    Flips(Vec<(Index, u8)>),
    Truncate(Index),
    TruncateAtBoundary(Index),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Offset(Index, usize),
    VTable(Index, u16),
    Length(Index, usize),
    Scale(Index, usize),
    ZeroPoint(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop::collection::vec((any::<Index>(), 1u8..), 1..8).prop_map(Mutation::Flips),
        any::<Index>().prop_map(Mutation::Truncate),
        any::<Index>().prop_map(Mutation::TruncateAtBoundary),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), 0..N_BOUNDARY).prop_map(|(i, k)| Mutation::Offset(i, k)),
        (any::<Index>(), any::<u16>()).prop_map(|(i, v)| Mutation::VTable(i, v)),
        (any::<Index>(), 0..N_BOUNDARY).prop_map(|(i, k)| Mutation::Length(i, k)),
        (any::<Index>(), 0..HOSTILE_SCALES.len()).prop_map(|(i, k)| Mutation::Scale(i, k)),
        (any::<Index>(), 0..HOSTILE_ZERO_POINTS.len()).prop_map(|(i, k)| Mutation::ZeroPoint(i, k)),
    ]
}

fn put(b: &mut [u8], p: usize, v: &[u8]) {
    if let Some(dst) = b.get_mut(p..p + v.len()) {
        dst.copy_from_slice(v);
    }
}

/// Run `s` with `v` written at byte `p` (any outcome but a panic is fine); counts it in `n`.
fn exercise_patched(s: &Sample, p: usize, v: &[u8], n: &mut usize) {
    let mut b = s.bytes.clone();
    put(&mut b, p, v);
    let _ = exercise(&b);
    *n += 1;
}

/// `bytes` mutated by `m`; positions come from `l` (the layout of the unmutated model).
fn apply(bytes: &[u8], l: &Layout, m: &Mutation) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let len = b.len();
    match m {
        Mutation::Flips(f) => {
            for (i, x) in f {
                b[i.index(len)] ^= x;
            }
        }
        Mutation::Truncate(i) => b.truncate(i.index(len)),
        Mutation::TruncateAtBoundary(i) => b.truncate(*i.get(&l.boundaries)),
        Mutation::Insert(i, v) => {
            let at = i.index(len + 1);
            b.splice(at..at, v.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let at = i.index(len);
            b.drain(at..(at + n).min(len));
        }
        Mutation::Offset(i, k) => put(
            &mut b,
            *i.get(&l.offsets),
            &boundary_u32(*k, len).to_le_bytes(),
        ),
        Mutation::VTable(i, v) => {
            let p = *i.get(&l.vtables);
            put(&mut b, p, &v.to_le_bytes());
        }
        Mutation::Length(i, k) => put(
            &mut b,
            *i.get(&l.lengths),
            &boundary_u32(*k, len).to_le_bytes(),
        ),
        Mutation::Scale(i, k) => {
            if !l.scales.is_empty() {
                put(&mut b, *i.get(&l.scales), &HOSTILE_SCALES[*k].to_le_bytes())
            }
        }
        Mutation::ZeroPoint(i, k) => {
            if !l.zero_points.is_empty() {
                put(
                    &mut b,
                    *i.get(&l.zero_points),
                    &HOSTILE_ZERO_POINTS[*k].to_le_bytes(),
                )
            }
        }
    }
    b
}

fn config() -> ProptestConfig {
    // `PROPTEST_CASES` (read by `ProptestConfig::default`) overrides the default count.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// One mutation of any model.
    #[test]
    fn mutated_models_never_panic(model in any::<Index>(), m in mutation()) {
        let s = *model.get(all_models());
        let _ = exercise(&apply(&s.bytes, &s.layout, &m));
    }

    /// Several stacked mutations of an op model (reaches deeper into prepare and eval).
    #[test]
    fn stacked_mutations_never_panic(model in any::<Index>(), ms in prop::collection::vec(mutation(), 2..5)) {
        let s = model.get(op_models());
        let mut b = s.bytes.clone();
        for m in &ms {
            // Later mutations address the original layout: positions may be stale, which is fine.
            b = apply(&b, &s.layout, m);
            if b.is_empty() {
                break;
            }
        }
        let _ = exercise(&b);
    }

    /// Random bytes with a valid header (exercises the reader's first checks).
    #[test]
    fn random_bytes_never_panic(mut b in prop::collection::vec(any::<u8>(), 0..512), root in 0u32..64) {
        if b.len() >= 8 {
            b[0..4].copy_from_slice(&root.to_le_bytes());
            b[4..8].copy_from_slice(b"TFL3");
        }
        let _ = exercise(&b);
    }
}

// ---------------------------------------------------------------------------------------------
// Exhaustive sweeps.

/// Run `s` cut to each length of `cuts` that is shorter than it; `check` sees each cut and its
/// outcome. Returns how many ran.
fn exercise_cuts(
    s: &Sample,
    cuts: impl IntoIterator<Item = usize>,
    mut check: impl FnMut(usize, Result<(), Error>),
) -> usize {
    let mut n = 0;
    for cut in cuts.into_iter().filter(|&c| c < s.bytes.len()) {
        check(cut, exercise(&s.bytes[..cut]));
        n += 1;
    }
    n
}

#[test]
fn every_truncation_of_op_models_is_an_error() {
    let mut n = 0;
    for s in op_models() {
        n += exercise_cuts(s, 0..s.bytes.len(), |cut, r| {
            // A cut file is reported as what it is.
            assert!(
                matches!(r, Err(Error::Truncated { .. })),
                "{} cut to {cut} bytes: {r:?}",
                s.name
            );
        });
    }
    let models = op_models().len();
    println!("{n} truncations of {models} op models; {}", tally());
}

#[test]
fn every_structural_truncation_of_reference_models_is_an_error() {
    let mut n = 0;
    for s in reference_models() {
        n += exercise_cuts(s, s.layout.boundaries.iter().copied(), |cut, r| {
            assert!(r.is_err(), "{} cut to {cut} bytes was accepted", s.name);
            if !matches!(r, Err(Error::Truncated { .. })) {
                let len = s.bytes.len();
                println!("{} cut to {cut} of {len} bytes: {r:?}", s.name);
            }
        });
    }
    let models = reference_models().len();
    println!(
        "{n} structural truncations of {models} reference models; {}",
        tally()
    );
}

#[test]
fn every_offset_and_length_set_to_boundary_values() {
    let mut n = 0;
    for s in all_models() {
        let is_op_model = s.name.starts_with("ops/");
        for (i, &p) in s.layout.offsets.iter().chain(&s.layout.lengths).enumerate() {
            // All offsets of the small op models; a sample of the reference models'.
            if !is_op_model && i % 17 != 0 {
                continue;
            }
            for k in 0..N_BOUNDARY {
                let v = boundary_u32(k, s.bytes.len());
                exercise_patched(s, p, &v.to_le_bytes(), &mut n);
            }
        }
    }
    println!("{n} offset/length mutants; {}", tally());
}

#[test]
fn every_scale_and_zero_point_set_to_hostile_values() {
    let mut n = 0;
    for s in op_models() {
        for &p in &s.layout.scales {
            for v in HOSTILE_SCALES {
                exercise_patched(s, p, &v.to_le_bytes(), &mut n);
            }
        }
        for &p in &s.layout.zero_points {
            for v in HOSTILE_ZERO_POINTS {
                exercise_patched(s, p, &v.to_le_bytes(), &mut n);
            }
        }
    }
    println!("{n} quantization mutants; {}", tally());
}

#[test]
fn unmodified_models_parse() {
    for s in all_models() {
        Model::parse(&s.bytes).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert!(!s.layout.offsets.is_empty() && !s.layout.boundaries.is_empty());
    }
}

/// Inputs the fuzzer found (`tests/fixtures/malformed/*.tflite`) must fail cleanly or run.
#[test]
fn fuzz_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/malformed");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut n = 0;
    for e in entries.filter_map(|e| e.ok()) {
        let bytes = common::read(&e.path());
        let _ = exercise(&bytes);
        n += 1;
    }
    println!("{n} fuzz regression inputs");
}

// ---------------------------------------------------------------------------------------------
// Each named error, on purpose.

/// A navigable copy of a model for surgical edits.
struct Edit(Vec<u8>);

impl Edit {
    fn of(name: &str) -> Edit {
        Edit(model_named(name).bytes.clone())
    }
    fn root(&self) -> usize {
        rd_u32(&self.0, 0)
    }
    fn field(&self, t: usize, slot: usize) -> usize {
        Layout::field(&self.0, t, slot).unwrap_or_else(|| panic!("field {slot} absent"))
    }
    fn deref(&self, p: usize) -> usize {
        p + rd_u32(&self.0, p)
    }
    /// Element `i` of the vector at field `slot` of table `t`: its position.
    fn elem(&self, t: usize, slot: usize, i: usize, size: usize) -> usize {
        let v = self.deref(self.field(t, slot));
        assert!(i < rd_u32(&self.0, v), "element {i} absent");
        v + 4 + i * size
    }
    /// Table `i` of the vector of tables at field `slot` of `t`.
    fn table(&self, t: usize, slot: usize, i: usize) -> usize {
        self.deref(self.elem(t, slot, i, 4))
    }
    fn subgraph0(&self) -> usize {
        self.table(self.root(), 2, 0)
    }
    fn tensor(&self, i: usize) -> usize {
        self.table(self.subgraph0(), 0, i)
    }
    fn put(&mut self, p: usize, v: &[u8]) {
        self.0[p..p + v.len()].copy_from_slice(v);
    }
    fn model(&self) -> Model<'_> {
        Model::parse(&self.0).unwrap_or_else(|e| panic!("edited model should parse: {e}"))
    }
}

/// Prepare with a large arena and state; the error, if any.
fn prepare_err(model: &Model<'_>) -> Option<Error> {
    let mut arena = vec![0u8; CAP];
    let mut state = vec![0u8; CAP];
    Interpreter::new(model, &mut arena, &mut state).err()
}

#[test]
fn error_truncated_file() {
    let b = &model_named("ops/relu_r4").bytes;
    let e = Model::parse(&b[..5]).unwrap_err();
    assert_eq!(
        e,
        Error::Truncated {
            offset: 0,
            needed: 8,
            available: 5
        }
    );
    assert!(e.to_string().contains("truncated"), "{e}");
    // Every cut of a real file is refused as a truncation.
    let (mut truncated, mut total) = (0, 0);
    for cut in 8..b.len() {
        let e = Model::parse(&b[..cut]).map(|_| ()).unwrap_err();
        check_error(&e);
        truncated += matches!(e, Error::Truncated { .. }) as usize;
        total += 1;
    }
    assert_eq!(truncated, total, "every cut is reported as Truncated");
}

#[test]
fn error_bad_identifier() {
    let mut m = Edit::of("ops/relu_r4");
    m.put(4, b"TFL2");
    let e = Model::parse(&m.0).unwrap_err();
    assert_eq!(e, Error::BadIdentifier);
    assert!(e.to_string().contains("TFL3"), "{e}");
}

#[test]
fn error_schema_version() {
    let mut m = Edit::of("ops/relu_r4");
    let p = m.field(m.root(), 0);
    m.put(p, &4u32.to_le_bytes());
    let e = Model::parse(&m.0).unwrap_err();
    assert_eq!(e, Error::UnsupportedSchemaVersion { version: 4 });
    assert!(e.to_string().contains("version 4"), "{e}");
}

#[test]
fn error_index_out_of_range() {
    let mut m = Edit::of("ops/relu_r4");
    let sg = m.subgraph0();
    let nt = rd_u32(&m.0, m.deref(m.field(sg, 0))) as u32;
    let op = m.table(sg, 3, 0);
    let p = m.elem(op, 1, 0, 4);
    m.put(p, &9999i32.to_le_bytes());
    let e = Model::parse(&m.0).unwrap_err();
    assert_eq!(
        e,
        Error::IndexOutOfRange {
            what: "operator input tensor",
            index: 9999,
            len: nt
        }
    );
    assert!(e.to_string().contains("9999"), "{e}");

    // A tensor's buffer index past the buffer table.
    let mut m = Edit::of("ops/relu_r4");
    let t = m.tensor(0);
    let p = m.field(t, 2);
    m.put(p, &5000u32.to_le_bytes());
    let e = Model::parse(&m.0).unwrap_err();
    assert!(
        matches!(
            e,
            Error::IndexOutOfRange {
                what: "buffer",
                index: 5000,
                ..
            }
        ),
        "{e:?}"
    );
}

/// Set operator code 0 to builtin `code` (both the deprecated byte and the i32 field).
fn patch_opcode(m: &mut Edit, code: i32) {
    let oc = m.table(m.root(), 1, 0);
    let p = m.field(oc, 3);
    m.put(p, &code.to_le_bytes());
    if let Some(p) = Layout::field(&m.0, oc, 0) {
        m.put(p, &[code.min(127) as u8]);
    }
}

#[test]
fn error_unsupported_op() {
    // GATHER: not implemented (same tensor signature as RELU is irrelevant); then a builtin
    // code past the end of the schema's enum. Each is refused, and named in the message.
    for (code, name) in [(36, "GATHER"), (999, "999")] {
        let mut m = Edit::of("ops/relu_r4");
        patch_opcode(&mut m, code);
        let e = prepare_err(&m.model()).unwrap_or_else(|| panic!("{name} must be refused"));
        assert!(
            matches!(e, Error::UnsupportedOp { op: BuiltinOp(c), .. } if c == code),
            "{e:?}"
        );
        assert!(e.to_string().contains(name), "{e}");
    }
}

#[test]
fn error_unsupported_type() {
    // The int8 RELU's input tensor retyped to float32: the int8 kernel must refuse it by name.
    let mut m = Edit::of("ops/relu_r4");
    let sg = m.subgraph0();
    let input = rd_u32(&m.0, m.elem(sg, 1, 0, 4));
    let t = m.tensor(input);
    let p = m.field(t, 1);
    assert_eq!(m.0[p], 9, "relu_r4's input is int8");
    m.0[p] = 0;
    let e = prepare_err(&m.model()).expect("float input to an int8 kernel must be refused");
    assert_eq!(
        e,
        Error::UnsupportedType {
            op: BuiltinOp::RELU,
            tensor: input as i32,
            dtype: 0
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("RELU") && msg.contains(&format!("tensor {input}")) && msg.contains("float32"),
        "{msg}"
    );
}

#[test]
fn error_custom_op() {
    let mut m = Edit::of("ops/relu_r4");
    patch_opcode(&mut m, 32); // CUSTOM
    let e = prepare_err(&m.model()).expect("custom ops must be refused");
    assert!(
        matches!(e, Error::UnsupportedCustomOp { op_index: 0 }),
        "{e:?}"
    );
    assert!(e.to_string().contains("custom"), "{e}");
}

#[test]
fn error_arena_too_small_is_exact() {
    for name in [
        "ops/reshape_2d_to_4d",
        "ops/relu_r4",
        "ops/conv_3x3_same_s1_relu",
        "shared:tflm/hello_world_int8.tflite",
    ] {
        let Some(s) = all_models().iter().find(|s| s.name == name) else {
            continue;
        };
        let model = Model::parse(&s.bytes).unwrap();
        let mut big = vec![0u8; CAP];
        let needed = match Interpreter::new(&model, &mut big, &mut []) {
            Ok(i) => i.memory().arena_bytes as usize,
            Err(e) => {
                println!("SKIP {name}: {e}");
                continue;
            }
        };
        // Exactly `needed` bytes work; one fewer is refused with the same figure.
        let mut exact = vec![0u8; needed];
        Interpreter::new(&model, &mut exact, &mut [])
            .unwrap_or_else(|e| panic!("{name} with {needed} bytes: {e}"));
        let mut short = vec![0u8; needed - 1];
        let e = Interpreter::new(&model, &mut short, &mut [])
            .err()
            .expect("one byte short must fail");
        assert_eq!(
            e,
            Error::ArenaTooSmall {
                needed: needed as u32,
                available: needed as u32 - 1
            },
            "{name}"
        );
        assert!(e.to_string().contains(&needed.to_string()), "{e}");
        // Far too small: the figure may be partial (tables only) but is always more than given.
        for n in [0, 1, 16, needed / 2] {
            let mut a = vec![0u8; n];
            match Interpreter::new(&model, &mut a, &mut []) {
                Err(Error::ArenaTooSmall { needed, available }) => {
                    assert!(needed as usize > n && available as usize == n)
                }
                other => panic!("{name} with {n} bytes: {:?}", other.err()),
            }
        }
    }
}

#[test]
fn error_state_too_small() {
    let Some(s) = reference_models()
        .iter()
        .find(|s| s.name.ends_with("okay_nabu.tflite"))
    else {
        println!("SKIP: okay_nabu not present");
        return;
    };
    let model = Model::parse(&s.bytes).unwrap();
    let mut arena = vec![0u8; CAP];
    // Zero state: the error says how much the variables need.
    let needed = match Interpreter::new(&model, &mut arena, &mut []) {
        Err(Error::StateTooSmall {
            needed,
            available: 0,
        }) => needed,
        other => panic!("expected StateTooSmall, got {:?}", other.err()),
    };
    assert!(needed > 0);
    let mut state = vec![0u8; needed as usize - 1];
    let e = Interpreter::new(&model, &mut arena, &mut state)
        .err()
        .expect("one byte short must fail");
    assert_eq!(
        e,
        Error::StateTooSmall {
            needed,
            available: needed - 1
        }
    );
    assert!(e.to_string().contains(&needed.to_string()), "{e}");
    // With exactly `needed`, the state check passes (prepare may still refuse unimplemented ops).
    let mut state = vec![0u8; needed as usize];
    if let Err(e) = Interpreter::new(&model, &mut arena, &mut state) {
        assert!(!matches!(e, Error::StateTooSmall { .. }), "{e}");
    }
}

#[test]
fn error_wrong_graph() {
    // An operator reading a tensor nothing writes (its output rewired to an unused index would
    // be a second writer; instead point the input at the operator's own output).
    let mut m = Edit::of("ops/relu_r4");
    let sg = m.subgraph0();
    let op = m.table(sg, 3, 0);
    let out = rd_u32(&m.0, m.elem(op, 2, 0, 4)) as i32;
    let p = m.elem(op, 1, 0, 4);
    m.put(p, &out.to_le_bytes());
    let e = prepare_err(&m.model()).expect("reading one's own output must be refused");
    check_error(&e);
    assert!(
        matches!(e, Error::InvalidGraph { index, .. } if index == out),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile models: structurally valid files built to make parse/prepare do as much work as the
// file size allows (shared tables, many operators). They must finish quickly, not just cleanly.

mod hostile {
    use flatbuffers::{FlatBufferBuilder, WIPOffset};
    use tract_tflite::tflite::*;

    /// One operator: (opcode index, inputs, outputs, VAR_HANDLE shared_name if any).
    pub struct Op<'a> {
        pub code: u32,
        pub inputs: &'a [i32],
        pub outputs: &'a [i32],
        pub var: Option<String>,
    }

    /// A one-subgraph model. `codes` are builtin codes; `tensors` are (type, shape, quantized);
    /// `ops` are operators, where `share` repeats operator `i` by reference `n` times instead
    /// of writing it again (the file stays small).
    pub fn model(
        codes: &[i32],
        tensors: &[(i8, &[i32], bool)],
        io: (&[i32], &[i32]),
        ops: &[(Op<'_>, usize)],
    ) -> Vec<u8> {
        let t: Vec<_> = tensors.iter().map(|&(ty, s, q)| (ty, s, q, None)).collect();
        model_with_data(codes, &t, io, ops)
    }

    /// [`model`] with constant data for some tensors.
    #[allow(clippy::type_complexity)]
    pub fn model_with_data(
        codes: &[i32],
        tensors: &[(i8, &[i32], bool, Option<&[u8]>)],
        io: (&[i32], &[i32]),
        ops: &[(Op<'_>, usize)],
    ) -> Vec<u8> {
        let mut b = FlatBufferBuilder::new();
        let empty = Buffer::create(&mut b, &BufferArgs { data: None });
        let mut bufs = vec![empty];
        let mut buffer_of = vec![0u32; tensors.len()];
        for (i, t) in tensors.iter().enumerate() {
            if let Some(d) = t.3 {
                let data = b.create_vector(d);
                bufs.push(Buffer::create(&mut b, &BufferArgs { data: Some(data) }));
                buffer_of[i] = bufs.len() as u32 - 1;
            }
        }
        let codes: Vec<_> = codes
            .iter()
            .map(|&c| {
                let dep = if c < 127 { c as i8 } else { 127 };
                OperatorCode::create(
                    &mut b,
                    &OperatorCodeArgs {
                        deprecated_builtin_code: dep,
                        builtin_code: BuiltinOperator(c),
                        version: 1,
                        custom_code: None,
                    },
                )
            })
            .collect();
        let codes = b.create_vector(&codes);
        let scale = b.create_vector(&[0.5f32]);
        let zp = b.create_vector(&[0i64]);
        let quant = QuantizationParameters::create(
            &mut b,
            &QuantizationParametersArgs {
                scale: Some(scale),
                zero_point: Some(zp),
                ..Default::default()
            },
        );
        let ts: Vec<_> = tensors
            .iter()
            .enumerate()
            .map(|(i, &(ty, shape, q, _))| {
                let shape = b.create_vector(shape);
                Tensor::create(
                    &mut b,
                    &TensorArgs {
                        shape: Some(shape),
                        type_: TensorType(ty),
                        buffer: buffer_of[i],
                        quantization: q.then_some(quant),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let ts = b.create_vector(&ts);
        let mut opv = vec![];
        for (op, n) in ops {
            let inputs = b.create_vector(op.inputs);
            let outputs = b.create_vector(op.outputs);
            let (kind, options) = match &op.var {
                Some(name) => {
                    let name = b.create_string(name);
                    let o = VarHandleOptions::create(
                        &mut b,
                        &VarHandleOptionsArgs {
                            container: None,
                            shared_name: Some(name),
                        },
                    );
                    (BuiltinOptions::VarHandleOptions, Some(o.as_union_value()))
                }
                None => (BuiltinOptions::NONE, None),
            };
            let o = Operator::create(
                &mut b,
                &OperatorArgs {
                    opcode_index: op.code,
                    inputs: Some(inputs),
                    outputs: Some(outputs),
                    builtin_options_type: kind,
                    builtin_options: options,
                    ..Default::default()
                },
            );
            opv.extend(std::iter::repeat_n(o, *n));
        }
        let opv = b.create_vector(&opv);
        let (i, o) = (b.create_vector(io.0), b.create_vector(io.1));
        let sg = SubGraph::create(
            &mut b,
            &SubGraphArgs {
                tensors: Some(ts),
                inputs: Some(i),
                outputs: Some(o),
                operators: Some(opv),
                name: None,
            },
        );
        let sgs = b.create_vector(&[sg]);
        let bufs = b.create_vector(&bufs);
        let m = Model::create(
            &mut b,
            &ModelArgs {
                version: 3,
                operator_codes: Some(codes),
                subgraphs: Some(sgs),
                buffers: Some(bufs),
                ..Default::default()
            },
        );
        b.finish(m, Some("TFL3"));
        b.finished_data().to_vec()
    }

    /// Pass-through so the caller's `WIPOffset` import is used even if a case needs none.
    #[allow(dead_code)]
    fn _unused(_: WIPOffset<()>) {}
}

const RESOURCE: i8 = 13;
const INT8: i8 = 9;

/// One int8[4] variable: VAR_HANDLE (opcode 0), then `assigns` ASSIGN_VARIABLEs (opcode 2)
/// from the model input (tensor 1) and one READ_VARIABLE (opcode 1) to the output (tensor 2).
fn one_variable_model(assigns: usize) -> Vec<u8> {
    use hostile::{model, Op};
    let op = |code, inputs, outputs, var: Option<&str>| Op {
        code,
        inputs,
        outputs,
        var: var.map(Into::into),
    };
    let ops = [
        (op(0, &[], &[0], Some("v")), 1),
        (op(2, &[0, 1], &[], None), assigns),
        (op(1, &[0], &[2], None), 1),
    ];
    let tensors: &[(i8, &[i32], bool)] = &[
        (RESOURCE, &[], false),
        (INT8, &[4], true),
        (INT8, &[4], true),
    ];
    model(&[142, 143, 144], tensors, (&[1], &[2]), &ops)
}

/// CPU time this thread has run (Linux: `/proc/thread-self/schedstat`, nanoseconds on a CPU),
/// or `None` where that file does not exist.
fn thread_cpu_time() -> Option<std::time::Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = s.split_whitespace().next()?.parse::<u64>().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

/// Prepare (and run, if it prepares) in at most `limit` of this thread's CPU time (wall time
/// where the OS does not report it); returns the error.
fn timed(name: &str, bytes: &[u8], limit: std::time::Duration) -> Option<Error> {
    let (wall, cpu) = (std::time::Instant::now(), thread_cpu_time());
    let r = exercise(bytes).err();
    let took = match (cpu, thread_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall.elapsed(),
    };
    println!(
        "{name}: {} bytes, {took:?} CPU ({:?} wall): {r:?}",
        bytes.len(),
        wall.elapsed()
    );
    // A generous bound: the hangs this guards against took minutes (3,000 VAR_HANDLEs: > 5 min
    // before the fix). CPU time, not wall time: on a loaded machine (2 cores shared with QEMU
    // and other test binaries) the wall time of a 9 s case reached 109 s.
    assert!(
        took < limit,
        "{name} took {took:?} of CPU (limit {limit:?})"
    );
    r
}

#[test]
fn hostile_many_variables_finish_quickly() {
    use hostile::{model, Op};
    // 3000 VAR_HANDLEs with distinct names all writing tensor 0, then a READ_VARIABLE.
    let ops: Vec<(Op, usize)> = (0..3000)
        .map(|i| {
            (
                Op {
                    code: 0,
                    inputs: &[],
                    outputs: &[0],
                    var: Some(format!("v{i}")),
                },
                1,
            )
        })
        .chain([(
            Op {
                code: 1,
                inputs: &[0],
                outputs: &[2],
                var: None,
            },
            1,
        )])
        .collect();
    let b = model(
        &[142, 143, 144],
        &[
            (RESOURCE, &[], false),
            (INT8, &[4], true),
            (INT8, &[4], true),
        ],
        (&[1], &[2]),
        &ops,
    );
    timed(
        "3000 distinct VAR_HANDLEs",
        &b,
        std::time::Duration::from_secs(60),
    );

    // One variable, 3000 ASSIGN_VARIABLEs and 3000 READ_VARIABLEs (shared operator tables).
    let b = one_variable_model(3000);
    timed(
        "3000 ASSIGN_VARIABLEs",
        &b,
        std::time::Duration::from_secs(60),
    );
}

/// `order[k]` is the tensor RELU operator `k` writes, from the model input (tensor 0); every
/// written tensor is a model output, so all of them are alive at once.
fn live_relu_outputs(name: &str, order: &[i32]) {
    use hostile::{model, Op};
    let n = order.len();
    let mut tensors: Vec<(i8, &[i32], bool)> = vec![(INT8, &[1, 1, 1, 4], true)];
    tensors.extend(std::iter::repeat_n((INT8, &[1, 1, 1, 4][..], true), n));
    let outs: Vec<[i32; 1]> = order.iter().map(|&t| [t]).collect();
    let ops: Vec<(Op, usize)> = outs
        .iter()
        .map(|o| {
            let op = Op {
                code: 0,
                inputs: &[0],
                outputs: o,
                var: None,
            };
            (op, 1)
        })
        .collect();
    let all: Vec<i32> = (1..=n as i32).collect();
    let b = model(&[19], &tensors, (&[0], &all), &ops);
    timed(name, &b, std::time::Duration::from_secs(60));
}

/// Thousands of buffers alive at once, placed in table order, in reverse (the first-fit scan's
/// worst direction) and interleaved (1, n, 2, n-1, ...: neither direction). The offset-sorted
/// list makes each first fit one pass; 1700 operators fit the fuzzer's 128 KiB inputs.
#[test]
fn hostile_live_tensors_finish_quickly() {
    let forward: Vec<i32> = (1..=3000).collect();
    live_relu_outputs("3000 live RELU outputs", &forward);
    let n = 1700;
    let reverse: Vec<i32> = (1..=n).rev().collect();
    live_relu_outputs("1700 live RELU outputs, reverse order", &reverse);
    let interleaved: Vec<i32> = (0..n)
        .map(|k| if k % 2 == 0 { 1 + k / 2 } else { n - k / 2 })
        .collect();
    live_relu_outputs("1700 live RELU outputs, interleaved order", &interleaved);
}

#[test]
fn hostile_variable_operators_without_operands() {
    use hostile::{model, Op};
    // Operator code index `code` used once (`var`: a VAR_HANDLE's variable name).
    fn once(
        code: u32,
        inputs: &'static [i32],
        outputs: &'static [i32],
        var: Option<&str>,
    ) -> (Op<'static>, usize) {
        let var = var.map(Into::into);
        (
            Op {
                code,
                inputs,
                outputs,
                var,
            },
            1,
        )
    }
    let t: &[(i8, &[i32], bool)] = &[
        (RESOURCE, &[], false),
        (INT8, &[4], true),
        (INT8, &[4], true),
    ];
    for (what, ops) in [
        (
            "VAR_HANDLE without output",
            vec![once(0, &[], &[], Some("v"))],
        ),
        (
            "READ_VARIABLE without input",
            vec![once(1, &[], &[2], None)],
        ),
        (
            "ASSIGN_VARIABLE without value",
            vec![once(0, &[], &[0], Some("v")), once(2, &[0], &[], None)],
        ),
        (
            "READ_VARIABLE of a non-resource",
            vec![once(1, &[1], &[2], None)],
        ),
        (
            "READ_VARIABLE never assigned",
            vec![once(0, &[], &[0], Some("v")), once(1, &[0], &[2], None)],
        ),
    ] {
        let b = model(&[142, 143, 144], t, (&[1], &[2]), &ops);
        let e = exercise(&b).expect_err(what);
        println!("{what}: {e}");
    }
}

#[test]
fn accessors_take_any_index() {
    let s = model_named("ops/relu_r4");
    let model = Model::parse(&s.bytes).unwrap();
    let (mut arena, mut state) = (vec![0u8; CAP], vec![0u8; 0]);
    let interp = Interpreter::new(&model, &mut arena, &mut state).unwrap();
    for i in [0, 1, 1000, usize::MAX / 2, usize::MAX] {
        for sg in [0, 1, 16, usize::MAX] {
            let _ = (
                interp.tensor_data(sg, i),
                interp.placement(sg, i),
                interp.kernel(sg, i),
                interp.op_macs(sg, i),
            );
        }
        let _ = (
            interp.input_tensor(i),
            interp.output_tensor(i),
            interp.output(i),
        );
        let _ = (model.subgraph(i), model.opcode(i), model.buffer(i));
        if let Some(sg) = model.subgraph(0) {
            let _ = (sg.tensor(i), sg.operator(i));
        }
    }
}

/// StateTooSmall on a model built here (so it runs without the reference models): one int8[4]
/// variable, assigned from the input and read to the output.
#[test]
fn error_state_too_small_built_model() {
    let b = one_variable_model(1);
    let m = Model::parse(&b).unwrap();
    let mut arena = vec![0u8; CAP];
    let mut state = [0u8; 3];
    let e = Interpreter::new(&m, &mut arena, &mut state)
        .err()
        .expect("3 state bytes must fail");
    assert_eq!(
        e,
        Error::StateTooSmall {
            needed: 4,
            available: 3
        }
    );
    assert!(e.to_string().contains("need 4 bytes"), "{e}");
    let mut state = [0u8; 4];
    let mut it = Interpreter::new(&m, &mut arena, &mut state).unwrap();
    it.input_mut(0).unwrap().copy_from_slice(&[1, 2, 3, 4]);
    it.invoke().unwrap();
    assert_eq!(it.output(0).unwrap(), &[1, 2, 3, 4]);
}

/// Shapes with a 0 dimension (no elements) next to huge ones: products of the other dims pass
/// u32/usize, which kernels must not compute (the fuzzer found MEAN doing so).
#[test]
fn hostile_empty_tensors_with_huge_dims() {
    use hostile::{model_with_data, Op};
    const INT32: i8 = 2;
    let big = i32::MAX;
    let shapes: [&[i32]; 4] = [
        &[big, big, 0],
        &[0, big, big],
        &[big, 0, big, 3],
        &[1, big, big, big, big, 0],
    ];
    let mut n = 0;
    for shape in shapes {
        let r = shape.len() as i32;
        let axis0 = 0i32.to_le_bytes();
        let last = (r - 1).to_le_bytes();
        let both: Vec<u8> = [0i32, r - 1].iter().flat_map(|v| v.to_le_bytes()).collect();
        for axis in [&axis0[..], &last[..], &both[..]] {
            let ax_shape = [axis.len() as i32 / 4];
            // code 0 ADD(x, x), 1 MEAN(x, axis), 2 CONCATENATION(x, x), 3 SPLIT(axis, x), 4 RELU,
            // 5 SOFTMAX, 6 PAD(x, paddings) is left out (paddings need a [r, 2] tensor).
            let codes = [0, 40, 2, 49, 19, 25, 28, 14, 114];
            let t = [
                (INT8, shape, true, None),
                (INT32, &ax_shape[..], false, Some(axis)),
                (INT8, shape, true, None),
            ];
            for code in 0..codes.len() as u32 {
                let inputs: &[i32] = match code {
                    0 | 2 => &[0, 0],
                    1 => &[0, 1],
                    3 => &[1, 0],
                    _ => &[0],
                };
                let ops = [(
                    Op {
                        code,
                        inputs,
                        outputs: &[2],
                        var: None,
                    },
                    1,
                )];
                let b = model_with_data(&codes, &t, (&[0], &[2]), &ops);
                let _ = timed(
                    &format!("{shape:?} op {} axis {axis:?}", codes[code as usize]),
                    &b,
                    std::time::Duration::from_secs(60),
                );
                n += 1;
            }
        }
    }
    println!("{n} empty-tensor models");
}
