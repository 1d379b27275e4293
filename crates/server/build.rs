//! Rebuild when the web client's build changes: its files are compiled in
//! (`src/web.rs`).
fn main() {
    println!("cargo:rerun-if-changed=../../web/dist");
}
