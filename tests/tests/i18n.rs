//! The course's messages in French (`po/course`, see `xtask::translations`): the
//! catalogue is up to date with course.toml and xtask's messages, every
//! entry has a French that is neither missing nor fuzzy and keeps its
//! placeholders and code; and the student commands speak French under a
//! French locale, English with `--lang en`.

use nslab_tests::{stdout, temp_progress, xtask};
use xtask::course::{Course, Variant};
use xtask::i18n::{Lang, msg};
use xtask::translations::course as catalogue;

/// French, which has a catalogue.
fn fr() -> Lang {
    Lang::of("fr").expect("po/course/fr.po exists")
}

#[test]
fn the_course_catalogue_is_up_to_date_and_complete() {
    let course = Course::load().unwrap();
    let mut problems = catalogue::template_problems(&course);
    for lang in Lang::all() {
        problems.extend(catalogue::catalogue_problems(&course, lang));
    }
    assert!(Lang::all().contains(&fr()), "{:?}", Lang::all());
    assert!(
        problems.is_empty(),
        "the course's catalogues are not complete:\n{}\n\n{}",
        problems.join("\n"),
        catalogue::HOW_TO_UPDATE
    );
}

#[test]
fn msgfmt_checks_the_catalogue() {
    let po = fr().catalogue().unwrap();
    let result = xtask::translations::msgfmt_check(&po)
        .expect("msgfmt (GNU gettext) runs: install gettext, as .ci/run does");
    match result {
        Ok(said) => assert!(
            regex::Regex::new(r"^\d+ translated messages\.$")
                .unwrap()
                .is_match(&said),
            "msgfmt --check --statistics {}: {said}\n{}",
            po.display(),
            catalogue::HOW_TO_UPDATE
        ),
        Err(said) => panic!(
            "msgfmt --check {} failed:\n{said}\n{}",
            po.display(),
            catalogue::HOW_TO_UPDATE
        ),
    }
}

/// The label `report::describe` translates is the one the plan gives a
/// student's exercise.
#[test]
fn the_students_run_is_named_as_the_catalogue_says() {
    let course = Course::load().unwrap();
    let jobs = xtask::plan::plan(&course.step[..1], xtask::plan::Audience::Exercises).unwrap();
    assert_eq!(jobs[0].variant, Variant::Exercise);
    assert_eq!(jobs[0].describe(), msg::YOUR_EXERCISE);
}

/// The French of `english`, from the catalogue.
fn french(english: &str) -> String {
    let entries = nslab_course::po::read(&fr().catalogue().unwrap()).unwrap();
    let entry = entries.iter().find(|e| e.id == english && e.usable());
    entry
        .unwrap_or_else(|| panic!("no French for: {english}"))
        .translation
        .clone()
}

#[test]
fn hint_speaks_french_under_a_french_locale() {
    let course = Course::load().unwrap();
    let sem = course.find("sem").unwrap();
    let progress = temp_progress();
    let fr = [("LANG", "fr_FR.UTF-8")];
    let out = xtask(&["hint", "sem"], &fr, &progress);
    assert!(out.status.success());
    let title = xtask::i18n::fill(
        &french(msg::HINT),
        &[("n", &1), ("total", &sem.hints.len()), ("step", &"sem")],
    );
    assert_eq!(
        stdout(&out),
        format!("{title}\n  {}\n\n", french(&sem.hints[0]))
    );
    assert!(title.starts_with("Indice 1 sur "), "{title}");

    // The next hint, in English with --lang en under the same locale.
    let out = xtask(&["--lang", "en", "hint", "sem"], &fr, &progress);
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "Hint 1 of {} for sem:\n  {}\n",
            sem.hints.len(),
            sem.hints[0]
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "Hint 2 of {} for sem:\n  {}\n",
        sem.hints.len(),
        sem.hints[1]
    )));

    // The progress in French: the step's French title and what it teaches.
    let out = xtask(&["progress"], &[("LC_MESSAGES", "fr_CA.UTF-8")], &progress);
    let text = stdout(&out);
    assert!(text.contains(&french(&sem.title)), "{text}");
    assert!(text.contains(&french(&sem.teaches)), "{text}");
    assert!(text.contains(": 2)"), "two hints seen, in French: {text}");
}

#[test]
fn the_locale_is_read_as_gettext_does() {
    let progress = temp_progress();
    let english = "no step 'nope'";
    let french = "aucune étape « nope »";
    for (env, expected) in [
        (&[][..], english),
        (&[("LANG", "fr_FR.UTF-8")][..], french),
        (&[("LANG", "fr_FR.UTF-8"), ("LC_ALL", "C")][..], english),
        (
            &[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "fr_FR")][..],
            french,
        ),
        (
            &[("LANG", "en_US.UTF-8"), ("LANGUAGE", "fr:en")][..],
            french,
        ),
        (&[("LANG", "de_DE.UTF-8")][..], english),
    ] {
        let out = xtask(&["hint", "nope"], env, &progress);
        assert_eq!(out.status.code(), Some(2));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(expected), "{env:?}: {said}");
    }
    // --lang fr wins over an English locale.
    let out = xtask(
        &["hint", "nope", "--lang", "fr"],
        &[("LC_ALL", "C")],
        &progress,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(french));
}

/// An untouched exercise fails `verify` in the VM, in French: the
/// diagnosis and xtask's lines are French, the diff of the program's
/// output is not.
#[test]
fn a_failing_verify_speaks_french() {
    let course = Course::load().unwrap();
    let sem = course.find("sem").unwrap();
    let todo = sem.diagnosis("todo").unwrap();
    let progress = temp_progress();
    let out = xtask(&["verify", "sem"], &[("LANG", "fr_FR.UTF-8")], &progress);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let french_line = |english: &str, args: &[(&str, &dyn std::fmt::Display)]| {
        xtask::i18n::fill(&french(english), args)
    };
    for line in [
        french_line(
            msg::VERIFYING,
            &[("step", &"sem"), ("title", &french(&sem.title))],
        ),
        french_line(
            msg::LIKELY_MISTAKE,
            &[("diagnosis", &french(&todo.message))],
        ),
        french_line(msg::NOT_YET, &[("step", &"sem")]),
        french(msg::DIFF_HEADER),
    ] {
        assert!(text.contains(&line), "no line {line:?} in:\n{text}");
    }
    assert!(text.contains(&french(msg::YOUR_EXERCISE)), "{text}");
    // The run's times, in French too (restored, or booted when snapshots are off).
    let started = [msg::RESTORED_IN, msg::BOOTED_IN]
        .map(|m| french(m).split('{').next().unwrap().to_string());
    assert!(started.iter().any(|s| text.contains(s.as_str())), "{text}");
    let scenario = french(msg::SCENARIO_TOOK);
    assert!(text.contains(scenario.split('{').next().unwrap()), "{text}");
    assert!(
        !text.contains("restored in") && !text.contains("expected (-)"),
        "{text}"
    );
    // The program's output stays as it printed it.
    assert!(text.contains("+ TODO: create the semaphore set"), "{text}");
    assert!(!text.contains("likely mistake"), "{text}");
}
