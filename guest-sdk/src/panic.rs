//! A panic hook without the standard hook's closing advice, "note: run with
//! `RUST_BACKTRACE=1` environment variable to display a backtrace": a bench cannot follow it
//! (the host passes only the rank variables, and wasm has no backtrace to show). The panic
//! itself is printed as the standard hook prints it, on stderr.

use std::sync::Once;

/// Install the hook, once; every SDK entry point calls this.
pub(crate) fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(print_panic)));
}

#[allow(clippy::print_stderr)] // A panic's message belongs on stderr, as Rust's own hook puts it.
fn print_panic(info: &std::panic::PanicHookInfo<'_>) {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    match info.location() {
        Some(at) => eprintln!("thread '{name}' panicked at {at}:\n{message}"),
        None => eprintln!("thread '{name}' panicked:\n{message}"),
    }
}
