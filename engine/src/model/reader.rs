//! The TFLite schema (v3) over checked FlatBuffer primitives.
//!
//! [`Model::parse`] walks every table, vector, index and buffer range once. After it succeeds,
//! the accessors below re-read the same validated positions and cannot fail; where a signature
//! still has to produce a value from a `Result`, the fallback is unreachable by construction.

use super::flatbuffer::{clamp32, Table, Vector};
use super::{out_of_range, BuiltinOp, DType, F32s, I32s, I64s, Quant, Shape};
use crate::error::Error;

// Field slots (schema.fbs order).
mod slot {
    pub const MODEL_VERSION: usize = 0;
    pub const MODEL_OPCODES: usize = 1;
    pub const MODEL_SUBGRAPHS: usize = 2;
    pub const MODEL_DESCRIPTION: usize = 3;
    pub const MODEL_BUFFERS: usize = 4;
    pub const OPCODE_DEPRECATED: usize = 0;
    pub const OPCODE_CUSTOM: usize = 1;
    pub const OPCODE_VERSION: usize = 2;
    pub const OPCODE_BUILTIN: usize = 3;
    pub const SG_TENSORS: usize = 0;
    pub const SG_INPUTS: usize = 1;
    pub const SG_OUTPUTS: usize = 2;
    pub const SG_OPERATORS: usize = 3;
    pub const SG_NAME: usize = 4;
    pub const T_SHAPE: usize = 0;
    pub const T_TYPE: usize = 1;
    pub const T_BUFFER: usize = 2;
    pub const T_NAME: usize = 3;
    pub const T_QUANT: usize = 4;
    pub const T_IS_VARIABLE: usize = 5;
    pub const T_SPARSITY: usize = 6;
    pub const Q_SCALE: usize = 2;
    pub const Q_ZERO_POINT: usize = 3;
    pub const Q_DIM: usize = 6;
    pub const OP_OPCODE: usize = 0;
    pub const OP_INPUTS: usize = 1;
    pub const OP_OUTPUTS: usize = 2;
    pub const OP_OPTIONS_TYPE: usize = 3;
    pub const OP_OPTIONS: usize = 4;
    pub const OP_INTERMEDIATES: usize = 8;
    pub const BUF_DATA: usize = 0;
    pub const BUF_OFFSET: usize = 1;
    pub const BUF_SIZE: usize = 2;
}

/// A validated .tflite model borrowed from its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Model<'m> {
    bytes: &'m [u8],
    version: u32,
    description: &'m str,
    opcodes: Option<Vector<'m>>,
    subgraphs: Vector<'m>,
    buffers: Option<Vector<'m>>,
}

/// An operator code: which builtin, which version, or a custom op's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpCode<'m> {
    /// The builtin operator (`CUSTOM` for custom ops).
    pub builtin: BuiltinOp,
    /// The operator version (defaults to 1).
    pub version: i32,
    /// The custom op's name, for `CUSTOM`.
    pub custom: Option<&'m str>,
}

/// One subgraph: tensors, inputs, outputs, operators in execution order.
#[derive(Clone, Copy, Debug)]
pub struct Subgraph<'m> {
    model: Model<'m>,
    tensors: Option<Vector<'m>>,
    inputs: I32s<'m>,
    outputs: I32s<'m>,
    operators: Option<Vector<'m>>,
    name: &'m str,
}

/// One tensor's static description.
#[derive(Clone, Copy, Debug)]
pub struct Tensor<'m> {
    /// Name as stored in the model (may be empty).
    pub name: &'m str,
    /// Element type.
    pub dtype: DType,
    /// Static shape.
    pub shape: Shape,
    /// Quantization parameters (empty if none).
    pub quant: Quant<'m>,
    /// Constant data from the model's buffer, if the tensor has any (length checked against shape).
    pub data: Option<&'m [u8]>,
    /// Index into the model's buffer table.
    pub buffer: u32,
    /// True for TFLite's legacy variable tensors (`is_variable`).
    pub is_variable: bool,
}

impl Tensor<'_> {
    /// Bytes of this tensor's data (`elements * dtype size`; validated not to overflow).
    pub fn bytes(&self) -> usize {
        self.shape.elements().unwrap_or(0) * self.dtype.size()
    }
}

/// One operator: its code, tensor indices and builtin options.
#[derive(Clone, Copy, Debug)]
pub struct Operator<'m> {
    /// Index into the model's operator codes.
    pub opcode_index: u32,
    /// Input tensor indices; -1 marks an absent optional input.
    pub inputs: I32s<'m>,
    /// Output tensor indices.
    pub outputs: I32s<'m>,
    /// Intermediate tensor indices (unused by this engine's kernels).
    pub intermediates: I32s<'m>,
    /// The builtin options union.
    pub options: Options<'m>,
}

/// A builtin-options table (schema union `BuiltinOptions`): read fields by slot; absent → default.
///
/// The table's vtable is validated at parse time; individual field reads still check widths and
/// return `Error::Malformed` rather than panic.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'m> {
    /// The union's type tag (schema `BuiltinOptions` enum; 0 = NONE).
    pub kind: u8,
    table: Option<Table<'m>>,
}

impl<'m> Options<'m> {
    /// An `i32` (or enum stored as int) field.
    pub fn i32(&self, slot: usize, default: i32) -> Result<i32, Error> {
        self.table.map_or(Ok(default), |t| t.i32(slot, default))
    }
    /// A byte-sized enum or `i8` field.
    pub fn i8(&self, slot: usize, default: i8) -> Result<i8, Error> {
        self.table.map_or(Ok(default), |t| t.i8(slot, default))
    }
    /// A `u8` enum field.
    pub fn u8(&self, slot: usize, default: u8) -> Result<u8, Error> {
        self.table.map_or(Ok(default), |t| t.u8(slot, default))
    }
    /// A `bool` field.
    pub fn bool(&self, slot: usize, default: bool) -> Result<bool, Error> {
        self.table.map_or(Ok(default), |t| t.bool(slot, default))
    }
    /// An `f32` field.
    pub fn f32(&self, slot: usize, default: f32) -> Result<f32, Error> {
        self.table.map_or(Ok(default), |t| t.f32(slot, default))
    }
    /// An `[int]` vector field (empty if absent).
    pub fn i32s(&self, slot: usize) -> Result<I32s<'m>, Error> {
        match self.table {
            Some(t) => Ok(t
                .vector(slot, 4, "option vector")?
                .map(|v| I32s(v.bytes))
                .unwrap_or_default()),
            None => Ok(I32s::default()),
        }
    }
    /// A string field (empty if absent).
    pub fn string(&self, slot: usize) -> Result<&'m str, Error> {
        match self.table {
            Some(t) => Ok(t.string(slot, "option string")?.unwrap_or("")),
            None => Ok(""),
        }
    }
}

fn i32s<'m>(t: &Table<'m>, slot: usize, what: &'static str) -> Result<I32s<'m>, Error> {
    Ok(t.vector(slot, 4, what)?
        .map(|v| I32s(v.bytes))
        .unwrap_or_default())
}

impl<'m> Model<'m> {
    /// Parse and validate a model. Every later accessor relies on what this checks.
    pub fn parse(bytes: &'m [u8]) -> Result<Model<'m>, Error> {
        if bytes.len() < 8 {
            return Err(Error::Truncated {
                offset: 0,
                needed: 8,
                available: clamp32(bytes.len()),
            });
        }
        if &bytes[4..8] != b"TFL3" {
            return Err(Error::BadIdentifier);
        }
        let root = Table::follow(bytes, 0, "root table")?;
        let version = root.u32(slot::MODEL_VERSION, 0)?;
        if version != 3 {
            return Err(Error::UnsupportedSchemaVersion { version });
        }
        let description = root
            .string(slot::MODEL_DESCRIPTION, "description")?
            .unwrap_or("");
        let opcodes = root.vector(slot::MODEL_OPCODES, 4, "operator codes")?;
        let subgraphs =
            root.vector(slot::MODEL_SUBGRAPHS, 4, "subgraphs")?
                .ok_or(Error::Malformed {
                    what: "model without subgraphs",
                    offset: clamp32(root.pos()),
                })?;
        if subgraphs.is_empty() {
            return Err(Error::Malformed {
                what: "model without subgraphs",
                offset: clamp32(root.pos()),
            });
        }
        let buffers = root.vector(slot::MODEL_BUFFERS, 4, "buffers")?;
        let model = Model {
            bytes,
            version,
            description,
            opcodes,
            subgraphs,
            buffers,
        };

        // Validate everything reachable, so the accessors cannot fail later.
        for i in 0..model.opcode_count() {
            model.read_opcode(i)?;
        }
        for i in 0..model.buffer_count() {
            model.read_buffer(i)?;
        }
        for s in 0..subgraphs.len() {
            let sg = model.read_subgraph(s)?;
            let nt = sg.tensor_count();
            for t in 0..nt {
                sg.read_tensor(t)?;
            }
            for &list in &[sg.inputs, sg.outputs] {
                for idx in list.iter() {
                    if idx < 0 || idx as usize >= nt {
                        return Err(out_of_range("subgraph input/output tensor", idx, nt));
                    }
                }
            }
            for o in 0..sg.operator_count() {
                let op = sg.read_operator(o)?;
                if op.opcode_index as usize >= model.opcode_count() {
                    return Err(out_of_range(
                        "operator code",
                        op.opcode_index as i32,
                        model.opcode_count(),
                    ));
                }
                for idx in op.inputs.iter().chain(op.intermediates.iter()) {
                    if idx < -1 || idx >= nt as i32 {
                        return Err(out_of_range("operator input tensor", idx, nt));
                    }
                }
                for idx in op.outputs.iter() {
                    if idx < 0 || idx >= nt as i32 {
                        return Err(out_of_range("operator output tensor", idx, nt));
                    }
                }
            }
        }
        Ok(model)
    }

    /// The model's bytes.
    pub fn bytes(&self) -> &'m [u8] {
        self.bytes
    }
    /// Schema version (always 3 once parsed).
    pub fn version(&self) -> u32 {
        self.version
    }
    /// The converter's description string.
    pub fn description(&self) -> &'m str {
        self.description
    }
    /// Number of subgraphs (at least 1).
    pub fn subgraph_count(&self) -> usize {
        self.subgraphs.len()
    }
    /// Subgraph `i`.
    pub fn subgraph(&self, i: usize) -> Option<Subgraph<'m>> {
        self.read_subgraph(i).ok()
    }
    /// Number of operator codes.
    pub fn opcode_count(&self) -> usize {
        self.opcodes.map_or(0, |v| v.len())
    }
    /// Operator code `i`.
    pub fn opcode(&self, i: usize) -> Option<OpCode<'m>> {
        self.read_opcode(i).ok()
    }
    /// Number of buffers.
    pub fn buffer_count(&self) -> usize {
        self.buffers.map_or(0, |v| v.len())
    }
    /// Buffer `i`'s data (inline or at offset/size in the file); empty if it has none.
    pub fn buffer(&self, i: usize) -> Option<&'m [u8]> {
        self.read_buffer(i).ok()
    }
    /// Total bytes of all constant buffers (weights, biases, shapes).
    pub fn weights_bytes(&self) -> usize {
        (0..self.buffer_count())
            .filter_map(|i| self.buffer(i))
            .map(|b| b.len())
            .sum()
    }

    fn read_opcode(&self, i: usize) -> Result<OpCode<'m>, Error> {
        let v = self
            .opcodes
            .ok_or(out_of_range("operator code", i as i32, 0))?;
        let t = v.table(i, "operator code")?;
        let deprecated = t.i8(slot::OPCODE_DEPRECATED, 0)? as i32;
        let builtin = t.i32(slot::OPCODE_BUILTIN, 0)?;
        let version = t.i32(slot::OPCODE_VERSION, 1)?;
        let custom = t.string(slot::OPCODE_CUSTOM, "custom code")?;
        // TFLM GetBuiltinCode: the larger of the two fields (old files set only the deprecated one).
        Ok(OpCode {
            builtin: BuiltinOp(builtin.max(deprecated)),
            version,
            custom,
        })
    }

    fn read_buffer(&self, i: usize) -> Result<&'m [u8], Error> {
        let v = self.buffers.ok_or(out_of_range("buffer", i as i32, 0))?;
        let t = v.table(i, "buffer")?;
        let offset = t.u64(slot::BUF_OFFSET, 0)?;
        let size = t.u64(slot::BUF_SIZE, 0)?;
        // The converter writes offset 1 / size 0 as a placeholder; real external data has offset > 1.
        if offset > 1 {
            let start = usize::try_from(offset).map_err(|_| Error::Malformed {
                what: "buffer offset",
                offset: clamp32(t.pos()),
            })?;
            let len = usize::try_from(size).map_err(|_| Error::Malformed {
                what: "buffer size",
                offset: clamp32(t.pos()),
            })?;
            return start
                .checked_add(len)
                .and_then(|end| self.bytes.get(start..end))
                .ok_or(Error::Truncated {
                    offset: clamp32(start),
                    needed: clamp32(len),
                    available: clamp32(self.bytes.len()),
                });
        }
        Ok(t.vector(slot::BUF_DATA, 1, "buffer data")?
            .map_or(&[][..], |d| d.bytes))
    }

    fn read_subgraph(&self, i: usize) -> Result<Subgraph<'m>, Error> {
        let t = self.subgraphs.table(i, "subgraph")?;
        Ok(Subgraph {
            model: *self,
            tensors: t.vector(slot::SG_TENSORS, 4, "tensors")?,
            inputs: i32s(&t, slot::SG_INPUTS, "subgraph inputs")?,
            outputs: i32s(&t, slot::SG_OUTPUTS, "subgraph outputs")?,
            operators: t.vector(slot::SG_OPERATORS, 4, "operators")?,
            name: t.string(slot::SG_NAME, "subgraph name")?.unwrap_or(""),
        })
    }
}

impl<'m> Subgraph<'m> {
    /// The subgraph's name (may be empty).
    pub fn name(&self) -> &'m str {
        self.name
    }
    /// Number of tensors.
    pub fn tensor_count(&self) -> usize {
        self.tensors.map_or(0, |v| v.len())
    }
    /// Tensor `i`.
    pub fn tensor(&self, i: usize) -> Option<Tensor<'m>> {
        self.read_tensor(i).ok()
    }
    /// Input tensor indices (validated in range).
    pub fn inputs(&self) -> I32s<'m> {
        self.inputs
    }
    /// Output tensor indices (validated in range).
    pub fn outputs(&self) -> I32s<'m> {
        self.outputs
    }
    /// Number of operators.
    pub fn operator_count(&self) -> usize {
        self.operators.map_or(0, |v| v.len())
    }
    /// Operator `i` in execution order.
    pub fn operator(&self, i: usize) -> Option<Operator<'m>> {
        self.read_operator(i).ok()
    }
    /// Operator `i`'s code (validated in range).
    pub fn opcode(&self, op: &Operator<'m>) -> Option<OpCode<'m>> {
        self.model.opcode(op.opcode_index as usize)
    }

    fn read_tensor(&self, i: usize) -> Result<Tensor<'m>, Error> {
        let v = self.tensors.ok_or(out_of_range("tensor", i as i32, 0))?;
        let t = v.table(i, "tensor")?;
        let dims = i32s(&t, slot::T_SHAPE, "tensor shape")?;
        let idx = i as i32;
        if dims.len() > super::MAX_RANK {
            return Err(Error::RankTooHigh {
                tensor: idx,
                rank: clamp32(dims.len()),
            });
        }
        let mut d = [0i32; super::MAX_RANK];
        for (k, x) in dims.iter().enumerate() {
            d[k] = x;
        }
        let shape = Shape::new(&d[..dims.len()]).ok_or(Error::BadTensor {
            tensor: idx,
            what: "negative dimension",
        })?;
        let elements = shape.elements().ok_or(Error::BadTensor {
            tensor: idx,
            what: "size overflow",
        })?;
        let dtype = DType::from_schema(t.u8(slot::T_TYPE, 0)?);
        if elements
            .checked_mul(dtype.size())
            .is_none_or(|b| b > u32::MAX as usize)
        {
            return Err(Error::BadTensor {
                tensor: idx,
                what: "size overflow",
            });
        }
        let name = t.string(slot::T_NAME, "tensor name")?.unwrap_or("");
        let buffer = t.u32(slot::T_BUFFER, 0)?;
        if t.table(slot::T_SPARSITY, "sparsity")?.is_some() {
            return Err(Error::UnsupportedSparsity { tensor: idx });
        }
        let data = if buffer == 0 {
            None
        } else {
            let b = self
                .model
                .read_buffer(buffer as usize)
                .map_err(|_| out_of_range("buffer", buffer as i32, self.model.buffer_count()))?;
            if b.is_empty() {
                None
            } else if dtype.size() != 0 && b.len() != elements * dtype.size() {
                return Err(Error::BadTensor {
                    tensor: idx,
                    what: "buffer size does not match the shape",
                });
            } else {
                Some(b)
            }
        };
        let quant = match t.table(slot::T_QUANT, "quantization")? {
            None => Quant::default(),
            Some(q) => {
                let scales = q
                    .vector(slot::Q_SCALE, 4, "quantization scales")?
                    .map(|v| F32s(v.bytes))
                    .unwrap_or_default();
                let zero_points = q
                    .vector(slot::Q_ZERO_POINT, 8, "quantization zero points")?
                    .map(|v| I64s(v.bytes))
                    .unwrap_or_default();
                let axis = q.i32(slot::Q_DIM, 0)?;
                if !zero_points.is_empty() && zero_points.len() != scales.len() {
                    return Err(Error::Malformed {
                        what: "zero point count differs from scale count",
                        offset: clamp32(q.pos()),
                    });
                }
                // A zero point is a value of the tensor's own type (TFLite quantization spec);
                // kernels rely on that range to keep `zero_point + x` arithmetic inside i32.
                let (lo, hi) = match dtype {
                    DType::I8 => (i8::MIN as i64, i8::MAX as i64),
                    DType::U8 => (0, u8::MAX as i64),
                    DType::I16 => (i16::MIN as i64, i16::MAX as i64),
                    _ => (i32::MIN as i64, i32::MAX as i64),
                };
                for k in 0..zero_points.len() {
                    let z = zero_points.get(k).unwrap_or(0);
                    if z < lo || z > hi {
                        return Err(Error::Malformed {
                            what: "zero point out of range",
                            offset: clamp32(q.pos()),
                        });
                    }
                }
                // Tolerated like TFLM: `quantized_dimension` and the scale count are not checked
                // against the shape here. TFLM's allocator copies them into the tensor unchecked
                // (only the kernels that quantize along an axis check it, at prepare), and real
                // models rely on that: TFLM's own person_detect.tflite has rank-1 bias tensors
                // with `quantized_dimension: 3`, copied from the depthwise filter by the converter
                // of its time. Here too, every kernel that reads per-channel scales checks the
                // axis and count at prepare (`ops::common::check_symmetric_filter`); the others
                // use the first scale, as TFLM's do.
                Quant {
                    scales,
                    zero_points,
                    axis,
                }
            }
        };
        let is_variable = t.bool(slot::T_IS_VARIABLE, false)?;
        Ok(Tensor {
            name,
            dtype,
            shape,
            quant,
            data,
            buffer,
            is_variable,
        })
    }

    fn read_operator(&self, i: usize) -> Result<Operator<'m>, Error> {
        let v = self
            .operators
            .ok_or(out_of_range("operator", i as i32, 0))?;
        let t = v.table(i, "operator")?;
        let kind = t.u8(slot::OP_OPTIONS_TYPE, 0)?;
        let table = if kind == 0 {
            None
        } else {
            t.table(slot::OP_OPTIONS, "builtin options")?
        };
        Ok(Operator {
            opcode_index: t.u32(slot::OP_OPCODE, 0)?,
            inputs: i32s(&t, slot::OP_INPUTS, "operator inputs")?,
            outputs: i32s(&t, slot::OP_OUTPUTS, "operator outputs")?,
            intermediates: i32s(&t, slot::OP_INTERMEDIATES, "operator intermediates")?,
            options: Options { kind, table },
        })
    }
}
