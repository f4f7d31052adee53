//! No npm here: the console is built by `deploy/local/run` (or `npm --prefix web run build`).
//! This only tells cargo when the release binary, which embeds `web/dist` (rust-embed), is
//! stale: a new console build has new hashed file names, which the compiler cannot know of.
//! Debug builds read the files from disk when asked, so they never need rebuilding for it.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    if std::path::Path::new("../../web/dist").exists() {
        println!("cargo::rerun-if-changed=../../web/dist");
    } else {
        // Until the console is built: its appearance is a change under web/.
        println!("cargo::rerun-if-changed=../../web");
    }
}
