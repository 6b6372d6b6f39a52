fn main() -> std::process::ExitCode {
    kiemke_server::cli::main()
}
