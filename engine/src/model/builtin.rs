//! TFLite builtin operator codes (schema `BuiltinOperator`).

/// A builtin operator code as stored in the model (the larger of `deprecated_builtin_code` and `builtin_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BuiltinOp(pub i32);

impl BuiltinOp {
    /// `ADD`
    pub const ADD: BuiltinOp = BuiltinOp(0);
    /// `AVERAGE_POOL_2D`
    pub const AVERAGE_POOL_2D: BuiltinOp = BuiltinOp(1);
    /// `CONCATENATION`
    pub const CONCATENATION: BuiltinOp = BuiltinOp(2);
    /// `CONV_2D`
    pub const CONV_2D: BuiltinOp = BuiltinOp(3);
    /// `DEPTHWISE_CONV_2D`
    pub const DEPTHWISE_CONV_2D: BuiltinOp = BuiltinOp(4);
    /// `DEQUANTIZE`
    pub const DEQUANTIZE: BuiltinOp = BuiltinOp(6);
    /// `FULLY_CONNECTED`
    pub const FULLY_CONNECTED: BuiltinOp = BuiltinOp(9);
    /// `LOGISTIC`
    pub const LOGISTIC: BuiltinOp = BuiltinOp(14);
    /// `MAX_POOL_2D`
    pub const MAX_POOL_2D: BuiltinOp = BuiltinOp(17);
    /// `MUL`
    pub const MUL: BuiltinOp = BuiltinOp(18);
    /// `RELU`
    pub const RELU: BuiltinOp = BuiltinOp(19);
    /// `RELU6`
    pub const RELU6: BuiltinOp = BuiltinOp(21);
    /// `RESHAPE`
    pub const RESHAPE: BuiltinOp = BuiltinOp(22);
    /// `SOFTMAX`
    pub const SOFTMAX: BuiltinOp = BuiltinOp(25);
    /// `TANH`
    pub const TANH: BuiltinOp = BuiltinOp(28);
    /// `PAD`
    pub const PAD: BuiltinOp = BuiltinOp(34);
    /// `MEAN`
    pub const MEAN: BuiltinOp = BuiltinOp(40);
    /// `SUB`
    pub const SUB: BuiltinOp = BuiltinOp(41);
    /// `SQUEEZE`
    pub const SQUEEZE: BuiltinOp = BuiltinOp(43);
    /// `STRIDED_SLICE`
    pub const STRIDED_SLICE: BuiltinOp = BuiltinOp(45);
    /// `SPLIT`
    pub const SPLIT: BuiltinOp = BuiltinOp(49);
    /// `SPLIT_V`
    pub const SPLIT_V: BuiltinOp = BuiltinOp(102);
    /// `QUANTIZE`
    pub const QUANTIZE: BuiltinOp = BuiltinOp(114);
    /// `CALL_ONCE`
    pub const CALL_ONCE: BuiltinOp = BuiltinOp(129);
    /// `VAR_HANDLE`
    pub const VAR_HANDLE: BuiltinOp = BuiltinOp(142);
    /// `READ_VARIABLE`
    pub const READ_VARIABLE: BuiltinOp = BuiltinOp(143);
    /// `ASSIGN_VARIABLE`
    pub const ASSIGN_VARIABLE: BuiltinOp = BuiltinOp(144);
    /// `EXPAND_DIMS`
    pub const EXPAND_DIMS: BuiltinOp = BuiltinOp(70);
    /// `CUSTOM`
    pub const CUSTOM: BuiltinOp = BuiltinOp(32);
    /// `PADV2`
    pub const PADV2: BuiltinOp = BuiltinOp(60);

    /// The schema name (`CONV_2D`), or `UNKNOWN` for a code newer than this table. A build
    /// for one model's operators (`MOTE_OPS`, every exported firmware) names only those (and
    /// the ones the interpreter resolves structurally), `UNKNOWN` for the rest: the whole
    /// table is about 5 KB of flash, and such a firmware cannot meet the others.
    pub fn name(self) -> &'static str {
        #[cfg(mote_ops_selected)]
        {
            linked_name(self)
        }
        #[cfg(not(mote_ops_selected))]
        {
            usize::try_from(self.0)
                .ok()
                .and_then(|i| NAMES.get(i))
                .copied()
                .unwrap_or("UNKNOWN")
        }
    }
}

/// [`BuiltinOp::name`] for the operators in `MOTE_OPS` (`cfg(mote_op = ...)`) and those the
/// interpreter resolves without a kernel; `NAMES` is read only at compile time.
#[cfg(mote_ops_selected)]
fn linked_name(op: BuiltinOp) -> &'static str {
    macro_rules! names {
        ($($name:literal)*) => {$(
            if cfg!(mote_op = $name) && op.0 == const { code_of($name) } {
                return $name;
            }
        )*};
    }
    names!("ADD" "ASSIGN_VARIABLE" "AVERAGE_POOL_2D" "CONCATENATION" "CONV_2D"
        "DEPTHWISE_CONV_2D" "DEQUANTIZE" "FULLY_CONNECTED" "LOGISTIC" "MAX_POOL_2D" "MEAN" "MUL"
        "PAD" "PADV2" "QUANTIZE" "READ_VARIABLE" "RELU" "RELU6" "SOFTMAX" "SPLIT" "SPLIT_V"
        "STRIDED_SLICE" "SUB" "TANH");
    macro_rules! structural {
        ($($name:literal)*) => {$(
            if op.0 == const { code_of($name) } {
                return $name;
            }
        )*};
    }
    structural!("RESHAPE" "SQUEEZE" "EXPAND_DIMS" "VAR_HANDLE" "CALL_ONCE");
    "UNKNOWN"
}

/// The code of the builtin named `name` (its index in `NAMES`; -1 if none), at compile time.
#[cfg(any(mote_ops_selected, test))]
const fn code_of(name: &str) -> i32 {
    let mut i = 0;
    while i < NAMES.len() {
        let (a, b) = (NAMES[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i as i32;
            }
        }
        i += 1;
    }
    -1
}

impl core::fmt::Display for BuiltinOp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

const NAMES: [&str; 210] = [
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD",
    "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE",
    "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE",
    "STABLEHLO_ABS",
    "STABLEHLO_AND",
    "STABLEHLO_COSINE",
    "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR",
    "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM",
    "STABLEHLO_NEGATE",
    "STABLEHLO_OR",
    "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT",
    "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH",
    "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD",
    "STABLEHLO_IOTA",
    "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT",
    "STABLEHLO_WHILE",
    "STABLEHLO_GATHER",
    "STABLEHLO_TRANSPOSE",
    "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
    "STABLEHLO_COMPOSITE",
    "STABLEHLO_SHIFT_LEFT",
    "STABLEHLO_CBRT",
    "STABLEHLO_CASE",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// `code_of` (what a `MOTE_OPS` build names operators by) agrees with the table and the
    /// constants.
    #[test]
    fn code_of_names() {
        for (op, name) in [
            (BuiltinOp::CONV_2D, "CONV_2D"),
            (BuiltinOp::PADV2, "PADV2"),
            (BuiltinOp::ASSIGN_VARIABLE, "ASSIGN_VARIABLE"),
            (BuiltinOp::RESHAPE, "RESHAPE"),
            (BuiltinOp::CALL_ONCE, "CALL_ONCE"),
            (BuiltinOp::VAR_HANDLE, "VAR_HANDLE"),
        ] {
            assert_eq!(code_of(name), op.0, "{name}");
            assert_eq!(op.name(), name);
        }
        assert_eq!(code_of("NOT_AN_OP"), -1);
    }
}
