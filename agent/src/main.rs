fn main() -> std::process::ExitCode {
    kiemke_agent::cli::main()
}
