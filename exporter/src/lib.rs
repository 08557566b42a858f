//! Library half of the `mote` CLI: model reports shared by the CLI and (later) the web app.
