//! The `edgepass` binary; everything lives in the library. This is the one place that reads the process
//! environment and tunes the process itself.

fn main() -> std::process::ExitCode {
    return_large_allocations_to_the_system();
    let env = std::env::vars()
        .filter(|(name, _)| name.starts_with("EDGEPASS_") || name == "RUST_LOG")
        .collect();
    edgepass::cli::run(std::env::args_os(), env)
}

/// Each password hash works in ~19 MiB. glibc serves such blocks from its heap once its adaptive mmap
/// threshold has grown, and then keeps them: a burst of 16 logins left the process at 345 MiB for good.
/// A fixed 1 MiB threshold makes those blocks mappings of their own, returned on free; fixing it also fixes
/// the trim threshold, which is set high so that the heap is not shrunk and regrown on every request.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 * 1024 * 1024);
    }
}
