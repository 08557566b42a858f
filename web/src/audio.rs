//! Browser audio in: the microphone (getUserMedia) or a decoded audio file, both routed through
//! one AudioWorklet that posts ~50 ms `Float32Array` chunks (channels averaged) to Rust.
//!
//! The context is opened at 16 kHz when the browser allows it (Chromium resamples the
//! microphone itself); otherwise at the device rate, and [`crate::pipeline::resample`] converts.
//! While the tab is hidden the context is suspended (no audio is captured), and resumed when the
//! tab is shown again.

use gloo::events::EventListener;
use js_sys::{Array, Float32Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AudioBuffer, AudioBufferSourceNode, AudioContext, AudioContextOptions, AudioWorkletNode, Blob,
    BlobPropertyBag, DomException, MediaStream, MediaStreamConstraints, MediaStreamTrack,
    MessageEvent, Url,
};

/// Name the worklet processor registers.
const PROCESSOR: &str = "mote-capture";

/// The AudioWorkletProcessor: averages the input's channels, collects `sampleRate / 20`
/// samples, and transfers each full buffer to the main thread.
const WORKLET_JS: &str = r#"
class MoteCapture extends AudioWorkletProcessor {
  constructor() { super(); this.size = Math.round(sampleRate / 20); this.buf = new Float32Array(this.size); this.n = 0; }
  process(inputs) {
    const chans = inputs[0];
    if (!chans || chans.length === 0) return true;
    const len = chans[0].length, k = chans.length;
    for (let i = 0; i < len; i++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += chans[c][i];
      this.buf[this.n++] = s / k;
      if (this.n === this.size) {
        this.port.postMessage(this.buf, [this.buf.buffer]);
        this.buf = new Float32Array(this.size);
        this.n = 0;
      }
    }
    return true;
  }
}
registerProcessor('mote-capture', MoteCapture);
"#;

/// Where the audio comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The default microphone.
    Mic,
    /// An audio file (WAV or anything the browser decodes), played once.
    File {
        /// File name, for the status line.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
}

/// State changes the capture reports after it started.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The tab was hidden: capture paused.
    Paused,
    /// The tab is visible again: capture resumed.
    Resumed,
    /// The file finished playing.
    Ended,
}

/// A running capture; dropping it stops the microphone and closes the audio context.
pub struct Capture {
    ctx: AudioContext,
    stream: Option<MediaStream>,
    node: AudioWorkletNode,
    rate: f64,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onended: Option<Closure<dyn FnMut()>>,
    _visibility: EventListener,
}

impl Capture {
    /// Sample rate of the chunks, Hz.
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(stream) = &self.stream {
            for t in stream.get_tracks().iter() {
                if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                    t.stop();
                }
            }
        }
        if let Ok(port) = self.node.port() {
            port.set_onmessage(None);
        }
        let _ = self.node.disconnect();
        let _ = self.ctx.close();
    }
}

/// Starts capturing from `source`; `on_chunk` gets each chunk of samples, `on_event` pauses,
/// resumes and the end of a file. The error is a sentence for the page.
pub async fn start(
    source: Source,
    on_chunk: impl FnMut(Vec<f32>) + 'static,
    on_event: impl Fn(Event) + 'static,
) -> Result<Capture, String> {
    let window = web_sys::window().ok_or("no window")?;
    let stream = match &source {
        Source::Mic => Some(open_microphone(&window).await?),
        Source::File { .. } => None,
    };
    // 16 kHz if the browser accepts it for this source; the device rate otherwise.
    let ctx = match new_context(Some(16_000.0)) {
        Ok(ctx) => ctx,
        Err(_) => new_context(None)
            .map_err(|e| format!("cannot open an audio context: {}", describe(&e)))?,
    };
    let (ctx, mic) = match &stream {
        Some(s) => match ctx.create_media_stream_source(s) {
            Ok(src) => (ctx, Some(src)),
            Err(_) => {
                // Firefox refuses a microphone in a context at another rate.
                let _ = ctx.close();
                let ctx = new_context(None)
                    .map_err(|e| format!("cannot open an audio context: {}", describe(&e)))?;
                let src = ctx
                    .create_media_stream_source(s)
                    .map_err(|e| describe(&e))?;
                (ctx, Some(src))
            }
        },
        None => (ctx, None),
    };
    let node = worklet_node(&ctx).await?;
    let mut on_chunk = on_chunk;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Ok(buf) = e.data().dyn_into::<Float32Array>() {
            on_chunk(buf.to_vec());
        }
    });
    node.port()
        .map_err(|e| describe(&e))?
        .set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    node.connect_with_audio_node(&ctx.destination())
        .map_err(|e| describe(&e))?;

    let on_event = std::rc::Rc::new(on_event);
    let mut onended = None;
    match (&source, mic) {
        (Source::Mic, Some(src)) => {
            src.connect_with_audio_node(&node)
                .map_err(|e| describe(&e))?;
        }
        (Source::File { name, bytes }, _) => {
            let data = js_sys::Uint8Array::from(bytes.as_slice()).buffer();
            let decoded = JsFuture::from(ctx.decode_audio_data(&data).map_err(|e| describe(&e))?)
                .await
                .map_err(|e| format!("cannot decode {name}: {}", describe(&e)))?;
            let buffer: AudioBuffer = decoded
                .dyn_into()
                .map_err(|_| format!("cannot decode {name}"))?;
            let src: AudioBufferSourceNode =
                ctx.create_buffer_source().map_err(|e| describe(&e))?;
            src.set_buffer(Some(&buffer));
            src.connect_with_audio_node(&node)
                .map_err(|e| describe(&e))?;
            // Audible too, so the person hears what the model hears.
            src.connect_with_audio_node(&ctx.destination())
                .map_err(|e| describe(&e))?;
            let ev = on_event.clone();
            let cb = Closure::<dyn FnMut()>::new(move || ev(Event::Ended));
            AsRef::<web_sys::AudioScheduledSourceNode>::as_ref(&src)
                .set_onended(Some(cb.as_ref().unchecked_ref()));
            src.start().map_err(|e| describe(&e))?;
            onended = Some(cb);
        }
        (Source::Mic, None) => return Err("no microphone stream".into()),
    }
    let _ = JsFuture::from(ctx.resume().map_err(|e| describe(&e))?).await;

    let document = window.document().ok_or("no document")?;
    let visibility = {
        let ctx = ctx.clone();
        let doc = document.clone();
        let ev = on_event.clone();
        EventListener::new(&document, "visibilitychange", move |_| {
            if doc.hidden() {
                let _ = ctx.suspend();
                ev(Event::Paused);
            } else {
                let _ = ctx.resume();
                ev(Event::Resumed);
            }
        })
    };
    Ok(Capture {
        rate: f64::from(ctx.sample_rate()),
        ctx,
        stream,
        node,
        _onmessage: onmessage,
        _onended: onended,
        _visibility: visibility,
    })
}

/// An audio context at `rate` Hz (or the device's rate).
fn new_context(rate: Option<f32>) -> Result<AudioContext, JsValue> {
    let opts = AudioContextOptions::new();
    if let Some(r) = rate {
        opts.set_sample_rate(r);
    }
    AudioContext::new_with_context_options(&opts)
}

/// Asks for the microphone, without the browser's echo cancellation, noise suppression and
/// gain control (they change the signal the model was trained on).
async fn open_microphone(window: &web_sys::Window) -> Result<MediaStream, String> {
    let navigator = window.navigator();
    let has_devices = Reflect::get(&navigator, &"mediaDevices".into())
        .map(|v| !v.is_undefined())
        .unwrap_or(false);
    if !has_devices {
        return Err(
            "this browser offers no microphone here: the page needs a secure context \
                    (https:// or http://127.0.0.1). You can still play a WAV file."
                .into(),
        );
    }
    let devices = navigator.media_devices().map_err(|e| describe(&e))?;
    let audio = Object::new();
    for key in ["echoCancellation", "noiseSuppression", "autoGainControl"] {
        let _ = Reflect::set(&audio, &key.into(), &JsValue::FALSE);
    }
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&audio);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| describe(&e))?;
    let stream = JsFuture::from(promise).await.map_err(|e| mic_error(&e))?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| "the browser returned no audio stream".to_string())
}

/// A sentence for a getUserMedia rejection.
fn mic_error(e: &JsValue) -> String {
    let name = e
        .dyn_ref::<DomException>()
        .map(|d| d.name())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => {
            "microphone permission was denied: allow it for this page \
            (the icon in the address bar), or play a WAV file instead"
                .into()
        }
        "NotFoundError" | "OverconstrainedError" => {
            "no microphone was found: plug one in, or play a WAV file instead".into()
        }
        "NotReadableError" | "AbortError" => {
            "the microphone could not be opened (another application may be using it)".into()
        }
        _ => format!("the microphone could not be opened: {}", describe(e)),
    }
}

/// Loads the worklet from a same-origin blob: URL and creates its node.
async fn worklet_node(ctx: &AudioContext) -> Result<AudioWorkletNode, String> {
    let parts = Array::of1(&JsValue::from_str(WORKLET_JS));
    let opts = BlobPropertyBag::new();
    opts.set_type("text/javascript");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(|e| describe(&e))?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|e| describe(&e))?;
    let worklet = ctx.audio_worklet().map_err(|_| {
        "this browser has no AudioWorklet (needs a secure context and a current browser)"
            .to_string()
    })?;
    let added = JsFuture::from(worklet.add_module(&url).map_err(|e| describe(&e))?).await;
    let _ = Url::revoke_object_url(&url);
    added.map_err(|e| format!("cannot load the audio worklet: {}", describe(&e)))?;
    AudioWorkletNode::new(ctx, PROCESSOR).map_err(|e| describe(&e))
}

/// A JS error as text.
pub fn describe(e: &JsValue) -> String {
    if let Some(d) = e.dyn_ref::<DomException>() {
        return format!("{}: {}", d.name(), d.message());
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}
