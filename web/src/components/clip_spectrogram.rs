//! One training clip's features (its first second, as the trainer sees it), small.

use std::rc::Rc;

use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use crate::components::spectrogram::paint;
use crate::pipeline::CHANNELS;

/// Frames in a 1 s micro_speech window.
const FRAMES: usize = 49;

/// Props of [`ClipSpectrogram`].
#[derive(Properties, PartialEq)]
pub struct ClipSpectrogramProps {
    /// Frames × 40 values, int8 + 128.
    pub features: Rc<Vec<u8>>,
}

/// A 49 × 40 canvas.
#[function_component(ClipSpectrogram)]
pub fn clip_spectrogram(props: &ClipSpectrogramProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(props.features.clone(), move |f| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                paint(&c, FRAMES, f.chunks_exact(CHANNELS));
            }
        });
    }
    html! {
        <canvas ref={canvas} class="clip-spectrogram" width={FRAMES.to_string()} height={CHANNELS.to_string()} />
    }
}
