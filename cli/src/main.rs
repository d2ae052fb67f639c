//! The `simopt` binary: see the `simopt_cli` library for the commands.

fn main() {
    let code = simopt_cli::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
