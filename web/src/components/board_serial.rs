//! "Connect to board": the board's log over Web Serial (the ST-LINK virtual COM port, 115200
//! 8N1), parsed by [`crate::board_log`]: its detections and cycles per inference, shown next to
//! the browser's own. Where `navigator.serial` is missing (Firefox, Safari, phones) it says so
//! and shows the terminal command instead.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::board_log::{parse_line, BoardLine, BoardState, LineSplitter};

#[wasm_bindgen(inline_js = r#"
export function serial_supported() {
  return typeof navigator !== 'undefined' && 'serial' in navigator;
}
export async function serial_open(on_text) {
  // 0x0483: STMicroelectronics (ST-LINK/V2-1 and V3).
  const port = await navigator.serial.requestPort({ filters: [{ usbVendorId: 0x0483 }] });
  await port.open({ baudRate: 115200 });
  const reader = port.readable.pipeThrough(new TextDecoderStream()).getReader();
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        on_text(value);
      }
    } catch (e) {
      on_text(null);
    }
    on_text(null);
  })();
}
"#)]
extern "C" {
    fn serial_supported() -> bool;
    #[wasm_bindgen(catch)]
    async fn serial_open(on_text: &Closure<dyn FnMut(Option<String>)>) -> Result<(), JsValue>;
}

/// The terminal commands shown where Web Serial is missing.
pub const TERMINAL_HELP: &str = "picocom -b 115200 /dev/ttyACM0        # Linux\nscreen /dev/tty.usbmodem* 115200       # macOS (Ctrl-A K quits)\n# Windows: PuTTY, Serial, the ST-LINK's COMn port, 115200 baud";

#[derive(Clone, PartialEq)]
enum Conn {
    Idle,
    Connecting,
    Open,
    Closed(String),
}

/// The panel.
#[function_component(BoardSerial)]
pub fn board_serial() -> Html {
    let state = use_state(BoardState::default);
    let conn = use_state(|| Conn::Idle);
    let supported = use_memo((), |_| serial_supported());
    if !*supported {
        return html! {
            <div class="board-serial" data-testid="serial-panel">
                <h3>{ "The board's log" }</h3>
                <p class="warn" data-testid="serial-unsupported">
                    { "This browser has no Web Serial (it is in Chrome and Edge on desktop), so the page cannot read the board. Read its log in a terminal instead:" }
                </p>
                <pre data-testid="serial-command">{ TERMINAL_HELP }</pre>
            </div>
        };
    }
    let onclick = {
        let (state, conn) = (state.clone(), conn.clone());
        Callback::from(move |_: MouseEvent| {
            let (state, conn) = (state.clone(), conn.clone());
            conn.set(Conn::Connecting);
            // The board's state lives here between chunks; the yew handle is updated per line.
            let shared = Rc::new(RefCell::new((
                LineSplitter::default(),
                BoardState::default(),
            )));
            let on_text = {
                let (state, conn) = (state.clone(), conn.clone());
                Closure::<dyn FnMut(Option<String>)>::new(move |text: Option<String>| {
                    let Some(text) = text else {
                        conn.set(Conn::Closed(
                            "the port closed (board unplugged or reset)".into(),
                        ));
                        return;
                    };
                    let mut s = shared.borrow_mut();
                    let (split, board) = &mut *s;
                    let lines = split.push(&text);
                    if lines.is_empty() {
                        return;
                    }
                    for l in lines {
                        board.apply(parse_line(&l));
                    }
                    state.set(board.clone());
                })
            };
            spawn_local(async move {
                match serial_open(&on_text).await {
                    Ok(()) => {
                        conn.set(Conn::Open);
                        // Called for as long as the port is open: the page keeps it.
                        on_text.forget();
                    }
                    Err(e) => conn.set(Conn::Closed(
                        e.as_string()
                            .or_else(|| {
                                js_sys::Reflect::get(&e, &"message".into())
                                    .ok()?
                                    .as_string()
                            })
                            .unwrap_or_else(|| "no port chosen".into()),
                    )),
                }
            });
        })
    };
    let s = &*state;
    html! {
        <div class="board-serial" data-testid="serial-panel">
            <h3>{ "The board's log" }</h3>
            <button data-testid="serial-connect" disabled={matches!(*conn, Conn::Connecting | Conn::Open)} {onclick}>
                { "Connect to board" }
            </button>
            <span class="note" data-testid="serial-status">{ match &*conn {
                Conn::Idle => "Plug the board in by its ST-LINK USB port, then connect (115200 baud).".to_string(),
                Conn::Connecting => "Choose the ST-LINK port…".into(),
                Conn::Open => "Connected.".into(),
                Conn::Closed(m) => format!("Not connected: {m}"),
            } }</span>
            { board_view(s) }
        </div>
    }
}

/// The parsed state: start line, errors, cycles, detections.
pub fn board_view(s: &BoardState) -> Html {
    html! {
        <div class="board-state">
            if let Some(BoardLine::Start { board, model_bytes, arena, state }) = &s.start {
                <div data-testid="board-start">{ format!("{board}: model {model_bytes} B, arena {arena} B, state {state} B") }</div>
            }
            if let Some((code, msg)) = &s.error {
                <div class="error" data-testid="board-error">{ format!("Board error (LED blinks {code}×): {msg}") }</div>
            }
            if let Some(m) = &s.mic {
                <div data-testid="board-mic">{ format!("microphone: {m}") }</div>
            }
            <div data-testid="board-cycles">{ match s.cycles {
                Some(c) => format!("{c} cycles per inference on the chip ({:.1} ms at 64 MHz)", c as f64 / 64_000.0),
                None => "cycles per inference: after 100 inferences".into(),
            } }</div>
            <ul data-testid="board-detections">
                { for s.detections.iter().rev().map(|(label, t_ms, score)| html! {
                    <li>{ format!("{label} at {:.2} s (score {score:.2})", *t_ms as f64 / 1000.0) }</li>
                }) }
            </ul>
        </div>
    }
}
