//! Operators in execution order: MACs, weights, output shape and the estimated time on an
//! STM32L4 at the selected clock (instructions from `mote_exporter::energy`).

use std::rc::Rc;

use mote_exporter::report::ModelReport;
use yew::prelude::*;

use crate::boards::group;
use crate::loaded::Loaded;
use crate::perf;

/// A layer's share of the model's constant data.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerWeights {
    /// Execution step of the layer that first reads the constants.
    pub step: u32,
    /// Bytes of constant tensors (weights, biases, shape operands, variable initial values).
    pub bytes: u32,
}

/// Constant tensors attributed to the first operator (in execution order) that reads them.
pub fn layer_weights(report: &ModelReport) -> Vec<LayerWeights> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for op in &report.ops {
        let mut bytes = 0u32;
        for &t in &op.inputs {
            let Ok(t) = usize::try_from(t) else { continue };
            let Some(tensor) = report
                .tensors
                .iter()
                .find(|x| x.subgraph == op.subgraph && x.index == t)
            else {
                continue;
            };
            if tensor.kind == "constant" && seen.insert((op.subgraph, t)) {
                bytes += tensor.bytes;
            }
        }
        if bytes > 0 {
            out.push(LayerWeights {
                step: op.step,
                bytes,
            });
        }
    }
    out
}

/// Props of [`LayerTable`].
#[derive(Properties, PartialEq)]
pub struct LayerTableProps {
    /// The loaded model (its report must exist).
    pub model: Rc<Loaded>,
    /// Core clock of the latency column, MHz.
    pub mhz: u32,
}

/// The per-operator table with totals.
#[function_component(LayerTable)]
pub fn layer_table(props: &LayerTableProps) -> Html {
    let Ok(r) = &props.model.report else {
        return html! {};
    };
    let weights = layer_weights(r);
    let shape_of = |sg: usize, t: i32| {
        r.tensors
            .iter()
            .find(|x| x.subgraph == sg && x.index as i32 == t)
            .map_or(String::new(), |x| format!("{:?}", x.shape))
    };
    let mhz = props.mhz;
    let est = perf::invoke(r);
    let total_ms = perf::latency_ms(est.instructions, mhz);
    html! {
        <div class="layers">
            <table>
                <thead><tr>
                    <th>{ "step" }</th><th>{ "operator" }</th><th>{ "output" }</th>
                    <th class="num">{ "MACs" }</th><th class="num">{ "weights (B)" }</th><th class="num">{ "instructions" }</th><th class="num">{ format!("est. µs @{mhz} MHz") }</th>
                </tr></thead>
                <tbody>
                    { for r.ops.iter().enumerate().map(|(k, o)| {
                        let w = weights.iter().find(|w| w.step == o.step).map_or(0, |w| w.bytes);
                        let insns = est.layers.get(k).map_or(0, |l| l.instructions);
                        let is_peak = o.step == r.peak_step;
                        html! {
                            <tr class={classes!(is_peak.then_some("peak-row"))}>
                                <td>{ o.step }</td>
                                <td>{ format!("{} v{}", o.op, o.version) }{ if o.subgraph > 0 { format!(" (subgraph {})", o.subgraph) } else { String::new() } }</td>
                                <td>{ o.outputs.first().map_or(String::new(), |&t| shape_of(o.subgraph, t)) }</td>
                                <td class="num">{ if o.macs > 0 { group(o.macs) } else { String::new() } }</td>
                                <td class="num">{ if w > 0 { group(u64::from(w)) } else { String::new() } }</td>
                                <td class="num">{ if insns > 0 { group(insns) } else { String::new() } }</td>
                                <td class="num">{ if insns > 0 { format!("{:.0}", perf::latency_ms(insns, mhz) * 1000.0) } else { String::new() } }</td>
                            </tr>
                        }
                    }) }
                </tbody>
                <tfoot><tr>
                    <td colspan="3">{ format!("{} operators", r.ops.len()) }</td>
                    <td class="num" data-testid="total-macs">{ group(r.macs) }</td>
                    <td class="num">{ group(weights.iter().map(|w| u64::from(w.bytes)).sum()) }</td>
                    <td class="num" data-testid="total-instructions">{ group(est.instructions) }</td>
                    <td class="num" data-testid="latency-estimate">{ format!("{:.2} ms", total_ms) }</td>
                </tr></tfoot>
            </table>
            <p class="note" data-testid="latency-method">{ format!("Latency = instructions ÷ {mhz} MHz (total includes {} instructions of interpreter overhead). Instructions are counted, cycles estimated: {}.", group(est.overhead), perf::METHOD) }</p>
        </div>
    }
}
