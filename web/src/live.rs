//! Glue between the browser audio ([`crate::audio`]), the pipeline ([`crate::pipeline`]) and
//! the page state: audio chunks go through a channel to one task that owns the model, its arena
//! and the pipeline, and dispatches each chunk's results.

use std::rc::Rc;

use futures_channel::mpsc::{unbounded, UnboundedReceiver};
use futures_util::StreamExt;
use mote_engine::pipeline::PipelineMemory;
use mote_engine::{Error, Model};
use yew::Callback;

use crate::audio::{self, Capture, Event, Source};
use crate::loaded::{explain, Loaded};
use crate::pipeline::{buffers, Pipeline};
use crate::state::{Action, LiveStatus};

/// A running live session; dropping it stops the capture, which ends the pipeline task.
pub struct LiveHandle {
    _capture: Capture,
}

/// Starts `source` through `model`'s pipeline, reporting to `dispatch`.
pub async fn start(
    model: Rc<Loaded>,
    source: Source,
    dispatch: Callback<Action>,
) -> Result<LiveHandle, String> {
    model.settings.as_ref().map_err(Clone::clone)?;
    let what = match &source {
        Source::Mic => "microphone".to_string(),
        Source::File { name, .. } => name.clone(),
    };
    let (tx, rx) = unbounded::<Vec<f32>>();
    let events = {
        let dispatch = dispatch.clone();
        let what = what.clone();
        move |e: Event| {
            dispatch.emit(Action::Live(match e {
                Event::Paused => LiveStatus::Paused,
                Event::Resumed => LiveStatus::Running(what.clone()),
                Event::Ended => LiveStatus::Finished,
            }))
        }
    };
    let capture = audio::start(
        source,
        move |chunk| {
            let _ = tx.unbounded_send(chunk);
        },
        events,
    )
    .await?;
    let rate = capture.rate().round() as u32;
    dispatch.emit(Action::LiveRate(rate));
    dispatch.emit(Action::Live(LiveStatus::Running(format!(
        "{what} at {rate} Hz"
    ))));
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = run(model, rate, rx, dispatch.clone()).await {
            dispatch.emit(Action::Live(LiveStatus::Error(e)));
        }
    });
    Ok(LiveHandle { _capture: capture })
}

/// The pipeline task: owns the model bytes, arena and state for as long as audio arrives.
async fn run(
    loaded: Rc<Loaded>,
    rate: u32,
    mut rx: UnboundedReceiver<Vec<f32>>,
    dispatch: Callback<Action>,
) -> Result<(), String> {
    let settings = loaded.settings.as_ref().map_err(Clone::clone)?;
    let bytes = &loaded.bytes;
    let model = Model::parse(bytes).map_err(|e| explain(&e, bytes))?;
    let (mut arena, mut state) = buffers(&model).map_err(|e| explain(&e, bytes))?;
    let mut mem = Box::new(PipelineMemory::EMPTY);
    let mut pipeline = Pipeline::new(&model, &mut arena, &mut state, &mut mem, settings, rate).map_err(|e| match e {
        Error::UnsupportedSampleRate { rate } => format!(
            "the audio device runs at {rate} Hz, which the resampler does not convert (it takes 8, 16, 22.05, 24, 32, 44.1, 48, 88.2 or 96 kHz)"
        ),
        e => explain(&e, bytes),
    })?;
    let performance = web_sys::window().and_then(|w| w.performance());
    let now = move || performance.as_ref().map_or(0.0, |p| p.now());
    while let Some(chunk) = rx.next().await {
        let out = pipeline
            .push(&chunk, &now)
            .map_err(|e| format!("inference failed: {e}"))?;
        dispatch.emit(Action::Chunk(out));
    }
    Ok(())
}
