//! The student commands as a student meets them, without a VM: a pipe that
//! closes early, a step mistyped, a hint without a step, an editor's files
//! beside the exercise, a compile error.

use nslab_tests::{stdout, temp_progress, xtask};
use std::process::{Command, Stdio};
use xtask::course::Course;

/// `cargo xtask progress | head -1`: the pipe closes, xtask leaves quietly
/// as a program killed by SIGPIPE would (128 + 13), without a panic.
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let progress = temp_progress();
    for args in [&["progress"][..], &["hint", "sem"]] {
        let mut child = Command::new(nslab_tests::xtask_bin())
            .args(args)
            .env("NSLAB_PROGRESS", &progress)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before xtask writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {said}");
        assert!(said.is_empty(), "{args:?}: {said}");
    }
}

#[test]
fn a_mistyped_step_gets_the_closest_and_demonstrations_are_not_steps() {
    let progress = temp_progress();
    for (args, near) in [
        (&["hint", "sme"][..], "sem"),
        (&["verify", "cmnps"], "cmpns"),
        (&["reset", "containre"], "container"),
        (&["run", "kernell"], "kernel"),
    ] {
        let out = xtask(args, &[], &progress);
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(
            said.contains(&format!("did you mean {near}?")),
            "{args:?}: {said}"
        );
        // `kernel` is a demonstration: listed only where it can be run.
        assert_eq!(
            said.contains("kernel"),
            args[0] == "run",
            "{args:?}: {said}"
        );
    }
    let out = xtask(&["hint", "zzzzzz"], &[], &progress);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("did you mean"), "{said}");
}

#[test]
fn hint_without_a_step_is_for_the_first_step_not_passed() {
    let progress = temp_progress();
    let out = xtask(&["hint"], &[], &progress);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("Hint 1 of "), "{}", stdout(&out));
    assert!(stdout(&out).contains(" for sem:"), "{}", stdout(&out));
}

/// An editor's swap and backup files change nothing that `watch` or a
/// pass looks at, and neither do comments or blank lines; code does.
#[test]
fn editor_files_and_comments_leave_the_exercise_as_it_was() {
    let course = Course::load().unwrap();
    let step = course.find("cmpns").unwrap();
    let digest = || xtask::progress::digest(step).unwrap();
    let before = digest();
    let dir = xtask::root().join("exercises/cmpns/src");
    let swap = dir.join(".lib.rs.swp");
    let backup = dir.join("lib.rs~");
    std::fs::write(&swap, "b0VIM").unwrap();
    std::fs::write(&backup, "fn old() {}").unwrap();
    let after = digest();
    std::fs::remove_file(&swap).unwrap();
    std::fs::remove_file(&backup).unwrap();
    assert_eq!(before, after);
    // A comment and a blank line in a copy of the code: the same code.
    let text = std::fs::read_to_string(dir.join("lib.rs")).unwrap();
    let code = xtask::exercise::code_digest(&text).unwrap();
    let commented = text.replacen('\n', "\n// a note of mine\n\n", 1);
    assert_eq!(xtask::exercise::code_digest(&commented).unwrap(), code);
    let changed = text.replacen("fn ", "fn  _x() {}\nfn ", 1);
    assert_ne!(xtask::exercise::code_digest(&changed).unwrap(), code);
}
