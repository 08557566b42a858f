//! Writes a [`QModel`] as a `.tflite` file: a FlatBuffer in TFLite's schema (`schema.fbs`),
//! built with the `flatbuffers` crate's builder. Field slots are TFLite's field ids
//! (`vtable offset = 4 + 2·id`); the ids used are listed beside each table below.

use flatbuffers::{FlatBufferBuilder, WIPOffset};

use crate::net::{Kind, DENSE_IN, FEAT, IN_H, IN_W, LAYERS, POOL_T};
use crate::quant::{Layer, QModel, Q};

type Table = WIPOffset<flatbuffers::TableFinishedWIPOffset>;

const fn slot(id: u16) -> u16 {
    4 + 2 * id
}

// TensorType / BuiltinOperator / BuiltinOptions / Padding / ActivationFunctionType values.
const INT8: i8 = 9;
const INT32: i8 = 2;
const AVERAGE_POOL_2D: i32 = 1;
const CONV_2D: i32 = 3;
const DEPTHWISE_CONV_2D: i32 = 4;
const FULLY_CONNECTED: i32 = 9;
const SOFTMAX: i32 = 25;
const OPT_CONV: u8 = 1;
const OPT_DEPTHWISE: u8 = 2;
const OPT_POOL: u8 = 5;
const OPT_FC: u8 = 8;
const OPT_SOFTMAX: u8 = 9;
const SAME: i8 = 0;
const VALID: i8 = 1;
const RELU: i8 = 1;

struct Tensor<'a> {
    name: &'a str,
    shape: Vec<i32>,
    ty: i8,
    buffer: u32,
    scales: Vec<f32>,
    zeros: Vec<i64>,
    axis: i32,
}

fn act<'a>(name: &'a str, shape: Vec<i32>, q: Q) -> Tensor<'a> {
    Tensor {
        name,
        shape,
        ty: INT8,
        buffer: 0,
        scales: vec![q.scale],
        zeros: vec![i64::from(q.zero)],
        axis: 0,
    }
}

fn weights<'a>(
    name: &'a str,
    shape: Vec<i32>,
    l: &Layer,
    buffer: u32,
    axis: i32,
) -> [Tensor<'a>; 2] {
    let n = l.b.len() as i32;
    [
        Tensor {
            name,
            shape,
            ty: INT8,
            buffer,
            scales: l.w_scales.clone(),
            zeros: vec![0; l.w_scales.len()],
            axis,
        },
        Tensor {
            name: "bias",
            shape: vec![n],
            ty: INT32,
            buffer: buffer + 1,
            scales: l.b_scales.clone(),
            zeros: vec![0; l.b_scales.len()],
            axis: 0,
        },
    ]
}

fn table(b: &mut FlatBufferBuilder<'_>, f: impl FnOnce(&mut FlatBufferBuilder<'_>)) -> Table {
    let start = b.start_table();
    f(b);
    b.end_table(start)
}

/// The model's bytes. Tensors: 0 input, then per layer weights, bias, output; then the pool,
/// dense weights, bias, logits and the softmax probabilities (the model output: int8, scale
/// 1/256, zero point −128).
pub fn write(m: &QModel) -> Vec<u8> {
    let k = m.classes as i32;
    let mut tensors = vec![act(
        "input",
        vec![1, IN_H as i32, IN_W as i32, 1],
        m.acts[0],
    )];
    // (opcode index, inputs, output, options kind, stride) per operator.
    let mut ops_spec: Vec<(u32, [i32; 3], usize, i32, u8)> = Vec::new();
    let mut prev = 0i32;
    for (i, (kind, g)) in LAYERS.iter().enumerate() {
        let l = &m.layers[i];
        let base = tensors.len() as i32;
        let buffer = 1 + 2 * i as u32;
        let (shape, axis, code, opt) = match kind {
            Kind::Conv => (
                vec![g.oc as i32, g.kh as i32, g.kw as i32, g.ic as i32],
                0,
                0,
                OPT_CONV,
            ),
            Kind::Depthwise => (
                vec![1, g.kh as i32, g.kw as i32, g.oc as i32],
                3,
                1,
                OPT_DEPTHWISE,
            ),
        };
        tensors.extend(weights("weights", shape, l, buffer, axis));
        tensors.push(act(
            "activation",
            vec![1, g.oh as i32, g.ow as i32, g.oc as i32],
            m.acts[i + 1],
        ));
        ops_spec.push((code, [prev, base, base + 1], 3, g.s as i32, opt));
        prev = base + 2;
    }
    let q_last = m.acts[LAYERS.len()];
    let pool = tensors.len() as i32;
    tensors.push(act("pool", vec![1, POOL_T as i32, 1, FEAT as i32], q_last));
    ops_spec.push((2, [prev, 0, 0], 1, 1, OPT_POOL));
    let dense = tensors.len() as i32;
    let dense_buffer = 1 + 2 * LAYERS.len() as u32;
    tensors.extend(weights(
        "dense/weights",
        vec![k, DENSE_IN as i32],
        &m.layers[LAYERS.len()],
        dense_buffer,
        0,
    ));
    tensors.push(act("logits", vec![1, k], m.acts[LAYERS.len() + 1]));
    ops_spec.push((3, [pool, dense, dense + 1], 3, 1, OPT_FC));
    tensors.push(act(
        "probabilities",
        vec![1, k],
        Q {
            scale: 1.0 / 256.0,
            zero: -128,
        },
    ));
    ops_spec.push((4, [dense + 2, 0, 0], 1, 1, OPT_SOFTMAX));
    let output = tensors.len() as i32 - 1;

    let mut b = FlatBufferBuilder::with_capacity(16 * 1024);
    // Buffers: 0 the empty sentinel, then (weights, bias) per layer.
    let mut buffers = vec![table(&mut b, |_| {})];
    for l in &m.layers {
        let w: Vec<u8> = l.w.iter().map(|&v| v as u8).collect();
        let bias: Vec<u8> = l.b.iter().flat_map(|v| v.to_le_bytes()).collect();
        for data in [w, bias] {
            let v = b.create_vector(&data);
            buffers.push(table(&mut b, |b| b.push_slot_always(slot(0), v))); // Buffer.data
        }
    }
    let tensor_tables: Vec<Table> = tensors
        .iter()
        .map(|t| {
            let shape = b.create_vector(&t.shape);
            let name = b.create_string(t.name);
            let scale = b.create_vector(&t.scales);
            let zero = b.create_vector(&t.zeros);
            // QuantizationParameters: 2 scale, 3 zero_point, 6 quantized_dimension.
            let axis = t.axis;
            let q = table(&mut b, |b| {
                b.push_slot_always(slot(2), scale);
                b.push_slot_always(slot(3), zero);
                b.push_slot(slot(6), axis, 0);
            });
            // Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization.
            let (ty, buffer) = (t.ty, t.buffer);
            table(&mut b, |b| {
                b.push_slot_always(slot(0), shape);
                b.push_slot_always(slot(1), ty);
                b.push_slot_always(slot(2), buffer);
                b.push_slot_always(slot(3), name);
                b.push_slot_always(slot(4), q);
            })
        })
        .collect();

    // OperatorCode: 0 deprecated_builtin_code (byte), 2 version, 3 builtin_code.
    let codes: Vec<Table> = [
        (CONV_2D, 3),
        (DEPTHWISE_CONV_2D, 3),
        (AVERAGE_POOL_2D, 2),
        (FULLY_CONNECTED, 4),
        (SOFTMAX, 2),
    ]
    .iter()
    .map(|&(code, version)| {
        table(&mut b, |b| {
            b.push_slot_always(slot(0), code as i8);
            b.push_slot_always(slot(2), version);
            b.push_slot_always(slot(3), code);
        })
    })
    .collect();

    // Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.
    let mut ops: Vec<Table> = Vec::new();
    for (n, &(code, ins, n_in, stride, opt)) in ops_spec.iter().enumerate() {
        let options = match opt {
            // Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4/5 dilation w/h.
            OPT_CONV => table(&mut b, |b| {
                b.push_slot_always(slot(0), SAME);
                b.push_slot_always(slot(1), stride);
                b.push_slot_always(slot(2), stride);
                b.push_slot_always(slot(3), RELU);
                b.push_slot_always(slot(4), 1i32);
                b.push_slot_always(slot(5), 1i32);
            }),
            // DepthwiseConv2DOptions: 0 padding, 1/2 strides, 3 depth_multiplier,
            // 4 activation, 5/6 dilation.
            OPT_DEPTHWISE => table(&mut b, |b| {
                b.push_slot_always(slot(0), SAME);
                b.push_slot_always(slot(1), stride);
                b.push_slot_always(slot(2), stride);
                b.push_slot_always(slot(3), 1i32);
                b.push_slot_always(slot(4), RELU);
                b.push_slot_always(slot(5), 1i32);
                b.push_slot_always(slot(6), 1i32);
            }),
            // Pool2DOptions: 0 padding, 1/2 strides, 3 filter_width, 4 filter_height,
            // 5 activation. The filter spans the frequency axis (an average per time step).
            OPT_POOL => {
                let g = LAYERS[LAYERS.len() - 1].1;
                table(&mut b, |b| {
                    b.push_slot_always(slot(0), VALID);
                    b.push_slot_always(slot(1), 1i32);
                    b.push_slot_always(slot(2), 1i32);
                    b.push_slot_always(slot(3), g.ow as i32);
                    b.push_slot_always(slot(4), 1i32);
                    b.push_slot_always(slot(5), 0i8);
                })
            }
            // FullyConnectedOptions: 0 activation (NONE).
            OPT_FC => table(&mut b, |b| b.push_slot_always(slot(0), 0i8)),
            // SoftmaxOptions: 0 beta.
            _ => table(&mut b, |b| b.push_slot_always(slot(0), 1.0f32)),
        };
        let i = b.create_vector(&ins[..n_in]);
        // Each operator writes the next one's first input; the last writes the model output.
        let out = ops_spec.get(n + 1).map_or(output, |next| next.1[0]);
        let o = b.create_vector(&[out]);
        ops.push(table(&mut b, |b| {
            b.push_slot_always(slot(0), code);
            b.push_slot_always(slot(1), i);
            b.push_slot_always(slot(2), o);
            b.push_slot_always(slot(3), opt);
            b.push_slot_always(slot(4), options);
        }));
    }

    // SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
    let tv = b.create_vector(&tensor_tables);
    let iv = b.create_vector(&[0i32]);
    let ov = b.create_vector(&[output]);
    let opv = b.create_vector(&ops);
    let name = b.create_string("main");
    let sg = table(&mut b, |b| {
        b.push_slot_always(slot(0), tv);
        b.push_slot_always(slot(1), iv);
        b.push_slot_always(slot(2), ov);
        b.push_slot_always(slot(3), opv);
        b.push_slot_always(slot(4), name);
    });
    // Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
    let cv = b.create_vector(&codes);
    let sv = b.create_vector(&[sg]);
    let desc = b.create_string("mote train: micro_speech features, DS-CNN-style int8 classifier");
    let bv = b.create_vector(&buffers);
    let model = table(&mut b, |b| {
        b.push_slot_always(slot(0), 3u32);
        b.push_slot_always(slot(1), cv);
        b.push_slot_always(slot(2), sv);
        b.push_slot_always(slot(3), desc);
        b.push_slot_always(slot(4), bv);
    });
    b.finish(model, Some("TFL3"));
    b.finished_data().to_vec()
}
