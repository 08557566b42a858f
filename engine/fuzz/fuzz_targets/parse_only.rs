//! Fuzz the .tflite reader: `Model::parse`, then every accessor a tool (`mote inspect`) uses.
//! Property: no panic, no sanitizer report, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_engine::Model;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = Model::parse(data) else {
        return;
    };
    let _ = (model.version(), model.description(), model.weights_bytes());
    for i in 0..model.opcode_count() + 1 {
        let _ = model.opcode(i);
    }
    for i in 0..model.buffer_count() + 1 {
        let _ = model.buffer(i);
    }
    for s in 0..model.subgraph_count() + 1 {
        let Some(sg) = model.subgraph(s) else {
            continue;
        };
        let _ = sg.name();
        let _: i64 = sg
            .inputs()
            .iter()
            .chain(sg.outputs().iter())
            .map(i64::from)
            .sum();
        for t in 0..sg.tensor_count() + 1 {
            if let Some(t) = sg.tensor(t) {
                let q = t.quant;
                let _ = (
                    t.bytes(),
                    t.shape.elements(),
                    t.shape.extended(6),
                    q.scale(),
                    q.zero_point(),
                );
                let _ = (
                    t.dtype.name(),
                    q.scales.get(q.scales.len()),
                    q.zero_points.get(0),
                );
            }
        }
        for k in 0..sg.operator_count() + 1 {
            let Some(op) = sg.operator(k) else { continue };
            let _ = sg.opcode(&op);
            let _ = op
                .inputs
                .iter()
                .chain(op.outputs.iter())
                .chain(op.intermediates.iter())
                .count();
            // Option reads at every slot and width must fail cleanly, never panic.
            for slot in 0..24 {
                let o = op.options;
                let _ = (
                    o.i32(slot, 0),
                    o.i8(slot, 0),
                    o.u8(slot, 0),
                    o.bool(slot, false),
                    o.f32(slot, 0.0),
                );
                let _ = (o.i32s(slot).map(|v| v.iter().count()), o.string(slot));
            }
        }
    }
});
