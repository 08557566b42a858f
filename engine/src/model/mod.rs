//! The .tflite reader: zero-copy views over a model's bytes, validated once by [`Model::parse`].
//!
//! `flatbuffer` has the checked wire primitives; `reader` the schema (Model → SubGraph → Tensor,
//! Operator, Buffer); this file the small value types the rest of the engine uses.

mod builtin;
pub(crate) mod flatbuffer;
mod reader;

pub use builtin::BuiltinOp;
pub use reader::{Model, OpCode, Operator, Options, Subgraph, Tensor};

use crate::error::Error;

/// The most dimensions a tensor may have.
pub const MAX_RANK: usize = 6;

/// A tensor element type (schema `TensorType`), limited to what the engine can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    /// `FLOAT32`
    F32,
    /// `INT32`
    I32,
    /// `UINT8`
    U8,
    /// `INT64`
    I64,
    /// `BOOL`
    Bool,
    /// `INT16`
    I16,
    /// `INT8`
    I8,
    /// `RESOURCE` (a resource-variable handle; no data of its own in this engine)
    Resource,
    /// Any other schema type; kept so an op can name it in `UnsupportedType`.
    Other(u8),
}

impl DType {
    /// From the schema's `TensorType` byte.
    pub fn from_schema(v: u8) -> DType {
        match v {
            0 => DType::F32,
            2 => DType::I32,
            3 => DType::U8,
            4 => DType::I64,
            6 => DType::Bool,
            7 => DType::I16,
            9 => DType::I8,
            13 => DType::Resource,
            o => DType::Other(o),
        }
    }
    /// The schema's `TensorType` byte.
    pub fn code(self) -> u8 {
        match self {
            DType::F32 => 0,
            DType::I32 => 2,
            DType::U8 => 3,
            DType::I64 => 4,
            DType::Bool => 6,
            DType::I16 => 7,
            DType::I8 => 9,
            DType::Resource => 13,
            DType::Other(o) => o,
        }
    }
    /// Bytes per element (0 for types without inline data).
    pub fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::I64 => 8,
            DType::I16 => 2,
            DType::U8 | DType::I8 | DType::Bool => 1,
            DType::Resource | DType::Other(_) => 0,
        }
    }
    /// The schema name of a `TensorType` byte.
    pub fn name_of(code: u8) -> &'static str {
        const N: [&str; 19] = [
            "float32",
            "float16",
            "int32",
            "uint8",
            "int64",
            "string",
            "bool",
            "int16",
            "complex64",
            "int8",
            "float64",
            "complex128",
            "uint64",
            "resource",
            "variant",
            "uint32",
            "uint16",
            "int4",
            "bfloat16",
        ];
        N.get(code as usize).copied().unwrap_or("unknown")
    }
    /// The schema name.
    pub fn name(self) -> &'static str {
        Self::name_of(self.code())
    }
}

/// A tensor shape of at most [`MAX_RANK`] non-negative dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Shape {
    dims: [i32; MAX_RANK],
    rank: u8,
}

impl Shape {
    /// A shape from dimensions; `None` if there are too many or one is negative.
    pub fn new(dims: &[i32]) -> Option<Shape> {
        if dims.len() > MAX_RANK || dims.iter().any(|&d| d < 0) {
            return None;
        }
        let mut s = Shape {
            dims: [0; MAX_RANK],
            rank: dims.len() as u8,
        };
        s.dims[..dims.len()].copy_from_slice(dims);
        Some(s)
    }
    /// The dimensions.
    pub fn dims(&self) -> &[i32] {
        &self.dims[..self.rank as usize]
    }
    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.rank as usize
    }
    /// Dimension `i`, or 1 past the rank (handy for broadcasting).
    pub fn dim(&self, i: usize) -> usize {
        if i < self.rank as usize {
            self.dims[i] as usize
        } else {
            1
        }
    }
    /// Number of elements (saturating; `None` on overflow of `u32`).
    pub fn elements(&self) -> Option<usize> {
        let mut n: u32 = 1;
        for &d in self.dims() {
            n = n.checked_mul(d as u32)?;
        }
        Some(n as usize)
    }
    /// The shape extended on the left with 1s to `rank` dimensions (TFLM `RuntimeShape::ExtendedShape`).
    pub fn extended(&self, rank: usize) -> Option<Shape> {
        let r = self.rank();
        if rank > MAX_RANK || r > rank {
            return None;
        }
        let mut s = Shape {
            dims: [1; MAX_RANK],
            rank: rank as u8,
        };
        s.dims[rank - r..rank].copy_from_slice(self.dims());
        Some(s)
    }
}

/// A little-endian vector of `$t` (`$n` bytes each) inside the model, alignment not required.
macro_rules! le_vector {
    ($(#[$doc:meta] $name:ident: $t:ty, $n:literal;)*) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name<'m>(pub(crate) &'m [u8]);
        impl $name<'_> {
            /// Number of values.
            pub fn len(&self) -> usize {
                self.0.len() / $n
            }
            /// True when empty.
            pub fn is_empty(&self) -> bool {
                self.0.len() < $n
            }
            /// Value `i`, if present.
            pub fn get(&self, i: usize) -> Option<$t> {
                let at = i.checked_mul($n)?;
                let b = self.0.get(at..at + $n)?;
                let mut a = [0u8; $n];
                a.copy_from_slice(b);
                Some(<$t>::from_le_bytes(a))
            }
        }
    )*};
}
le_vector! {
    /// Little-endian `f32` vector inside the model (alignment not required).
    F32s: f32, 4;
    /// Little-endian `i64` vector inside the model.
    I64s: i64, 8;
}

/// Little-endian `i32` vector inside the model (tensor index lists, shapes, option vectors).
#[derive(Clone, Copy, Debug, Default)]
pub struct I32s<'m>(pub(crate) &'m [u8]);
impl<'m> I32s<'m> {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.len() < 4
    }
    /// Value `i`, if present.
    pub fn get(&self, i: usize) -> Option<i32> {
        let at = i.checked_mul(4)?;
        let b = self.0.get(at..at + 4)?;
        Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// All values in order.
    pub fn iter(&self) -> impl Iterator<Item = i32> + 'm {
        self.0
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A tensor's quantization parameters (schema `QuantizationParameters`), possibly per channel.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quant<'m> {
    /// Scales: one (per tensor) or one per channel along `axis`. Empty if not quantized.
    pub scales: F32s<'m>,
    /// Zero points, same count as `scales` (schema allows it to be empty: then 0).
    pub zero_points: I64s<'m>,
    /// The channel axis for per-channel quantization (`quantized_dimension`).
    pub axis: i32,
}

impl Quant<'_> {
    /// True if the tensor carries at least one scale.
    pub fn is_quantized(&self) -> bool {
        !self.scales.is_empty()
    }
    /// True if there is more than one scale.
    pub fn is_per_channel(&self) -> bool {
        self.scales.len() > 1
    }
    /// The first (per-tensor) scale, 0.0 if absent.
    pub fn scale(&self) -> f32 {
        self.scales.get(0).unwrap_or(0.0)
    }
    /// The first (per-tensor) zero point, 0 if absent (validated to fit `i32` at parse time).
    pub fn zero_point(&self) -> i32 {
        self.zero_points.get(0).unwrap_or(0) as i32
    }
}

/// Internal helper shared by the reader: `IndexOutOfRange` for `index` in a list of `len`.
pub(crate) fn out_of_range(what: &'static str, index: i32, len: usize) -> Error {
    Error::IndexOutOfRange {
        what,
        index,
        len: flatbuffer::clamp32(len),
    }
}
