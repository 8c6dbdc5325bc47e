//! Links the unwinder statically on Linux with glibc, so the CLI loads no libgcc_s.so.1.
//!
//! Rust's std needs an unwinder (backtraces; unwinding in debug builds) and on glibc asks
//! for the shared one, libgcc_s. Loading it is 0.1 ms of a ~1.3 ms `mlflow-login` start
//! (`make bench`: `--version` against /bin/true, target 2x). GCC ships the same unwinder as
//! a static archive, libgcc_eh.a, which is what Rust itself links for `crt-static` builds.
//! Linked whole, it defines every `_Unwind_*` symbol before the linker reaches `-lgcc_s`,
//! which `--as-needed` then leaves out. tests/bench/cli.sh lists the libraries the release
//! CLI loads.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo:rustc-link-lib=static:+whole-archive=gcc_eh");
    }
}
