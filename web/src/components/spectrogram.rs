//! Live feature heatmap: the model's int8 input features, one column per frame (newest at the
//! right), 40 mel channels from low (bottom) to high (top).

use std::rc::Rc;

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

use crate::pipeline::CHANNELS;
use crate::state::{LiveView, FRAMES_KEPT};

/// Props of [`Spectrogram`].
#[derive(Properties, PartialEq)]
pub struct SpectrogramProps {
    /// Live data.
    pub live: Rc<LiveView>,
}

/// Draws the heatmap into a FRAMES_KEPT × 40 canvas scaled up by CSS.
#[function_component(Spectrogram)]
pub fn spectrogram(props: &SpectrogramProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        let live = props.live.clone();
        use_effect_with(props.live.seq, move |_| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                draw(&c, &live);
            }
        });
    }
    html! {
        <canvas ref={canvas} class="spectrogram" width={FRAMES_KEPT.to_string()} height={CHANNELS.to_string()} data-testid="spectrogram" />
    }
}

/// A dark-blue → yellow ramp for 0..255.
pub fn ramp(v: u8) -> [u8; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [13.0, 8.0, 135.0],
        [126.0, 3.0, 168.0],
        [204.0, 71.0, 120.0],
        [248.0, 149.0, 64.0],
        [240.0, 249.0, 33.0],
    ];
    let t = f32::from(v) / 255.0 * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f32;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    [0, 1, 2].map(|k| (a[k] + (b[k] - a[k]) * f).round() as u8)
}

fn draw(c: &HtmlCanvasElement, live: &LiveView) {
    paint(c, FRAMES_KEPT, live.frames.iter().map(|f| &f[..]));
}

/// The canvas's 2D context (`None` if the browser gives none).
pub fn context_2d(c: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    c.get_context("2d")
        .ok()
        .flatten()
        .and_then(|x| x.dyn_into::<CanvasRenderingContext2d>().ok())
}

/// Paints `frames` (each [`CHANNELS`] values, int8 + 128; oldest first, right-aligned) into a
/// `w` × [`CHANNELS`] canvas.
pub fn paint<'a>(c: &HtmlCanvasElement, w: usize, frames: impl ExactSizeIterator<Item = &'a [u8]>) {
    let Some(ctx) = context_2d(c) else {
        return;
    };
    let mut px = vec![0u8; w * CHANNELS * 4];
    for p in px.chunks_exact_mut(4) {
        p[3] = 255;
    }
    let offset = w.saturating_sub(frames.len());
    for (col, frame) in frames.enumerate() {
        for (ch, &v) in frame.iter().enumerate() {
            let row = CHANNELS - 1 - ch;
            let i = (row * w + offset + col) * 4;
            if let Some(p) = px.get_mut(i..i + 3) {
                p.copy_from_slice(&ramp(v));
            }
        }
    }
    if let Ok(img) =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&px), w as u32, CHANNELS as u32)
    {
        let _ = ctx.put_image_data(&img, 0.0, 0.0);
    }
}
