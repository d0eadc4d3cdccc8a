//! The course's own consistency, without a VM: the book builds (mdbook is
//! installed if missing), the README lists every step as the manifest says,
//! every exercise is what its solution's marked regions give, and the
//! book's translations (po/LANG.po) are complete and build.

use xtask::course::Course;

#[test]
fn the_book_builds_without_warnings_or_broken_links() {
    let course = Course::load().unwrap();
    if let Err(problems) = xtask::book::build(&course) {
        panic!("{problems:#}");
    }
    // Code pasted from a hint must compile: no typographic quotes in the
    // rendered chapters (smart punctuation is off), and every hint's code
    // in backticks renders as <code>.
    for step in &course.step {
        let page = xtask::root().join(format!("book/build/steps/{}.html", step.id));
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            !html.contains('\u{201c}') && !html.contains('\u{201d}'),
            "{}: typographic quotes in the rendered page",
            page.display()
        );
        for hint in &step.hints {
            assert!(
                hint.contains('`'),
                "step {}: a hint with no code in backticks: {hint}",
                step.id
            );
        }
    }
}

#[test]
fn the_readme_lists_every_step_with_what_it_teaches() {
    let course = Course::load().unwrap();
    let readme = std::fs::read_to_string(xtask::root().join("README.md")).unwrap();
    for step in &course.step {
        let row = format!("| `{}` | {} |", step.id, step.teaches);
        assert!(readme.contains(&row), "README.md lacks the row:\n{row}");
    }
}

#[test]
fn every_exercise_is_derived_from_its_solution() {
    use xtask::exercise::State;
    let course = Course::load().unwrap();
    for step in &course.step {
        for file in xtask::exercise::derive_step(step).unwrap() {
            match file.state() {
                State::Untouched => {}
                State::Worked => panic!(
                    "{} holds your work in its TODO regions: the course's own tests expect the \
                     exercises untouched (`cargo xtask reset {}` restores it, discarding that work)",
                    file.path.display(),
                    step.id
                ),
                State::Drifted => panic!(
                    "{} differs from its solution outside the TODO regions: course authors run \
                     `cargo xtask exercises`",
                    file.path.display()
                ),
            }
        }
    }
}

#[test]
fn every_step_has_hints_and_a_scenario() {
    let course = Course::load().unwrap();
    for step in &course.step {
        assert!(step.hints.len() >= 2, "step {} needs graded hints", step.id);
        assert!(
            xtask::root().join(&step.scenario).is_file(),
            "{}",
            step.scenario
        );
        assert!(
            xtask::root()
                .join(format!("tests/snapshots/{}.snap", step.id))
                .is_file(),
            "step {} has no reviewed snapshot",
            step.id
        );
    }
}

/// A directory of this test's own under target/ (removed when dropped).
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = xtask::root()
            .join("target/nslab-book")
            .join(format!("test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_translation_of_the_book_is_complete_and_up_to_date() {
    let languages = xtask::translations::book::languages().unwrap();
    assert!(
        languages.iter().any(|l| l == "fr"),
        "po/fr.po is missing: {languages:?}"
    );
    xtask::mdbook::ensure_mdbook().unwrap();
    xtask::mdbook::ensure_i18n_helpers().unwrap();
    // The messages of the English book as it is now, extracted afresh.
    let scratch = Scratch::new("pot");
    let pot = xtask::mdbook::extract_messages(&scratch.0).unwrap();
    let mut problems = xtask::translations::book::template_problems(&pot).unwrap();
    for lang in &languages {
        problems.extend(xtask::translations::book::catalogue_problems(lang, &pot).unwrap());
    }
    assert!(
        problems.is_empty(),
        "the book's translations are behind its English text:\n  {}\n\
         Run `cargo xtask book --update-po`, then translate each empty or fuzzy \
         entry of po/LANG.po and remove its fuzzy flag (README: For translators).",
        problems.join("\n  ")
    );
    // GNU gettext's own check: the format, and every message translated,
    // none fuzzy.
    for lang in &languages {
        let po = xtask::root().join(format!("po/{lang}.po"));
        let out = std::process::Command::new("msgfmt")
            .args(["--check", "--statistics", "--output-file=/dev/null"])
            .arg(&po)
            .output()
            .expect("msgfmt (GNU gettext) runs: install gettext, as .ci/run does");
        let report = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "msgfmt --check po/{lang}.po:\n{report}"
        );
        assert!(
            !report.contains("fuzzy") && !report.contains("untranslated"),
            "msgfmt --statistics po/{lang}.po: {report}"
        );
    }
}

#[test]
fn the_french_book_has_every_chapter_and_a_language_switch() {
    let course = Course::load().unwrap();
    let scratch = Scratch::new("fr");
    // build_into checks every link and anchor, each page's language and
    // its link to the other language; this test checks what it does not:
    // every step has its chapter, and each French page its French heading.
    if let Err(problems) = xtask::book::build_into(&course, &scratch.0) {
        panic!("{problems:#}");
    }
    let summary = std::fs::read_to_string(xtask::root().join("book/src/SUMMARY.md")).unwrap();
    let chapters: Vec<&str> = summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .collect();
    for step in &course.step {
        let chapter = format!("steps/{}.md", step.id);
        assert!(
            chapters.contains(&chapter.as_str()),
            "SUMMARY.md lacks {chapter}"
        );
    }
    let heading = |html: &str| -> String {
        let at = html.find("<h1").expect("a page with a heading");
        let text = &html[at..];
        let text = &text[text.find('>').unwrap() + 1..text.find("</h1>").unwrap()];
        text.split('<')
            .map(|part| part.rsplit('>').next().unwrap_or(""))
            .collect()
    };
    for chapter in chapters {
        let page = chapter.replace(".md", ".html");
        let english = std::fs::read_to_string(scratch.0.join(&page)).unwrap();
        let french = std::fs::read_to_string(scratch.0.join("fr").join(&page))
            .unwrap_or_else(|e| panic!("book/build/fr/{page}: {e}"));
        // Its heading is the French one ("Introduction" is both).
        if page != "introduction.html" {
            assert_ne!(
                heading(&english),
                heading(&french),
                "fr/{page}: an English heading"
            );
        }
    }
}

#[test]
fn every_step_is_solvable_from_its_text() {
    let course = Course::load().unwrap();
    let mut problems = Vec::new();
    for step in &course.step {
        let files = xtask::exercise::derive_step(step).unwrap();
        problems.extend(xtask::solvable::problems(step, &files).unwrap());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
