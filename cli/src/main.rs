//! The `simopt` binary: see the `simopt_cli` library for the commands.

fn main() {
    use std::io::IsTerminal;
    let stderr = std::io::stderr();
    let on_terminal = stderr.is_terminal();
    let code = simopt_cli::run_on_terminal(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut stderr.lock(),
        on_terminal,
    );
    std::process::exit(code);
}
