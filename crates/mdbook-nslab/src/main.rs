//! The `mdbook-nslab` program, which `book/book.toml` runs with `cargo
//! run`: mdbook asks `mdbook-nslab supports RENDERER` first, then passes
//! `[context, book]` as JSON on stdin and reads the book back on stdout.
//! The directives are expanded by the library ([`mdbook_nslab`]).

use mdbook_preprocessor::Preprocessor;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("supports") {
        // Every renderer: the directives expand to plain Markdown.
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mdbook-nslab: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let (context, book) = mdbook_preprocessor::parse_input(std::io::stdin().lock())?;
    let book = mdbook_nslab::Nslab.run(&context, book)?;
    serde_json::to_writer(std::io::stdout().lock(), &book)?;
    Ok(())
}
