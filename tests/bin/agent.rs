//! The real `kiemke-agent`, built into this crate so end-to-end tests can run
//! it as a process at a path cargo guarantees is built.
fn main() -> std::process::ExitCode {
    kiemke_agent::cli::main()
}
