fn main() -> std::process::ExitCode {
    tessera::cli::run()
}
