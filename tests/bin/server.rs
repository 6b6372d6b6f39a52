//! The real `kiemke-server`, built into this crate so end-to-end tests can run
//! it as a process (and kill it) at a path cargo guarantees is built.
fn main() -> std::process::ExitCode {
    kiemke_server::cli::main()
}
