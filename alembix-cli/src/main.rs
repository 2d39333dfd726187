//! `alembix`: the command line over a folder of migrations (`cargo install alembix-cli`).

fn main() -> std::process::ExitCode {
    alembix_cli::main("alembix")
}
