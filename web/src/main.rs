//! Entry point trunk builds: mounts the playground on `<body>`.

fn main() {
    mote_web::start();
}
