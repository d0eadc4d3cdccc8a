//! mdbook preprocessor for the course book (`book/book.toml` runs it with
//! `cargo run`): mdbook asks `mdbook-nslab supports RENDERER` first, then
//! passes `[context, book]` as JSON on stdin and reads the book back on
//! stdout. The directives themselves are expanded by `xtask::book`.

use std::io::Read;
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
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let (context, mut book): (serde_json::Value, serde_json::Value) = serde_json::from_str(&input)?;
    // The book's language (`book.language`, "fr" for the French book), for
    // the words the directives add around the course's text.
    let language = context
        .pointer("/config/book/language")
        .and_then(|l| l.as_str())
        .unwrap_or("en");
    let course = xtask::course::Course::load()?;
    xtask::book::preprocess(&course, &mut book, language)?;
    serde_json::to_writer(std::io::stdout().lock(), &book)?;
    Ok(())
}
