//! Keeps OpenGL out of the tray's start-up.
//!
//! The tray draws nothing with OpenGL, but GTK 3 on X11 loads the whole GL stack when it
//! opens the display, only to pick visuals: libGLX, the Mesa driver and libLLVM, about
//! 60 ms of a ~280 ms start here (docs/tray.md). `GDK_GL=disable` skips that. GDK reads
//! the variable once, in `gtk_init`, so the tray sets it just before Tauri initialises GTK
//! and removes it right after: nothing started from the tray (a window process with its
//! webview, the browser for "Open MLflow in browser") inherits it. A `GDK_GL` the user set is left
//! alone. Window processes keep GTK's default.

const VAR: &str = "GDK_GL";

/// What [`off_for_gtk_init`] did; [`GlOff::restore`] undoes it.
#[derive(Debug)]
#[must_use = "restore it once GTK is initialised"]
pub struct GlOff {
    set: bool,
}

/// Sets `GDK_GL=disable` unless the user set `GDK_GL`. Call it first thing in the tray
/// process, before Tauri starts.
#[allow(unsafe_code)]
pub fn off_for_gtk_init() -> GlOff {
    if !cfg!(target_os = "linux") || std::env::var_os(VAR).is_some() {
        return GlOff { set: false };
    }
    // SAFETY: called on the main thread before Tauri, GTK or our code start a thread; the
    // only other threads are ones that libraries' constructors started, and they do not
    // change the environment.
    unsafe { std::env::set_var(VAR, "disable") };
    GlOff { set: true }
}

impl GlOff {
    /// Removes the variable again. Call it on the main thread once GTK is initialised
    /// (Tauri's `setup`).
    #[allow(unsafe_code)]
    pub fn restore(self) {
        if self.set {
            // SAFETY: main thread, during Tauri's setup, before the tray starts any thread
            // of its own. GLib's and Tauri's threads may call getenv at the same time;
            // glibc's unsetenv shifts pointers in place and frees no string, so such a read
            // sees the variable or not, never freed memory.
            unsafe { std::env::remove_var(VAR) };
        }
    }
}
