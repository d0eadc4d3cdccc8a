//! The students' commands: verify, run, shell, hint, progress, reset.
//! What they say is in the student's language: each message is English in
//! [`crate::i18n::msg`], shown through [`tr!`].

use super::{BROKEN, Say};
use crate::course::{Course, Step, Variant};
use crate::exercise::{self, State};
use crate::i18n::msg;
use crate::lab::VmEnd;
use crate::lab::guest::Diagnostic;
use crate::plan::{self, Audience};
use crate::progress::Progress;
use crate::setup;
use crate::verdict::Verdict;
use crate::{root, tr};
use anyhow::Result;
use std::process::ExitCode;

fn variant(solution: bool) -> Variant {
    if solution {
        Variant::Solution
    } else {
        Variant::Exercise
    }
}

/// The step to work on: the one named, or the first not passed.
fn current_step(course: &Course, id: Option<&str>) -> Result<Option<Step>> {
    let progress = Progress::load();
    Ok(match id {
        Some(id) => Some(course.exercise_step(id)?.clone()),
        None => course
            .step
            .iter()
            .find(|s| !progress.has_passed(s))
            .cloned(),
    })
}

/// `cargo xtask verify [STEP]`: the student's exercise in the VM.
pub fn verify(id: Option<String>) -> Result<ExitCode> {
    crate::lab::check_environment()?;
    let course = Course::load()?;
    let Some(step) = current_step(&course, id.as_deref())? else {
        println!("{}", tr!(msg::ALL_PASSED));
        return Ok(ExitCode::SUCCESS);
    };
    verify_step(course, &step)
}

/// Verify one step's exercise, and record a pass in the progress.
fn verify_step(course: Course, step: &Step) -> Result<ExitCode> {
    let mut progress = Progress::load();
    println!(
        "{}",
        tr!(msg::VERIFYING, step = step.id, title = step.title_tr())
    );
    let jobs = plan::plan(std::slice::from_ref(step), Audience::Exercises)?;
    let lab = setup::lab(&course, &plan::builds(&jobs))?;
    let say = Say { json: false };
    let files = exercise::derive_step(step)?;
    for line in your_warnings(&lab, step, &files) {
        say.line(line.trim_end());
    }
    let outside = outside_edits(&files);
    for line in &outside {
        say.line(line);
    }
    let [job] = jobs.as_slice() else {
        anyhow::bail!("verify plans one run, not {}", jobs.len());
    };
    let mut outcome = super::run_job(&course, &lab, job);
    if !outside.is_empty() {
        blame_outside_first(&mut outcome, step);
    }
    say.line(&crate::report::describe(&outcome));
    match &outcome.verdict {
        Verdict::Pass => {}
        Verdict::Fail { .. } => {
            // (a pass stays recorded: it counts again as soon as the
            // exercise is once more the code that passed)
            let not_yet = match outcome.unbuilt() {
                true => msg::NOT_YET_UNBUILT,
                false => msg::NOT_YET,
            };
            println!("\n{}", tr!(not_yet, step = step.id));
            return Ok(ExitCode::FAILURE);
        }
        Verdict::Broken(_) => {
            println!("\n{}", tr!(msg::COULD_NOT_RUN, step = step.id));
            return Ok(ExitCode::from(BROKEN));
        }
    }
    progress.mark_passed(step)?;
    progress.save()?;
    let next = course.step.iter().find(|s| !progress.has_passed(s));
    match next {
        Some(next) => println!(
            "\n{}",
            tr!(
                msg::PASSED_NEXT,
                step = step.id,
                next = next.id,
                title = next.title_tr()
            )
        ),
        None => println!("\n{}", tr!(msg::PASSED_ALL, step = step.id)),
    }
    Ok(ExitCode::SUCCESS)
}

/// What to say of the compiler's warnings about the student's own code,
/// when the exercise of `step` compiled: a heading, then each rendered
/// warning; nothing when there are none. See [`your_own`].
fn your_warnings(lab: &crate::lab::Lab, step: &Step, files: &[exercise::Derived]) -> Vec<String> {
    let package = step.package(Variant::Exercise);
    if lab.build_error(&package).is_some() {
        return Vec::new();
    }
    let warnings = your_own(files, lab.exercise_messages(&package));
    match warnings.is_empty() {
        true => warnings,
        false => std::iter::once(tr!(msg::YOUR_WARNINGS))
            .chain(warnings)
            .collect(),
    }
}

/// The compiler's warnings about the student's own code, rendered: those
/// on a line of a TODO region or of a change outside them, and those that
/// name something a region the student changed uses in the solution (the
/// import left unused by `lstat` in place of `stat`). The others are the
/// untouched exercise's (its TODOs leave names unused) and stay unsaid.
fn your_own(files: &[exercise::Derived], messages: &[Diagnostic]) -> Vec<String> {
    let mut shown = Vec::new();
    for message in messages.iter().filter(|m| !m.is_error()) {
        let Some((file, line)) = &message.at else {
            continue;
        };
        let Some(derived) = files.iter().find(|f| f.path == root().join(file)) else {
            continue;
        };
        let Some(edits) = derived.edits() else {
            continue;
        };
        let named_by_work = || {
            edits.worked.iter().any(|&r| {
                derived.regions().get(r).is_some_and(|region| {
                    message.names.iter().any(|name| {
                        let item = name.rsplit("::").next().unwrap_or(name);
                        crate::solvable::names(&region.solution, item)
                    })
                })
            })
        };
        if edits.region_lines.contains(line)
            || edits.outside.iter().any(|o| o.line == *line)
            || named_by_work()
        {
            shown.push(message.rendered.clone());
        }
    }
    shown
}

/// The lines that name the student's changes outside the TODO regions,
/// file by file (comments and whitespace are no change); empty when there
/// are none.
fn outside_edits(files: &[exercise::Derived]) -> Vec<String> {
    let mut lines = Vec::new();
    for file in files {
        let Some(edits) = file.edits() else { continue };
        if edits.outside.is_empty() {
            continue;
        }
        let path = file.path.strip_prefix(root()).unwrap_or(&file.path);
        lines.push(tr!(msg::OUTSIDE_EDITS, path = path.display()));
        for edit in &edits.outside {
            let line = edit.line;
            lines.push(format!(
                "  {}",
                match (&edit.was, &edit.now) {
                    (Some(was), Some(now)) => {
                        tr!(msg::OUTSIDE_CHANGED, line = line, was = was, now = now)
                    }
                    (None, Some(now)) => tr!(msg::OUTSIDE_ADDED, line = line, now = now),
                    (Some(was), None) => tr!(msg::OUTSIDE_REMOVED, line = line, was = was),
                    (None, None) => continue,
                }
            ));
        }
    }
    lines
}

/// A failure after changes outside the regions says so first, and a
/// timeout is not blamed on a program that waits for nothing.
fn blame_outside_first(outcome: &mut crate::verdict::Outcome, step: &Step) {
    let Verdict::Fail { details, .. } = &mut outcome.verdict else {
        return;
    };
    if outcome.end.is_none() {
        return;
    }
    let timed_out = tr!(msg::TIMED_OUT, seconds = step.timeout);
    let rest: Vec<String> = details
        .lines()
        .map(|line| match line == timed_out {
            true => tr!(msg::TIMED_OUT_OUTSIDE, seconds = step.timeout),
            false => line.to_string(),
        })
        .collect();
    *details = format!(
        "{}\n{}",
        tr!(msg::OUTSIDE_FIRST, step = step.id),
        rest.join("\n")
    );
}

/// `cargo xtask watch [STEP]`: verify a step each time its exercise is
/// saved; without a step, the first step not passed, going on to the next
/// once it passes; with one, that step only. Ctrl-C leaves. File events
/// wake it up where they work (inotify); it also looks every second, for
/// file systems where they do not (shared folders of a VM, WSL). What
/// counts as a change is the digest of the exercise's code, so an editor's
/// swap and backup files (`.main.rs.swp`, `main.rs~`) rerun nothing. The
/// screen is cleared before each verify, on a terminal.
pub fn watch(id: Option<String>) -> Result<ExitCode> {
    use notify::Watcher;
    crate::lab::check_environment()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
        let _ = tx.send(());
    })
    .ok();
    let given = id.is_some();
    let mut step_id = id;
    loop {
        let course = Course::load()?;
        let Some(step) = current_step(&course, step_id.as_deref())? else {
            println!("{}", tr!(msg::ALL_PASSED));
            return Ok(ExitCode::SUCCESS);
        };
        let dir = root().join("exercises").join(&step.id);
        let last = crate::progress::digest(&step)?;
        clear_screen();
        let passed = verify_step(course, &step)? == ExitCode::SUCCESS;
        if passed && !given {
            // On to the first step not passed yet.
            continue;
        }
        if passed {
            step_id = Some(step.id.clone());
        }
        let events = watcher
            .as_mut()
            .is_some_and(|w| w.watch(&dir, notify::RecursiveMode::Recursive).is_ok());
        let how = tr!(if events {
            msg::WATCH_EVENTS
        } else {
            msg::WATCH_POLLING
        });
        let waiting = if passed {
            msg::WATCH_PASSED
        } else {
            msg::WATCHING
        };
        println!("\n{}", tr!(waiting, step = step.id, how = how));
        loop {
            let _ = rx.recv_timeout(std::time::Duration::from_secs(1));
            // Let an editor finish writing, then drop the other events.
            std::thread::sleep(std::time::Duration::from_millis(150));
            while rx.try_recv().is_ok() {}
            if crate::progress::digest(&step)? != last {
                break;
            }
        }
        if let Some(w) = watcher.as_mut() {
            let _ = w.unwatch(&dir);
        }
    }
}

/// Clear the terminal, as rustlings' watch does; nothing when stdout is
/// not a terminal (a pipe, a log).
fn clear_screen() {
    use std::io::{IsTerminal, Write};
    if std::io::stdout().is_terminal() {
        print!("\x1b[H\x1b[2J\x1b[3J");
        let _ = std::io::stdout().flush();
    }
}

/// `cargo xtask run STEP [--solution] [-- CMD…]`.
pub fn run(id: &str, solution: bool, args: &[String]) -> Result<ExitCode> {
    crate::lab::check_environment()?;
    let course = Course::load()?;
    let step = course.find(id)?.clone();
    let variant = variant(solution);
    let lab = setup::lab(&course, &[(step.clone(), variant)])?;
    let script = if args.is_empty() {
        setup::scenario(&step)?
    } else {
        format!("exec {}\n", shell_words::join(args))
    };
    if let Some(errors) = lab.build_error(&step.package(variant)) {
        eprintln!("{}\n{}", tr!(msg::DOES_NOT_COMPILE), errors.trim_end());
        return Ok(ExitCode::FAILURE);
    }
    if variant == Variant::Exercise {
        for line in your_warnings(&lab, &step, &exercise::derive_step(&step)?) {
            eprintln!("{}", line.trim_end());
        }
    }
    // What the programs print is shown as it comes; Ctrl-C keeps it. A
    // command that waits (clonens waits for a signal) ends at the timeout:
    // say so first.
    if !args.is_empty() {
        eprintln!("{}", tr!(msg::RUN_LIMIT, seconds = step.timeout));
    }
    let run = lab.run_streaming(&setup::payload(&course, &step, variant, &script)?)?;
    let mut ends: Vec<String> = run.report.end().iter().map(|e| e.to_string()).collect();
    ends.extend(
        run.report
            .leaks()
            .map(|(what, n)| crate::normalize::leak(what, n)),
    );
    if ends.is_empty() {
        ends.push(tr!(msg::NO_REPORT));
    }
    eprintln!(
        "{}",
        tr!(
            msg::RUN_SUMMARY,
            step = step.id,
            accel = run.accel.name(),
            seconds = format!("{:.2}", run.seconds),
            ends = ends.join(", ")
        )
    );
    if run.end != VmEnd::Done {
        eprintln!("{}\n{}", run.end, run.failure_details());
        return Ok(ExitCode::from(if run.end.may_be_the_programs() {
            1
        } else {
            BROKEN
        }));
    }
    Ok(match run.report.end() {
        Some(end) if end.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

/// `cargo xtask shell [STEP] [--solution]`.
pub fn shell(id: Option<String>, solution: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    let step = match id {
        Some(id) => course.find(&id)?.clone(),
        None => course
            .step
            .last()
            .ok_or_else(|| anyhow::anyhow!("the course has no step"))?
            .clone(),
    };
    crate::lab::check_environment()?;
    crate::lab::require_terminal(&step.id)?;
    let variant = variant(solution);
    let lab = setup::lab(&course, &[(step.clone(), variant)])?;
    let banner = match variant {
        Variant::Solution => msg::SHELL_SOLUTIONS,
        _ => msg::SHELL_EXERCISES,
    };
    eprintln!("{}", tr!(banner, accel = lab.accel.name(), step = step.id));
    lab.shell(&setup::payload(&course, &step, variant, "")?, &step.id)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask hint [STEP]`: one more hint at each call, for the step
/// named or the first not passed.
pub fn hint(id: Option<String>) -> Result<ExitCode> {
    let course = Course::load()?;
    let Some(step) = current_step(&course, id.as_deref())? else {
        println!("{}", tr!(msg::ALL_PASSED));
        return Ok(ExitCode::SUCCESS);
    };
    let id = step.id.as_str();
    let mut progress = Progress::load();
    let shown = progress.hints.get(id).copied().unwrap_or(0);
    let hints = step.hints_tr();
    let now = (shown + 1).min(hints.len());
    for (n, hint) in hints.iter().take(now).enumerate() {
        let title = tr!(msg::HINT, n = n + 1, total = hints.len(), step = id);
        println!("{title}\n  {hint}\n");
    }
    if now == hints.len() {
        println!("{}", tr!(msg::LAST_HINT));
    }
    progress.hints.insert(id.to_string(), now);
    progress.save()?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask progress`.
pub fn progress() -> Result<ExitCode> {
    let course = Course::load()?;
    let progress = Progress::load();
    for step in &course.step {
        let mark = if progress.has_passed(step) {
            "[x]"
        } else if progress.passed_before(step) {
            "[~]"
        } else {
            "[ ]"
        };
        let mut notes = Vec::new();
        if progress.passed_before(step) {
            notes.push(tr!(msg::CHANGED_SINCE));
        }
        if let Some(n) = progress.hints.get(&step.id) {
            notes.push(tr!(msg::HINTS_USED, n = n));
        }
        let notes = match notes.is_empty() {
            true => String::new(),
            false => format!("  ({})", notes.join("; ")),
        };
        println!("{mark} {:<10} {}{notes}", step.id, step.title_tr());
    }
    let done = course
        .step
        .iter()
        .filter(|s| progress.has_passed(s))
        .count();
    println!(
        "\n{}",
        tr!(msg::STEPS_PASSED, done = done, total = course.step.len())
    );
    if let Some(next) = course.step.iter().find(|s| !progress.has_passed(s)) {
        if progress.passed_before(next) {
            println!("{}", tr!(msg::NEXT_AGAIN, step = next.id));
        } else {
            println!(
                "{}",
                tr!(msg::NEXT_STEP, step = next.id, teaches = next.teaches_tr())
            );
            println!("{}", tr!(msg::NEXT_READ, step = next.id));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask reset STEP [--yes]`: the exercise as it was at the start.
pub fn reset(id: &str, yes: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    let step: &Step = course.exercise_step(id)?;
    let changed: Vec<_> = exercise::derive_step(step)?
        .into_iter()
        .filter(|f| f.state() != State::Untouched)
        .collect();
    let mut progress = Progress::load();
    if changed.is_empty() {
        println!("{}", tr!(msg::ALREADY_PRISTINE, step = id));
        return Ok(ExitCode::SUCCESS);
    }
    for file in &changed {
        let path = file.path.strip_prefix(root()).unwrap_or(&file.path);
        println!("{}", tr!(msg::CHANGED_FILE, path = path.display()));
    }
    if !yes {
        use std::io::{BufRead, Write};
        print!("{}", tr!(msg::DISCARD_ASK));
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        // Yes in either language, whichever the question was asked in.
        let answer = answer.trim().to_lowercase();
        if !matches!(answer.as_str(), "y" | "yes" | "o" | "oui") {
            println!("{}", tr!(msg::NOTHING_CHANGED));
            return Ok(ExitCode::FAILURE);
        }
    }
    exercise::write_step(step, true)?;
    progress.withdraw(step);
    progress.save()?;
    println!("{}", tr!(msg::RESTORED, step = id));
    Ok(ExitCode::SUCCESS)
}
