//! The course's own consistency, without a VM: the book builds (mdbook is
//! installed if missing), the README lists every step as the manifest says,
//! and every exercise is what its solution's marked regions give.

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

#[test]
fn every_diagnosis_pattern_is_a_valid_regex() {
    let course = Course::load().unwrap();
    for step in &course.step {
        for diagnosis in &step.diagnosis {
            if let Err(err) = regex::Regex::new(&diagnosis.pattern) {
                panic!("step {}: bad diagnosis pattern: {err}", step.id);
            }
        }
    }
}
